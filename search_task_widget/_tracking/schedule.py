"""Timing policy: the clock, polling intervals, backoff and the global request budget.

Everything here takes its time from a :class:`Clock`, so tests drive the schedule with a
fake clock and assert exact times instead of sleeping.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from .._service.retry_after import MAX_RETRY_AFTER


class Clock(Protocol):
    """Where the poller gets its time from, and how it waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for schedules)."""
        ...

    def time(self) -> float:
        """Seconds since the epoch (for what people see, e.g. 'last checked')."""
        ...

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block until ``event`` is set or ``timeout`` seconds passed; True if set."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        # Clamped: Event.wait raises OverflowError past about 292 years, and nan or inf
        # from a bad computation must not kill the thread that waits.
        if not timeout <= MAX_WAIT:  # also catches nan
            timeout = MAX_WAIT
        return event.wait(max(0.0, timeout))


#: The longest single wait of a clock: callers loop, so this bounds nothing they see.
MAX_WAIT = 3600.0
#: The largest interval a user may set (``poll_interval``, ``max_poll_interval``): one day.
MAX_INTERVAL = 86400.0


def check_interval(name: str, value: object, maximum: float = MAX_INTERVAL) -> float:
    """Validate a user-supplied interval: a finite number of seconds above zero and at
    most ``maximum`` (default :data:`MAX_INTERVAL`, one day)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # ValueError like the other refusals: callers catch one kind of bad setting.
        raise ValueError(f"{name} must be a number of seconds, not {type(value).__name__}")
    try:
        seconds = float(value)
    except OverflowError:  # an int too large for a float
        seconds = math.inf
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be a finite number of seconds above 0, got {value!r}")
    if seconds > maximum:
        raise ValueError(f"{name} must be at most {maximum:g} s, got {value!r}")
    return seconds


@dataclass(frozen=True)
class LatencyTarget:
    """How late a change may be seen, as a function of how long the task has been watched.

    A task is looked at least every ``young`` seconds during its first ``grace`` seconds,
    so a change at the service shows within about ``young`` seconds (about 1.8 s at p95 on
    a loopback service: a change falls uniformly inside a gap, plus the answer's latency).
    Past ``grace`` the allowed gap grows by ``share`` of every further second: hours-long
    tasks are looked at about every 5 % of their age (1.8 s at 5 min, 17 s at 10 min,
    2.8 min at 1 h, 8.8 min at 3 h), up to the watch's ``maximum``.
    """

    young: float = 1.8
    grace: float = 300.0
    share: float = 0.05

    def gap(self, age: float) -> float:
        """The longest wait between two looks at a task watched for ``age`` seconds."""
        return self.young + self.share * max(0.0, age - self.grace)


#: The default latency target of every watch.
DEFAULT_TARGET = LatencyTarget()


@dataclass
class AdaptiveInterval:
    """When to look at one task again: soon after a change, later while nothing changes.

    The interval is ``minimum`` (``poll_interval``) right after a change (and at the first
    answer) and grows by ``growth - 1`` (25 %) of the time nothing has changed, which is
    x1.25 per unchanged check when checks come on time. It never grows past the latency
    target for the task's age (:class:`LatencyTarget`) nor past ``maximum``
    (``max_poll_interval``), and never shrinks below ``minimum``. The growth is measured in
    time, not in checks, so a task that its index's list refreshes more often than it
    needs (another task of the index is in a hurry) does not slow down faster.
    """

    minimum: float = 1.0
    maximum: float = 600.0
    growth: float = 1.25
    target: LatencyTarget = DEFAULT_TARGET
    current: float = field(init=False)
    quiet_since: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.maximum = max(self.maximum, self.minimum)
        self.current = self.minimum

    def ceiling(self, age: float) -> float:
        """The longest interval allowed for a task watched for ``age`` seconds."""
        return min(self.maximum, max(self.minimum, self.target.gap(age)))

    def after_check(self, now: float, age: float, *, changed: bool) -> float:
        """The interval after a check at ``now`` (monotonic) of a task watched ``age`` s."""
        if changed or self.quiet_since is None:
            self.quiet_since = now
        grown = self.minimum + (self.growth - 1.0) * (now - self.quiet_since)
        self.current = min(grown, self.ceiling(age))
        return self.current


