"""Smoke test of bench/bench_polling.py: both modes at tiny sizes, sane numbers, no timing claims."""

from __future__ import annotations

import importlib.util
import math
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # runs the bench scripts as processes

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_polling.py"
SIZES = (1, 5)
MODES = ("naive", "poller")
# Short tasks (each phase 1-1.2 s) and a 0.5 s interval keep the four runs near 12 s.
SETTINGS = {"latency": 0.01, "duration": 2.4, "indexes": 3, "interval": 0.5, "cap": 10.0}
RATE = 5.0  # the Poller's default budget, requests per second


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_polling", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def results(bench):
    rows = {(mode, n): bench.run_case(mode, n, **SETTINGS) for n in SIZES for mode in MODES}
    leftovers = [
        t.name
        for t in threading.enumerate()
        if t.name.startswith(("naive-", "search-task-poller", "bench-sampler"))
    ]
    assert leftovers == [], "the bench must stop everything it started"
    return rows


def test_table_has_the_expected_columns_and_one_row_per_run(bench, results):
    table = bench.format_table(list(results.values())).splitlines()
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header == [
        "mode",
        "N",
        "finished",
        "setup s",
        "wall s",
        "requests",
        "of which task_list",
        "1/s loop req",
        "share of loop",
        "req/task-min",
        "peak req/s",
        "detect p50 s",
        "detect p95 s",
        "detect max s",
        "states missed",
        "threads added",
        "client threads added",
        "CPU s",
        "client CPU s",
        "errors",
        "comm msgs",
        "msgs/unchanged poll",
    ]
    assert len(table) == 2 + len(results)
    assert all(line.count("|") == len(header) + 1 for line in table)
    naive_row = next(line for line in table if line.startswith("| naive | 1 |"))
    assert naive_row.rstrip().endswith("| - | - |")  # no comm for the plain loop


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("mode", MODES)
def test_every_task_is_seen_to_finish_with_sane_latencies(results, mode, n):
    result = results[mode, n]
    assert result.finished == n
    assert result.errors == 0
    assert result.requests >= 1
    assert result.req_per_task_min > 0
    assert len(result.latencies) == 2 * n  # PROGRESS and SUCCESS of every task
    assert all(0 <= latency < SETTINGS["cap"] for latency in result.latencies)
    assert 0 <= result.detect_p50 <= result.detect_p95 <= result.detect_max
    assert 0 <= result.missed <= n  # at most the PROGRESS phase can be skipped
    assert result.cpu_s >= result.client_cpu_s >= 0


@pytest.mark.parametrize("n", SIZES)
def test_poller_stays_within_its_request_budget(results, n):
    # Paced at exactly 5/s, a 1-s window of arrival times can catch a sixth request
    # through a few ms of jitter; anything above that would be a real burst.
    assert results["poller", n].peak_rps <= RATE + 1


def test_naive_threads_grow_with_n_and_the_poller_uses_one(results):
    assert results["naive", 1].client_threads_added >= 1
    assert results["naive", 5].client_threads_added >= 5
    assert results["naive", 5].client_threads_added > results["naive", 1].client_threads_added
    for n in SIZES:
        # The poller and its request workers (at most 4 per service), whatever N is.
        assert results["poller", n].client_threads_added <= 1 + 4


@pytest.mark.parametrize("n", SIZES)
def test_widgets_send_nothing_on_unchanged_polls(results, n):
    result = results["poller", n]
    # Tasks shorter than the 10 s liveness stamp: unchanged polls send no message at all.
    assert result.msgs_per_unchanged_poll == 0.0
    assert result.msgs_per_changed_poll == 1.0  # hold_sync: one message per changed poll
    # start() + first document + at most one message per state change, per widget.
    assert 2 * n <= result.comm_msgs <= 4 * n


def test_helpers(bench):
    assert bench.peak_per_second([]) == 0
    assert bench.peak_per_second([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert bench.percentile([], 0.5) is None
    assert bench.percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert bench.percentile([3.0, 1.0, 2.0, 4.0], 0.95) == 4.0
    tasks = bench.plan_tasks(30, indexes=3, duration=6.0, seed=7)
    assert tasks == bench.plan_tasks(30, indexes=3, duration=6.0, seed=7)
    assert len({task.index_id for task in tasks}) == 3
    assert all(1.0 <= t.progress_at < t.success_at <= 6.0 for t in tasks)
    long = bench.plan_tasks(20, duration=240.0, min_phase=10.0)
    assert all(t.progress_at >= 10.0 and t.progress_at + 10.0 <= t.success_at for t in long)
    assert bench.loop_requests(long) == sum(math.ceil(t.success_at) + 1 for t in long)
    task = tasks[0]
    t0 = 100.0
    seen = [(t0 + 0.1, "PENDING"), (t0 + task.success_at + 0.25, "SUCCESS")]
    latencies, missed = bench.detections(task, seen, t0)
    assert missed == 1  # PROGRESS never seen
    assert latencies[1] == pytest.approx(0.25)


def test_command_line_is_checked(bench):
    args = bench.parse_args(["--tasks", "2,3", "--modes", "poller-hints", "--latency", "0"])
    assert args.tasks == [2, 3]
    assert bench.parse_args(["--min-phase", "10", "--duration", "480"]).min_phase == 10.0
    with pytest.raises(SystemExit):
        bench.parse_args(["--min-phase", "0"])
    assert args.modes == ["poller-hints"]
    with pytest.raises(SystemExit):
        bench.parse_args(["--tasks", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--modes", "threads"])


def test_a_misbehaving_service_leaves_the_healthy_tasks_alone(bench):
    result = bench.run_case("poller", 3, fault="trickle", bad_tasks=3, **SETTINGS)
    assert result.mode == "poller + 3 trickle"
    assert result.finished == 3
    assert result.errors == 0
    assert result.detect_max < SETTINGS["cap"]
    with pytest.raises(ValueError, match="fault"):
        bench.run_case("poller", 1, fault="meteor", **SETTINGS)


def test_the_isolation_bench_runs_and_answers_the_healthy_service():
    path = BENCH.parent / "bench_isolation.py"
    spec = importlib.util.spec_from_file_location("bench_isolation", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        result = module.run_case(3, pace=4.0, latency=0.01)
        table = module.format_table([result])
    finally:
        sys.modules.pop(spec.name, None)
    assert result.slow == 3
    assert result.healthy_s is not None  # answered (no timing claim)
    assert result.workers >= 1
    assert "| 3 |" in table
