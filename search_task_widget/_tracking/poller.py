"""The background poller: one thread that watches every task in the kernel.

Each watched task is a :class:`Watch`. A single daemon thread wakes when some watch is due,
spends from a global :class:`~.schedule.RateBudget` (default 5 requests/s for all watches
together) and asks the service, batching watches that share an index into one
``GET /v1/task_list/<index_id>``. Results go to each watch's :class:`Listener` (the widget).

Why one thread and not one per task: Globus Search allows about 5-10 requests per second per
client, so hundreds of independent loops would be throttled and would leak threads. Why a
thread at all: the kernel's event loop is blocked while a cell runs, and a widget must keep
moving while the user works in other cells.

The requests themselves run on worker threads (:mod:`.requests`: a few per service, each
request with a whole-request deadline), so no answer can hold this thread up; their
outcomes come back to this thread, which alone calls listeners. A 429/503 with
``Retry-After`` pauses the watches of that service only.

The thread starts inside a copy of the caller's :mod:`contextvars` context: on ipykernel
7.0 a plain thread dies on its first widget update (LookupError on ``shell_parent``). Under
a marimo release that needs one, it is a ``marimo.Thread`` (see :mod:`.marimo`). Each
request and each listener call is guarded, and problems reach the user through the
listener (widget state) and :mod:`logging`; should the thread die anyway, every watch is
ended with an error saying so, and the next watch added starts a new thread.
"""

from __future__ import annotations

import atexit
import contextvars
import copy
import itertools
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .._model.errors import SearchTaskError, TaskNetworkError
from .._model.task import Task
from .._service.client import TaskClient
from .._service.requests import OVERDUE_GRACE, Job, RequestRunner
from .cells import follow_executions, in_current_execution
from .marimo import poller_thread_class, session_key
from .schedule import (
    MAX_RETRY_AFTER,
    AdaptiveInterval,
    Backoff,
    Clock,
    RateBudget,
    SystemClock,
    check_interval,
)

log = logging.getLogger("search_task_widget")

#: Give up on a watch after this many seconds of uninterrupted transient trouble.
DEFAULT_GIVE_UP_AFTER = 300.0
#: Requests per second for all watches together (Search allows about 5-10 per client).
DEFAULT_RATE = 5.0
#: Seconds a due watch waits when its service already has its fill of requests in flight.
BUSY_RETRY = 0.5
#: Seconds of precedence that new and just-changed tasks get when the budget is short.
FRESH_LEAD = 2.0
#: A watch due this close to now is due now: waking for a rounding error would spin.
DUE_SLACK = 1e-6


class Listener(Protocol):
    """Receives what the poller learns about one task. Called on the poller thread."""

    def on_task(self, task: Task, schedule: Schedule) -> None:
        """A Task document was fetched (changed or not)."""

    def on_trouble(self, error: SearchTaskError, schedule: Schedule) -> None:
        """A transient failure; polling continues at ``schedule.next_check``."""

    def on_fatal(self, error: SearchTaskError) -> None:
        """Polling stopped for good on ``error`` (403, 404, gave up, ...)."""

    # Optional: ``on_round_end()`` is called once after a poll round in which this
    # listener was told something (see :meth:`Poller.tick`).


@dataclass(frozen=True)
class Schedule:
    """When the poller checked and will check a task next, for people (epoch seconds)."""

    checked_at: float
    next_check: float | None  # None once polling has ended
    interval: float
    changed: bool = False
    failures: int = 0


@dataclass(eq=False)
class Watch:
    """One watched task: its client, schedule and failure bookkeeping."""

    task_id: str
    client: TaskClient
    listener: weakref.ReferenceType[Listener] | Listener
    interval: AdaptiveInterval
    index_id: str | None = None
    next_due: float = 0.0  # monotonic time this task itself needs looking at again
    added_at: float = 0.0  # monotonic time the poller began watching (the task's "age")
    fresh: bool = True  # new or just changed: a head start when the budget is short
    failures: int = 0
    trouble_since: float | None = None
    last_task: Task | None = None
    looked_in: set[str] = field(default_factory=set)  # index lists searched for this task
    # Index lists that lacked this task at the last look: asked for on its own until
    # its own request answered (so a list that never holds it cannot starve it).
    not_listed: set[str] = field(default_factory=set)
    active: bool = True
    serial: int = field(default_factory=itertools.count().__next__)

    def deliver(self) -> Listener | None:
        listener = self.listener
        if isinstance(listener, weakref.ReferenceType):
            return listener()
        return listener


