"""Sending one batch: ``POST /v1/index/<id>/ingest`` within the poller's request budget.

Every attempt first takes one request from the :class:`~.._tracking.schedule.RateBudget`
that the poller spends from, so submissions and polls together stay within it. Trouble
that may pass is retried with backoff: 429 and 5xx (their ``Retry-After`` honoured, and the
whole budget paused for it, polls included: the service asked this client to slow down),
and network failures. A request that may have reached the service without an answer
(:data:`~.._service.client.UNKNOWN_FATE`) is sent again, which ingest being an upsert makes
safe, and the caller is told so. Anything else (400, 401, 403, 404, 413) is the caller's to
decide: it is raised.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .._model.errors import SearchTaskError
from .._service.client import UNKNOWN_FATE, TaskClient
from .._tracking.schedule import Backoff, Clock, RateBudget

log = logging.getLogger("search_task_widget")

#: Statuses after which the whole budget pauses for the service's ``Retry-After``.
SLOW_DOWN = (429, 503)


class Stopped(Exception):
    """The job was stopped while a batch waited to be sent."""


@dataclass
class Sender:
    """Sends batches for one job: ``budget`` is the poller's, ``clock`` times the waits."""

    client: TaskClient
    index_id: str
    budget: RateBudget
    clock: Clock
    stop: threading.Event
    give_up_after: float = 300.0
    backoff: Backoff | None = None

    def send(self, body: bytes, on_unknown_fate: Callable[[SearchTaskError], None]) -> str:
        """The task id of ``body``'s ingest; retries transient trouble for up to
        ``give_up_after`` seconds, then raises the last error. ``on_unknown_fate`` is
        called before each resend of a request that got no answer."""
        backoff = self.backoff or Backoff()
        failures = 0
        started = self.clock.monotonic()
        while True:
            if not self.budget.take(self.stop):
                raise Stopped()
            try:
                return self.client.ingest(self.index_id, body)
            except SearchTaskError as error:
                if not error.transient:
                    raise
                failures += 1
                if self.clock.monotonic() - started >= self.give_up_after:
                    error.message = (
                        f"gave up after {failures} attempts over {self.give_up_after:g} s; "
                        f"last: {error.message}"
                    )
                    raise
                if error.code == UNKNOWN_FATE:
                    on_unknown_fate(error)
                self._wait(backoff.delay(failures, error.retry_after), error)

    def _wait(self, delay: float, error: SearchTaskError) -> None:
        if error.http_status in SLOW_DOWN and error.retry_after is not None:
            self.budget.pause(error.retry_after)
        log.info("search_task_widget: ingest retry in %.1f s after %s", delay, error.code)
        if self.clock.wait(self.stop, delay):
            raise Stopped()
