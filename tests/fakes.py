"""Test doubles for time: a clock that moves only when told to, and backoff without jitter."""

from __future__ import annotations

import threading

from search_task_widget._tracking.schedule import Backoff


class FakeClock:
    """A clock that moves only when told to (or when the poller 'waits' on it)."""

    def __init__(self, start: float = 1_000.0, epoch: float = 1_700_000_000.0) -> None:
        self.now = start
        self._epoch_offset = epoch - start

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now + self._epoch_offset

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if event.is_set():
            return True
        self.now += timeout
        return False

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FixedBackoff(Backoff):
    """Backoff without jitter: attempt n waits exactly ``base * 2**(n-1)`` (capped)."""

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        wait = min(self.cap, self.base * 2 ** max(0, failures - 1))
        return max(wait, retry_after or 0.0)