@dataclass(frozen=True)
class _Seen:
    """One answer about one task, to be told at the end of the tick."""

    watch: Watch
    task: Task
    changed: bool
    now: float  # monotonic
    wall: float  # epoch


class Poller:
    """Polls the tasks of every widget that uses it from one background thread (widgets
    register a :class:`Watch` per task through ``_add_all``; nothing to call for users).

    Args:
        rate: requests per second for all watches together.
        burst: requests that may be sent at once before ``rate`` applies (1: never more
            than ``rate`` in any one-second window).
        give_up_after: seconds of continuous transient trouble before a watch stops with
            a fatal error (a documented end, so ``wait()`` cannot hang forever on an outage).
        clock: time source; tests pass a fake one and call :meth:`tick` directly.
        backoff: the retry policy for transient trouble.
        threaded: run rounds on the background thread, and requests on worker threads
            (see :mod:`.requests`); False leaves every round to :meth:`tick` calls, which
            then make their requests themselves (tests on a fake clock).
    """

    def __init__(
        self,
        *,
        rate: float = DEFAULT_RATE,
        burst: float = 1.0,
        give_up_after: float = DEFAULT_GIVE_UP_AFTER,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        threaded: bool = True,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.threaded = threaded
        if isinstance(burst, bool) or not isinstance(burst, (int, float)) or not burst >= 0:
            raise ValueError(f"burst must be a number of requests, got {burst!r}")
        self.budget = RateBudget(rate, burst, self.clock)
        self.give_up_after = check_interval("give_up_after", give_up_after, maximum=1e9)
        self.backoff = backoff or Backoff()
        self._watches: dict[int, Watch] = {}
        self._retired: list[TaskClient] = []  # clients to close between requests
        self._round: dict[int, object] = {}  # listeners told something in this tick
        self._seen: list[_Seen] = []  # answers of this tick, reported at its end
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._runner = RequestRunner(self._wake.set) if threaded else None
        # base URL -> (monotonic time until which it is paused, the answer that asked)
        self._paused: dict[str, tuple[float, SearchTaskError]] = {}
        # Watches inherited by a forked child: polled there only once waited for.
        self._parked: dict[int, Watch] = {}
        _live_pollers.add(self)

    # -- registration (any thread) ----------------------------------------------------

    def _add(self, watch: Watch) -> Watch:
        """Start polling ``watch``."""
        self._add_all([watch])
        return watch

    def _add_all(self, watches: Iterable[Watch]) -> None:
        """Start polling ``watches`` together: the first round sees them all, so tasks of
        one index are batched from the start."""
        with self._lock:
            if self._closed:
                raise RuntimeError("this poller was shut down")
            now = self.clock.monotonic()
            for watch in watches:
                if watch.active:  # else removed before it was ever added: nothing to poll
                    watch.next_due = watch.added_at = now
                    self._watches[watch.serial] = watch
            if self.threaded and self._watches and not self._thread_alive():
                self._start_thread()
        self._wake.set()

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _ensure_polling(self, watches: Iterable[Watch]) -> None:
        """Make sure ``watches`` are polled by a live thread: those a fork parked come
        back, and a thread that is gone without saying so (it did not follow a fork) is
        started again. :meth:`TaskGroup.wait_idle` calls it at every slice of its wait,
        so no ``wait()`` hangs on a thread that no longer exists."""
        with self._lock:
            for watch in watches:
                if self._parked.pop(watch.serial, None) is not None and watch.active:
                    watch.next_due = self.clock.monotonic()
                    self._watches[watch.serial] = watch
            alive = self._thread_alive()
            if self.threaded and self._watches and not self._closed and not alive:
                self._start_thread()
        self._wake.set()

    def _after_fork_in_child(self) -> None:
        """In a forked child, only the forking thread exists: this poller's thread and
        workers are gone, its locks may be held by threads that are no longer there, and
        its requests in flight will never answer. Fresh locks, no thread, a new request
        runner; the inherited watches are parked: their widgets belong to the parent,
        which goes on polling them, so a child (a multiprocessing worker) polls them only
        if it waits for them (:meth:`_ensure_polling`), and new watches as usual."""
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread = None
        if self._runner is not None:
            self._runner = RequestRunner(self._wake.set)
        self._parked.update(self._watches)
        self._watches = {}

    def _remove(self, watch: Watch) -> None:
        """Stop polling ``watch`` (idempotent). No listener call for it happens afterwards."""
        with self._lock:
            watch.active = False
            self._watches.pop(watch.serial, None)
            self._parked.pop(watch.serial, None)
        self._wake.set()

    def _retire(self, client: TaskClient) -> None:
        """Close ``client`` once no request of this poller can be using it.

        Requests run on the poller thread, so that thread closes retired clients between
        requests; closing one from another thread could cut a request off mid-flight.
        """
        with self._lock:
            deferred = self._thread_alive()
            if deferred:
                self._retired.append(client)
        if not deferred:
            client.close()
        self._wake.set()

    def _close_retired(self) -> None:
        with self._lock:
            retired, self._retired = self._retired, []
        for client in retired:
            client.close()

    @property
    def watch_count(self) -> int:
        with self._lock:
            return len(self._watches)

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every watch and the thread (used at interpreter exit)."""
        with self._lock:
            self._closed = True
            for watch in self._watches.values():
                watch.active = False
            self._watches.clear()
            thread = self._thread
        if self._runner is not None:
            self._runner.close()
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- the thread -------------------------------------------------------------------

    def _start_thread(self) -> None:
        follow_executions()  # so that news reaches headless executors (see ._cells)
        context = contextvars.copy_context()
        thread_class = poller_thread_class()
        self._thread = thread_class(
            target=context.run, args=(self._run,), name="search-task-poller", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as error:  # reported to every widget instead
            self._died(error)

    def _died(self, error: BaseException) -> None:
        """The thread is ending on an error nothing caught: every watch ends with it, and
        says so, so no widget keeps claiming to poll. The next add() starts a new thread."""
        log.error("search_task_widget poller thread stopped", exc_info=error)
        with self._lock:
            watches = list(self._watches.values())
            self._watches.clear()
            self._thread = None
        stopped = SearchTaskError(
            f"the background poller stopped unexpectedly ({type(error).__name__}); "
            "call start() to resume",
            code="PollerStopped",
        )
        self._round = {}
        for watch in watches:
            watch.active = False
            self._notify(watch, "on_fatal", copy.copy(stopped))
        self._end_round()

    def _loop(self) -> None:
        while True:
            self._close_retired()
            with self._lock:
                if not self._watches or self._closed:
                    self._thread = None
                    retired, self._retired = self._retired, []
                    break
            # Clear before planning: a watch added while tick() runs must wake the next wait.
            self._wake.clear()
            try:
                delay = self.tick()
            except Exception:  # never let the thread die silently
                log.exception("search_task_widget poller: unexpected error; continuing")
                delay = 1.0
            if delay > 0:
                self.clock.wait(self._wake, delay)
        for client in retired:
            client.close()

    # -- one round (the poller thread, or a test) -------------------------------------

    def tick(self) -> float:
        """Poll what is due now, within the budget; return seconds until the next round.

        Listeners told something during the round then get ``on_round_end()`` (if they
        have it), so a view of many tasks can send one message per round.
        """
        self._round = {}
        try:
            self._apply_answers()
            return self._poll_due()
        finally:
            self._report_seen()
            self._end_round()

    def _poll_due(self) -> float:
        now = self.clock.monotonic()
        due = self._due(now)
        for client, index_id, group, seekers in self._batches(due):
            if not self.budget.try_take():
                return self._next_delay()
            for watch in seekers:
                watch.looked_in.add(index_id)
            self._poll_index(client, index_id, group)
        for watch in due:
            if not watch.active or watch.next_due > now + DUE_SLACK:
                continue  # served by a task list above (or asked for), or removed meanwhile
            if not self.budget.try_take():
                break
            self._poll_one(watch)
        return self._next_delay()

    def _due(self, now: float) -> list[Watch]:
        with self._lock:
            due = [w for w in self._watches.values() if w.next_due <= now + DUE_SLACK]
        # Most overdue first, so that no task starves when the budget is short; new and
        # just-changed tasks (the ones most likely to move) get a bounded head start.
        due.sort(key=lambda w: (w.next_due - (FRESH_LEAD if w.fresh else 0.0), w.serial))
        return due

    def _next_delay(self) -> float:
        with self._lock:
            if not self._watches:
                return 0.0
            soonest = min(w.next_due for w in self._watches.values())
        delay = max(0.0, soonest - self.clock.monotonic())
        return max(delay, self.budget.seconds_until_available())

    def _groups(self) -> tuple[dict[tuple[int, str], list[Watch]], dict[int, TaskClient]]:
        """Every known, listable index (per client) with the watches its list serves."""
        with self._lock:
            watches = list(self._watches.values())
        groups: dict[tuple[int, str], list[Watch]] = {}
        clients: dict[int, TaskClient] = {}
        for watch in watches:
            index = watch.index_id
            if index and index not in watch.client.unlistable_indexes:
                clients[id(watch.client)] = watch.client
                members = groups.setdefault((id(watch.client), index), [])
                if _in_its_list(watch):
                    members.append(watch)
        return groups, clients

    def _batches(
        self, due: list[Watch]
    ) -> Iterable[tuple[TaskClient, str, list[Watch], list[Watch]]]:
        """Index lists worth one ``task_list`` request each, with the watches they serve.

        An index is listed as soon as one of its watches is due, when its list serves two
        or more watches (a lone task costs a smaller single GET): one request refreshes
        them all, so the index is listed at the pace of its most urgent task and every
        member's next check follows from that answer. An index is also listed for due
        watches whose index is still unknown ("strays"): the recent tasks of an index
        already seen usually include the new ones, which then need no request of their
        own. A stray is looked for once in each known index (while tasks share indexes:
        :meth:`_worth_seeking`); one that is in none of them gets its own request. The most
        overdue lists go first when the budget is short.
        """
        groups, clients = self._groups()
        seek = self._worth_seeking()
        wanted = {(id(w.client), w.index_id) for w in due if _in_its_list(w)}
        strays = [w for w in due if not w.index_id]
        batches: list[tuple[float, TaskClient, str, list[Watch], list[Watch]]] = []
        for (client_id, index_id), members in groups.items():
            seekers = [
                w for w in strays if id(w.client) == client_id and index_id not in w.looked_in
            ]
            due_list = (client_id, index_id) in wanted and len(members) >= 2
            if due_list or (seekers and seek):
                urgency = min(w.next_due for w in members + seekers)
                batches.append((urgency, clients[client_id], index_id, members, seekers))
        batches.sort(key=lambda batch: batch[0])
        for _, client, index_id, members, seekers in batches:
            yield client, index_id, members, seekers

    def _worth_seeking(self) -> bool:
        """Whether looking for strays in known indexes is likely to pay: yes while the
        tasks seen so far share indexes, no once three or more indexes hold about one
        watched task each (then a stray is most likely in an index of its own, and a list
        request would cost as much as asking for it alone, without the answer)."""
        with self._lock:
            indexes = [w.index_id for w in self._watches.values() if w.index_id]
        distinct = len(set(indexes))
        return distinct < 3 or len(indexes) >= 1.5 * distinct

    def _poll_index(self, client: TaskClient, index_id: str, group: list[Watch]) -> None:
        if self._held_back(client, group):
            return
        self._request(
            client,
            group,
            lambda: client.get_task_list(index_id),
            lambda tasks, error: self._index_answer(client, index_id, group, tasks, error),
        )

    def _poll_one(self, watch: Watch) -> None:
        client = watch.client
        if self._held_back(client, [watch]):
            return
        self._request(
            client,
            [watch],
            lambda: client.get_task(watch.task_id),
            lambda task, error: self._task_answer(watch, task, error),
        )

    # -- running requests -------------------------------------------------------------

    def _request(
        self,
        client: TaskClient,
        watches: list[Watch],
        call: Callable[[], Any],
        deliver: Callable[[Any, BaseException | None], None],
    ) -> None:
        """Run ``call`` (here, or on a worker when threaded) and ``deliver`` its outcome
        on this thread. While it runs, its watches are not due."""
        if self._runner is None:
            try:
                result, error = call(), None
            except Exception as caught:  # delivered as trouble, never raised
                result, error = None, caught
            deliver(result, error)
            return
        in_flight_until = self.clock.monotonic() + client.deadline + OVERDUE_GRACE + 1.0
        for watch in watches:
            watch.next_due = in_flight_until
        self._runner.submit(Job(client.base_url, call, deliver, time.monotonic() + client.deadline))

    def _apply_answers(self) -> None:
        """Deliver the answers that came back since the last round, and time out the
        requests that overran their deadline (their late answers are dropped)."""
        if self._runner is None:
            return
        for job in self._runner.overdue(time.monotonic()):
            host = job.service.split("//", 1)[-1].rstrip("/")
            overdue = TaskNetworkError(f"no answer from {host} in time", code="Timeout")
            job.deliver(None, overdue)
        for job in self._runner.finished():
            if job.error is not None:
                job.error.__traceback__ = None  # the worker's frames: nothing to show
            job.deliver(job.result, job.error)

    def _held_back(self, client: TaskClient, watches: list[Watch]) -> bool:
        """True (and the budget given back) when ``client``'s service must not be asked
        now: it asked to slow down, or it has its fill of requests in flight."""
        now = self.clock.monotonic()
        service = client.base_url
        paused = self._paused.get(service)
        if paused is not None and paused[0] > now:
            self.budget.give_back()
            for watch in watches:
                notice = copy.copy(paused[1])
                notice.retry_after = None  # told of the pause; must not extend it
                self._trouble(watch, notice)
            return True
        if self._runner is None or self._runner.has_room(service):
            return False
        self.budget.give_back()
        stuck = self._stuck_error(client)
        for watch in watches:
            if stuck is not None:
                self._trouble(watch, copy.copy(stuck))
            else:
                watch.next_due = now + BUSY_RETRY
        return True

    def _stuck_error(self, client: TaskClient) -> SearchTaskError | None:
        """An error for watches kept waiting by a service whose requests overran."""
        assert self._runner is not None
        oldest = self._runner.oldest(client.base_url)
        if oldest is None or time.monotonic() - oldest <= client.deadline:
            return None
        host = client.base_url.split("//", 1)[-1].rstrip("/")
        return TaskNetworkError(
            f"{host} has not answered the requests in flight within {client.deadline:g} s",
            code="Timeout",
        )

    def _pause_left(self, service: str, now: float) -> float:
        paused = self._paused.get(service)
        if paused is None:
            return 0.0
        if paused[0] <= now:
            del self._paused[service]
            return 0.0
        return paused[0] - now

    # -- answers (this thread) --------------------------------------------------------

    def _index_answer(
        self,
        client: TaskClient,
        index_id: str,
        group: list[Watch],
        tasks: list[Task] | None,
        error: BaseException | None,
    ) -> None:
        if error is not None or tasks is None:
            self._index_failed(client, index_id, group, error)
            return
        by_id = {task.task_id: task for task in tasks}
        with self._lock:
            same_client = [w for w in self._watches.values() if w.client is client]
        for watch in same_client:
            task = by_id.get(watch.task_id)
            if task is not None:
                self._observe(watch, task)
        now = self.clock.monotonic()
        for watch in group:
            if watch.task_id not in by_id:
                # Not among the index's recent tasks: asked for on its own next.
                watch.not_listed.add(index_id)
                watch.next_due = min(watch.next_due, now)

    def _index_failed(
        self, client: TaskClient, index_id: str, group: list[Watch], error: BaseException | None
    ) -> None:
        if isinstance(error, SearchTaskError) and not error.transient:
            # No right to list (or no such list, or too large): one request per task.
            log.debug(
                "task_list of %s refused (%s); polling tasks one by one", index_id, error.code
            )
            client.unlistable_indexes.add(index_id)
            now = self.clock.monotonic()
            for watch in group:
                watch.next_due = min(watch.next_due, now)
            return
        problem = self._as_trouble(client, error, f"listing tasks of index {index_id}")
        for watch in group:
            self._trouble(watch, copy.copy(problem))

    def _task_answer(self, watch: Watch, task: Task | None, error: BaseException | None) -> None:
        if error is None and task is not None:
            watch.not_listed.clear()  # may be in its index's list by its next check
            self._observe(watch, task)
        elif isinstance(error, SearchTaskError) and not error.transient:
            self._fatal(watch, error)
        else:
            self._trouble(watch, self._as_trouble(watch.client, error, f"polling {watch.task_id}"))

    @staticmethod
    def _as_trouble(client: TaskClient, error: BaseException | None, doing: str) -> SearchTaskError:
        if isinstance(error, SearchTaskError):
            return error
        # A bug must not stop the other watches; its text may quote anything, so only
        # the kind reaches people (the log has the traceback, redacted of tokens).
        name = type(error).__name__
        log.error(
            "search_task_widget: unexpected %s %s: %s", name, doing, client.redact(str(error))
        )
        return SearchTaskError(f"internal error ({name}) {doing}", transient=True)

    # -- outcomes ---------------------------------------------------------------------

    def _observe(self, watch: Watch, task: Task) -> None:
        if not watch.active:
            return
        changed = task != watch.last_task
        now, wall = self.clock.monotonic(), self.clock.time()
        watch.interval.after_check(now, now - watch.added_at, changed=changed)
        watch.last_task, watch.fresh = task, changed
        watch.failures, watch.trouble_since = 0, None
        watch.index_id = task.index_id or watch.index_id
        if task.is_terminal:
            with self._lock:  # out of every plan now; ``active`` ends once it was told
                self._watches.pop(watch.serial, None)
        else:
            watch.next_due = now + watch.interval.current
        # Told at the end of the tick: a list answer moves the next checks of every task of
        # its index, so "next check" is only known once all of them were updated.
        self._seen.append(_Seen(watch, task, changed, now, wall))

    def _report_seen(self) -> None:
        seen, self._seen = self._seen, []
        if not seen:
            return
        plan = self._list_plan()
        for item in seen:
            watch, task = item.watch, item.task
            if not watch.active:
                continue  # removed after the answer came: no more calls, as promised
            if task.is_terminal:
                watch.active = False
                schedule = Schedule(item.wall, None, watch.interval.current, item.changed)
            else:
                wait = max(0.0, self._next_look(watch, plan) - item.now)
                schedule = Schedule(item.wall, item.wall + wait, wait, item.changed)
            self._notify(watch, "on_task", task, schedule)

    def _list_plan(self) -> dict[tuple[int, str], float]:
        """When each index will next be listed: as soon as its first listed task is due."""
        groups, _ = self._groups()
        return {
            key: min(w.next_due for w in members)
            for key, members in groups.items()
            if len(members) >= 2
        }

    def _next_look(self, watch: Watch, plan: dict[tuple[int, str], float]) -> float:
        """When ``watch``'s task will be looked at next: by its own request or its index's
        list, whichever comes first (monotonic)."""
        if watch.index_id and _in_its_list(watch):
            listed = plan.get((id(watch.client), watch.index_id))
            if listed is not None:
                return min(watch.next_due, listed)
        return watch.next_due

    def _trouble(self, watch: Watch, error: SearchTaskError) -> None:
        if not watch.active:
            return
        now, wall = self.clock.monotonic(), self.clock.time()
        watch.failures += 1
        watch.trouble_since = watch.trouble_since if watch.trouble_since is not None else now
        if now - watch.trouble_since >= self.give_up_after:
            error = copy.copy(error)  # the same error may be shared by several watches
            error.message = (
                f"gave up after {watch.failures} failed attempts over "
                f"{now - watch.trouble_since:.0f} s; last: {error.message}"
            )
            self._fatal(watch, error)
            return
        delay = self.backoff.delay(watch.failures, error.retry_after)
        service = watch.client.base_url
        if error.http_status in (429, 503) and error.retry_after is not None:
            # The service asked every client to slow down, not just this task: its
            # watches pause; those of other services go on.
            until = now + min(MAX_RETRY_AFTER, error.retry_after)
            if until > self._pause_left(service, now) + now:
                self._paused[service] = (until, error)
        delay = max(delay, self._pause_left(service, now))
        watch.next_due = now + delay
        schedule = Schedule(wall, wall + delay, watch.interval.current, failures=watch.failures)
        self._notify(watch, "on_trouble", error, schedule)

    def _fatal(self, watch: Watch, error: SearchTaskError) -> None:
        if not watch.active:
            return
        self._remove(watch)
        self._notify(watch, "on_fatal", error)

    def _notify(self, watch: Watch, method: str, *args: object) -> None:
        listener = watch.deliver()
        if listener is None:  # the widget was garbage-collected: nobody is watching
            self._remove(watch)
            return
        self._round[id(listener)] = listener
        try:
            in_current_execution(getattr(listener, method), *args)
        except Exception:
            log.exception(
                "search_task_widget: a listener failed in %s for %s", method, watch.task_id
            )

    def _end_round(self) -> None:
        listeners, self._round = self._round, {}
        for listener in listeners.values():
            round_end = getattr(listener, "on_round_end", None)
            if round_end is None:
                continue
            try:
                in_current_execution(round_end)
            except Exception:
                log.exception("search_task_widget: a listener failed at the end of a round")


_default: Poller | None = None
_default_lock = threading.Lock()
#: One poller per marimo session where marimo needs it (see :func:`.marimo.session_key`);
#: an entry goes when its session's thread does.
_session_pollers: weakref.WeakKeyDictionary[threading.Thread, Poller] = weakref.WeakKeyDictionary()


def default_poller() -> Poller:
    """The kernel-wide poller that widgets share unless given their own (one per session
    of a ``marimo run`` app on a marimo older than 0.23.14: see :mod:`.marimo`)."""
    global _default
    key = session_key()
    with _default_lock:
        if key is not None:
            poller = _session_pollers.get(key)
            if poller is None:
                poller = _session_pollers[key] = Poller()
                atexit.register(_shutdown_weakly, weakref.ref(poller))
            return poller
        if _default is None:
            _default = Poller()
            atexit.register(_default.shutdown, 1.0)
        return _default


#: Every poller of the process, for the fork handler below.
_live_pollers: weakref.WeakSet[Poller] = weakref.WeakSet()


def _rebuild_after_fork() -> None:
    """``os.register_at_fork`` handler (child): rebuild every poller (see
    :meth:`Poller._after_fork_in_child`) and the lock that guards the default one."""
    global _default_lock
    _default_lock = threading.Lock()
    for poller in list(_live_pollers):
        poller._after_fork_in_child()


os.register_at_fork(after_in_child=_rebuild_after_fork)


def _shutdown_weakly(ref: weakref.ReferenceType[Poller]) -> None:
    """At exit: shut a session's poller down, if it still exists (atexit holds no poller)."""
    poller = ref()
    if poller is not None:
        poller.shutdown(1.0)


def _in_its_list(watch: Watch) -> bool:
    """Whether ``watch``'s index's list is expected to hold it: its index is known and the
    last list it was looked for in had it (a task too old for the list is asked for alone)."""
    return bool(watch.index_id) and watch.index_id not in watch.not_listed