@dataclass
class Backoff:
    """Exponential backoff with full jitter for transient trouble.

    The n-th consecutive failure waits a random time up to ``base * 2**(n-1)`` seconds
    (at least ``floor``), capped at ``cap``; a service's ``Retry-After`` is honoured as a
    lower bound. Jitter keeps hundreds of watches from retrying in lock-step.
    """

    base: float = 1.0
    cap: float = 60.0
    floor: float = 0.5
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(0, failures - 1))
        wait = max(self.floor, self.rng.uniform(ceiling / 2, ceiling))
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap * 5))
        return wait


#: A token this close to whole is whole: refills are sums of float products.
_TOKEN_SLACK = 1e-9


class RateBudget:
    """A token bucket shared by every watch: at most ``rate`` requests per second overall.

    ``burst`` tokens may be spent at once (e.g. the first poll of several new tasks); the
    bucket then refills at ``rate`` per second. The poller thread spends from it with
    :meth:`try_take`; an ingest job's submitting thread spends from the same bucket with
    :meth:`take` (Search's limit counts polls and submissions together), so every method
    holds a lock.
    """

    def __init__(self, rate: float, burst: float, clock: Clock) -> None:
        self.rate = check_interval("rate", rate)
        self.burst = max(1.0, float(burst))
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock.monotonic()
        self._paused_until = 0.0
        self._lock = threading.RLock()

    def _refill(self) -> float:
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        return now

    def try_take(self) -> bool:
        """Spend one request if the budget allows it now."""
        with self._lock:
            now = self._refill()
            if now < self._paused_until or self._tokens < 1.0 - _TOKEN_SLACK:
                return False
            self._tokens = max(0.0, self._tokens - 1.0)
            return True

    def take(self, stop: threading.Event) -> bool:
        """Block until one request may be spent, and spend it; False if ``stop`` was set
        first. For threads other than the poller's (the poller never blocks on it)."""
        while not stop.is_set():
            if self.try_take():
                return True
            self._clock.wait(stop, max(0.001, self.seconds_until_available()))
        return False

    def seconds_until_available(self) -> float:
        with self._lock:
            now = self._refill()
            pause = max(0.0, self._paused_until - now)
            short = 1.0 - self._tokens
            refill = 0.0 if self._tokens >= 1.0 - _TOKEN_SLACK else short / self.rate
            return max(pause, refill)

    def pause(self, seconds: float) -> None:
        """Spend nothing for ``seconds`` (at most :data:`MAX_RETRY_AFTER`)."""
        seconds = min(MAX_RETRY_AFTER, max(0.0, seconds)) if seconds == seconds else 0.0
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock.monotonic() + seconds)

    def give_back(self) -> None:
        """Return a request taken with :meth:`try_take` but not sent (its service was busy)."""
        with self._lock:
            self._tokens = min(self.burst, self._tokens + 1.0)


#: Seconds between liveness stamps ("last checked") while nothing changes.
STAMP_EVERY = 10.0
#: The command line's interval grows up to this many times its starting interval.
MAX_INTERVAL_FACTOR = 10.0
#: By default the widgets' interval grows up to this many seconds (or 10 x poll_interval).
DEFAULT_MAX_INTERVAL = 600.0


def polling_bounds(
    poll_interval: object,
    max_poll_interval: object,
    *,
    loopback: bool,
    host: str,
    name: str = "poll_interval",
) -> tuple[float, float]:
    """Validate the user's intervals; return (starting, largest) interval in seconds.

    Search allows only a few requests per second per client, so intervals under 1 s are
    refused except against a loopback service (the simulator, a test server). ``name`` is
    what errors call the starting interval (the command line says ``--polling-interval``).
    """
    minimum = check_interval(name, poll_interval)
    if minimum < 1.0 and not loopback:
        raise ValueError(
            f"{name} must be at least 1 s against {host} (Search allows only a few "
            "requests per second per client); shorter intervals are for loopback test services"
        )
    if max_poll_interval is None:
        return minimum, max(DEFAULT_MAX_INTERVAL, minimum * MAX_INTERVAL_FACTOR)
    maximum = check_interval("max_poll_interval", max_poll_interval)
    if maximum < minimum:
        raise ValueError("max_poll_interval must not be smaller than poll_interval")
    return minimum, maximum


def epoch_ms(epoch_seconds: float | None) -> float:
    """Seconds since the epoch as the milliseconds JavaScript dates use (0 for none)."""
    return 0.0 if epoch_seconds is None else round(epoch_seconds * 1000.0, 3)


def wait_slice(deadline: float | None) -> float:
    """How long one blocking wait may last: short, so Ctrl-C and the deadline are noticed."""
    if deadline is None:
        return 0.5
    return max(0.0, min(0.5, deadline - time.monotonic()))
