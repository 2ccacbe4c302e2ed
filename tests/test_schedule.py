"""Timing policy: Retry-After, intervals, backoff, the request budget (all on a fake clock)."""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from fakes import FakeClock

from search_task_widget._service.retry_after import parse_retry_after
from search_task_widget._tracking.schedule import (
    AdaptiveInterval,
    Backoff,
    LatencyTarget,
    RateBudget,
    check_interval,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"), [("3", 3.0), (" 2.5 ", 2.5), ("0", 0.0), ("-4", 0.0)]
)
def test_retry_after_in_seconds(header, seconds):
    assert parse_retry_after(header, NOW) == seconds


def test_retry_after_as_http_date():
    later = format_datetime(datetime.fromtimestamp(NOW + 30, timezone.utc), usegmt=True)
    assert parse_retry_after(later, NOW) == pytest.approx(30.0)
    earlier = format_datetime(datetime.fromtimestamp(NOW - 30, timezone.utc), usegmt=True)
    assert parse_retry_after(earlier, NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "nan", "inf"])
def test_unusable_retry_after_is_ignored(header):
    assert parse_retry_after(header, NOW) is None


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, True, "1", None])
def test_bad_intervals_are_refused(value):
    with pytest.raises(ValueError, match="poll_interval"):
        check_interval("poll_interval", value)


def test_interval_grows_with_quiet_time_and_snaps_back():
    interval = AdaptiveInterval(minimum=1.0, maximum=3.0, growth=1.5, target=LatencyTarget(9.0))
    assert interval.current == 1.0
    now, seen = 0.0, []
    interval.after_check(now, 0.0, changed=True)
    for _ in range(4):  # checks on time: x1.5 each, up to the maximum
        now += interval.current
        seen.append(interval.after_check(now, now, changed=False))
    assert seen == [1.5, 2.25, 3.0, 3.0]
    assert interval.after_check(now + 3.0, now + 3.0, changed=True) == 1.0


def test_interval_grows_with_time_not_with_the_number_of_checks():
    interval = AdaptiveInterval(minimum=1.0, maximum=60.0, target=LatencyTarget(9.0))
    interval.after_check(0.0, 0.0, changed=True)
    for step in range(1, 9):  # an index list refreshed it every 0.25 s for 2 s
        interval.after_check(step * 0.25, step * 0.25, changed=False)
    assert interval.current == 1.5  # 1 + 25 % of 2 s quiet, not 1.25 ** 8


def test_latency_target_caps_the_interval_by_age():
    target = LatencyTarget()  # 1.8 s for 5 min, then + 5 % of further age
    assert [target.gap(age) for age in (0, 60, 300)] == [1.8, 1.8, 1.8]
    assert target.gap(600) == pytest.approx(16.8)
    assert target.gap(3600) == pytest.approx(166.8)  # 4.6 % of an hour
    assert target.gap(3 * 3600) / (3 * 3600) == pytest.approx(0.0488, abs=1e-4)
    interval = AdaptiveInterval(minimum=1.0, maximum=600.0)
    interval.after_check(0.0, 0.0, changed=True)
    assert interval.after_check(100.0, 100.0, changed=False) == 1.8  # young: 1.8 s
    assert interval.after_check(3600.0, 3600.0, changed=False) == pytest.approx(166.8)
    assert interval.after_check(20_000.0, 20_000.0, changed=False) == 600.0  # the maximum
    slow = AdaptiveInterval(minimum=5.0, maximum=50.0)
    slow.after_check(0.0, 0.0, changed=True)
    assert slow.after_check(40.0, 40.0, changed=False) == 5.0  # never below poll_interval


def test_backoff_doubles_within_jitter_and_caps():
    backoff = Backoff(base=1.0, cap=8.0, floor=0.0, rng=random.Random(7))
    for failures, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (9, 8)]:
        delay = backoff.delay(failures)
        assert ceiling / 2 <= delay <= ceiling


def test_backoff_honours_retry_after_as_a_lower_bound():
    backoff = Backoff(base=1.0, cap=60.0, rng=random.Random(1))
    assert backoff.delay(1, retry_after=20.0) >= 20.0


def test_budget_allows_burst_then_rate():
    clock = FakeClock()
    budget = RateBudget(rate=5.0, burst=5.0, clock=clock)
    assert sum(budget.try_take() for _ in range(10)) == 5
    assert budget.seconds_until_available() == pytest.approx(0.2)
    clock.advance(1.0)
    assert sum(budget.try_take() for _ in range(10)) == 5


def test_budget_pause_blocks_everything_until_it_ends():
    clock = FakeClock()
    budget = RateBudget(rate=5.0, burst=5.0, clock=clock)
    budget.pause(3.0)
    assert not budget.try_take()
    assert budget.seconds_until_available() == pytest.approx(3.0)
    clock.advance(3.0)
    assert budget.try_take()
