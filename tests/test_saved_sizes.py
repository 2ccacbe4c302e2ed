"""The saved sizes the docs quote are the benchmark's output, not typed by hand."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_saved_size", REPO / "bench" / "bench_saved_size.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_include_the_table_the_bench_wrote():
    bench = _bench()
    page = (REPO / "docs" / "tutorial-authors.md").read_text(encoding="utf-8")
    assert "```{include} _generated/saved-sizes.md" in page
    written = bench.TABLE.read_text(encoding="utf-8").splitlines()
    header = bench.table([]).splitlines()
    assert written[: len(header)] == header
    assert written[-1].startswith("Measured ")
    assert "by `python bench/bench_saved_size.py --write`" in written[-1]
    rows = [line for line in written if line.startswith("| 0")]
    assert len(rows) == 4, rows  # every tutorial, and the dashboard not waiting
    # Every tutorial ended before it was saved, or was saved running: no widget state.
    assert all(line.split("|")[3:6] == [" 0 ", " 0 ", " 0 "] for line in rows), rows


def test_the_table_says_what_was_measured():
    bench = _bench()
    row = {"file": 24915, "models": 2, "state": 4000, "front_end": 3000}
    assert bench.table([("01.ipynb", row)]).splitlines()[-1] == (
        "| 01.ipynb | 24,915 | 2 | 4,000 (16 %) | 3,000 |"
    )
