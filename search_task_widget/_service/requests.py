"""Where the poller's requests run: small worker threads, a few per service.

The poller thread only plans and tells widgets what happened; every HTTP request runs on a
worker thread from here, so that no answer (a 1-byte-a-second trickle, a chunked body that
never ends, a proxy that accepts and says nothing) can hold up the watches of another
service, index or task. The bounds:

* at most :data:`PER_SERVICE` requests in flight per service (base URL): a misbehaving
  service occupies that many workers at most, and keeps its own watches waiting, not
  those of other services;
* at most :data:`MAX_WORKERS` workers in all, except that a service with a request
  waiting and none running always gets a worker, even past that cap: otherwise enough
  slow services (50 trickling ones, each with its few requests) would hold every worker
  and a healthy service would wait behind them. So the threads are bounded by
  ``MAX_WORKERS`` plus the number of services watched, and a free worker takes the
  request of a service with none running first. Idle workers end after
  :data:`IDLE_SECONDS`;
* each request has a whole-request deadline in the client (``TaskClient.deadline``); a
  worker that overruns it by :data:`OVERDUE_GRACE` seconds anyway (a stuck DNS lookup or
  sign-in renewal) is reported as a timeout to its watches, and its answer, if it ever
  comes, is dropped.

Finished requests are queued and applied by the poller thread (:meth:`RequestRunner.finished`),
so listeners are still called from that one thread only.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("search_task_widget")

#: Requests in flight at once to one service (base URL).
PER_SERVICE = 4
#: Worker threads at most, for all services together.
MAX_WORKERS = 32
#: A worker with nothing to do for this many seconds ends.
IDLE_SECONDS = 30.0
#: Seconds past a request's own deadline after which its watches are told it timed out.
OVERDUE_GRACE = 5.0


@dataclass(eq=False)
class Job:
    """One request: ``call`` runs on a worker; ``deliver(result, error)`` on the poller."""

    service: str
    call: Callable[[], Any]
    deliver: Callable[[Any, BaseException | None], None]
    deadline: float  # time.monotonic() after which the job is overdue
    result: Any = None
    error: BaseException | None = None
    started: float = field(default_factory=time.monotonic)
    abandoned: bool = False  # reported as overdue: its late answer is dropped
    serial: int = field(default_factory=itertools.count().__next__)


class RequestRunner:
    """Runs :class:`Job` calls on worker threads with per-service limits.

    Args:
        wake: called (from a worker) when a job finished, so the poller applies it.
        per_service: requests in flight at once per service.
        max_workers: worker threads at most.
    """

    def __init__(
        self,
        wake: Callable[[], None],
        *,
        per_service: int = PER_SERVICE,
        max_workers: int = MAX_WORKERS,
    ) -> None:
        self._wake = wake
        self.per_service = per_service
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._queue: deque[Job] = deque()
        self._running: dict[int, Job] = {}  # serial -> job, queued or running
        self._busy: dict[str, int] = {}  # service -> jobs a worker is running now
        self._done: deque[Job] = deque()
        self._workers = 0
        self._idle = 0
        self._closed = False

    def in_flight(self, service: str) -> int:
        """Requests to ``service`` queued or running."""
        with self._lock:
            return sum(1 for job in self._running.values() if job.service == service)

    def oldest(self, service: str) -> float | None:
        """When the oldest request to ``service`` still in flight started (monotonic)."""
        with self._lock:
            starts = [j.started for j in self._running.values() if j.service == service]
        return min(starts) if starts else None

    def has_room(self, service: str) -> bool:
        return self.in_flight(service) < self.per_service

    def submit(self, job: Job) -> None:
        """Queue ``job``; a worker picks it up (started if none is idle)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the request runner was closed")
            self._running[job.serial] = job
            self._queue.append(job)
            if len(self._queue) > self._idle and self._may_add_worker(job.service):
                self._workers += 1
                threading.Thread(
                    target=self._work_loop, name="search-task-request", daemon=True
                ).start()
            self._work.notify()

    def _may_add_worker(self, service: str) -> bool:
        """One worker per queued job while the cap allows; past it, one for a service
        with nothing running, so that a healthy service never waits behind slow ones
        (lock held)."""
        if self._workers < self.max_workers:
            return True
        waiting = sum(1 for queued in self._queue if queued.service == service)
        return not self._busy.get(service) and waiting == 1  # past the cap: one each

    def finished(self) -> list[Job]:
        """Jobs done since the last call (not abandoned ones), for the poller to apply."""
        with self._lock:
            done = [job for job in self._done if not job.abandoned]
            self._done.clear()
        return done

    def overdue(self, now: float) -> list[Job]:
        """Jobs past their deadline plus :data:`OVERDUE_GRACE`, each returned once and
        then abandoned (the worker may still be stuck; its service slot stays taken)."""
        with self._lock:
            late = [
                job
                for job in self._running.values()
                if not job.abandoned and now > job.deadline + OVERDUE_GRACE
            ]
            for job in late:
                job.abandoned = True
        return late

    def close(self) -> None:
        """Let workers end once the queue is empty (running requests finish on their own)."""
        with self._lock:
            self._closed = True
            self._work.notify_all()

    @property
    def workers(self) -> int:
        with self._lock:
            return self._workers

    # -- workers --------------------------------------------------------------------------

    def _work_loop(self) -> None:
        while True:
            job = self._next_job()
            if job is None:
                return
            try:
                job.result = job.call()
            except BaseException as error:  # reported to its watches
                job.error = error
            with self._lock:
                self._running.pop(job.serial, None)
                self._busy[job.service] -= 1
                if not self._busy[job.service]:
                    del self._busy[job.service]
                if not job.abandoned:
                    self._done.append(job)
            self._wake()

    def _next_job(self) -> Job | None:
        with self._lock:
            while not self._queue:
                if self._closed:
                    self._workers -= 1
                    return None
                self._idle += 1
                woken = self._work.wait(IDLE_SECONDS)
                self._idle -= 1
                if not woken and not self._queue:
                    self._workers -= 1
                    return None
            job = self._fairest_job()
            self._busy[job.service] = self._busy.get(job.service, 0) + 1
            return job

    def _fairest_job(self) -> Job:
        """The first queued job of a service with nothing running, else the oldest: the
        worker a healthy service's job was started for must not run a slow one's
        (lock held, queue not empty)."""
        for position, job in enumerate(self._queue):
            if not self._busy.get(job.service):
                del self._queue[position]
                return job
        return self._queue.popleft()
