"""One timing truth: queued, running and elapsed from one computation
(``_model/timing.py``), held to the cases ``js/timing.js`` is held to, and used alike by the
widget's document, the list's chart and the terminal."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
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


def unstyled(html: str) -> str:
    return re.sub(r' style="[^"]*"', "", html)


def _task(**fields):
    from search_task_widget._model.task import Task

    doc = {"task_id": "3a1c7e08-6a3f-4a5c-9f7e-2b8d4c6e1f00", "state": "SUCCESS",
           "creation_date": "2026-01-01T12:00:00", "completion_date": "2026-01-01T12:00:04.8"}  # fmt: skip
    return Task.from_document({**doc, **fields})


def test_the_terminal_the_document_and_the_chart_say_the_same_times():
    from search_task_widget._documents.document import task_document
    from search_task_widget._documents.timeline_svg import timeline_summary
    from search_task_widget._terminal.view import format_summary

    created = datetime(2026, 1, 1, 12, tzinfo=timezone.utc).timestamp()
    started = created + 2.2  # first seen running; ended at 4.8 s: 2 s + 2 s = 4 s
    terminal = format_summary(_task(), started=started)
    assert re.search(r"^Elapsed:\s+4 s\nQueued:\s+2 s\nRunning:\s+2 s$", terminal, re.M)
    task = _task().to_document()
    document = unstyled(task_document({**task, "stage_times": {"PROGRESS": started * 1000}}))
    assert (
        "<dt>Elapsed</dt><dd>4 s</dd><dt>Queued</dt><dd>2 s</dd><dt>Running</dt><dd>2 s</dd>"
        in document
    )
    row = {**task, "started": started * 1000, "trouble": ""}
    assert timeline_summary([row]).endswith("median queue 2 s, median run 2 s")


def test_a_split_the_poller_did_not_see_is_unknown_everywhere():
    from search_task_widget._documents.document import task_document
    from search_task_widget._documents.timeline_svg import timeline_summary
    from search_task_widget._terminal.view import format_summary

    terminal = format_summary(_task())  # ended between two checks: never seen running
    assert re.search(r"^Queued:\s+not seen\nRunning:\s+not seen$", terminal, re.M)
    document = unstyled(task_document({**_task().to_document(), "stage_times": {}}))
    assert "<dt>Queued</dt><dd>not seen</dd><dt>Running</dt><dd>not seen</dd>" in document
    assert (
        timeline_summary([{**_task().to_document(), "trouble": ""}])
        == "1 task: 1 succeeded, 0 failed"
    )


def test_a_task_that_retried_through_an_outage_keeps_a_line_saying_so(fake_search):
    import search_task_widget as stw
    from search_task_widget._model.task import Task
    from search_task_widget._tracking.poller import Schedule

    def at(t: float) -> Schedule:
        return Schedule(checked_at=t, next_check=t + 2, interval=2.0, changed=True)

    doc = {"task_id": "3a1c7e08-6a3f-4a5c-9f7e-2b8d4c6e1f00", "state": "PENDING",
           "creation_date": "2026-01-01T12:00:00"}  # fmt: skip
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, start=False)
    try:
        w._group.task_seen(w._entry, Task.from_document(doc), at(100.0))
        outage = stw.TaskAPIError("down", http_status=503)
        for t in (102.0, 104.0, 108.0):
            w._group.trouble_seen(w._entry, outage, at(t))
        assert w.trouble == "retrying"
        assert w.retried == ""  # while it lasts, the error says so (with its countdown)
        w._group.task_seen(w._entry, Task.from_document({**doc, "state": "PROGRESS"}), at(113.0))
        assert w.trouble == ""
        line = "Checks failed and were retried 3 times over 11 s (Search is unavailable)"
        assert w.retried == line
        ended = {**doc, "state": "SUCCESS", "completion_date": "2026-01-01T12:00:20"}
        w._group.task_seen(w._entry, Task.from_document(ended), at(120.0))
        assert line in w._repr_mimebundle_()["text/html"]  # the document keeps it
    finally:
        w.close()
