"""Smoke test of bench/bench_ingest.py: both ways at a tiny size, in their own processes;
checks what was counted (every batch indexed, the ingest's requests within the budget),
never how fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The bench serves the simulator in a process of its own.
pytestmark = pytest.mark.process

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench" / "bench_ingest.py"
#: The poller's default budget: 5 requests a second, bursts of 1.
MOST_IN_ONE_SECOND = 6


def test_the_ingest_bench_runs_tiny_and_the_ingest_stays_within_the_budget(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--entries", "300", "--entry-bytes", "200",
         "--batch-entries", "50", "--speed", "50", "--folder", str(tmp_path), "--json"],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )  # fmt: skip
    rows = {row["mode"]: row for row in json.loads(done.stdout)}

    assert rows["ingest"]["indexed"] == 300
    assert rows["ingest"]["failed"] == 0
    assert rows["naive"]["indexed_batches"] == 6
    assert rows["ingest"]["req_s_peak"] <= MOST_IN_ONE_SECOND
    for row in rows.values():
        assert row["requests"] >= 6  # one request per batch at least, counted by the service
        assert row["peak_rss_mb"] > 0
        assert row["wall_s"] > 0
    assert (tmp_path / "catalogue-300x200.jsonl").stat().st_size > 300 * 150
