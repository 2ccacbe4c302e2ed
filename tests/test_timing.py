"""One timing truth: queued, running and elapsed from one computation
(``_model/timing.py``), held to the cases ``js/timing.js`` is held to, and used alike by the
widget's document, the list's chart and the terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_task_widget._model.timing import NOT_SEEN, Phases, phases

CASES = json.loads((Path(__file__).parent / "data" / "timing_cases.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["why"][:50] for c in CASES])
def test_phases_follow_the_shared_cases(case):
    got = phases(case["created"], case["started"], case["ended"], case["now"],
                 waiting=case["waiting"])  # fmt: skip
    assert got == Phases(**case["expect"])
    if got.queued is not None and got.running is not None:
        assert got.queued + got.running == got.elapsed  # they add up as shown


def test_unknown_reads_the_same_everywhere():
    assert NOT_SEEN == "not seen"
    js = (Path(__file__).parents[1] / "js" / "timing.js").read_text("utf-8")
    assert f'export const NOT_SEEN = "{NOT_SEEN}";' in js
