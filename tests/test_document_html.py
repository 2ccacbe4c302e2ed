"""The document a finished widget leaves behind: its last frame as escaped, bounded HTML.

Browsers check how it looks (``tests/browser/test_static_document.py``); these check what it
says and holds, without one.
"""

from __future__ import annotations

import re

import pytest
from fake_search import task_doc

from search_task_widget._documents.document import (
    MAX_DETAILS,
    MAX_ROWS,
    MAX_TEXT,
    list_document,
    task_document,
)

XSS = '<img src=x onerror="window.__pwned=1">'


def frame(end: str, **overrides) -> dict:
    """A TaskWidget's synced traits for a task that ended in ``end``."""
    doc = task_doc(
        state=end,
        creation_date="2021-10-05T18:42:49",
        completion_date="2021-10-05T18:44:52.5" if end in ("SUCCESS", "FAILED") else None,
    )
    times = {"PENDING": 1_633_459_370_000.0, "PROGRESS": 1_633_459_400_000.0}
    return {**doc, "error": "", "stage_times": {**times, end: 1_633_459_492_500.0}, **overrides}


def test_a_success_reads_like_the_widgets_last_frame():
    html = task_document(frame("SUCCESS"))
    assert 'class="stw-root stw-document" data-state="SUCCESS" data-tone="success"' in html
    assert re.search(r'<span class="stw-badge"[^>]*>SUCCESS</span>', html)
    assert '<span class="stw-desc">Task succeeded</span>' in html
    assert 'role="progressbar"' in html
    assert 'aria-valuenow="4" aria-valuetext="Succeeded"' in html
    assert html.count("stw-seg stw-seg-on") == 4
    unstyled = re.sub(r' style="[^"]*"', "", html)
    assert "<dt>Completed</dt><dd>2021-10-05 18:44:52 UTC</dd>" in unstyled
    assert "<dt>Elapsed</dt><dd>2 min 03 s</dd>" in unstyled  # 123.5 s, rounded down as in js/
    # Submitted to first seen running, then to the end: 31 s + 1 min 32 s = 2 min 03 s, the
    # parts adding up to the whole as shown (one timing truth, _model/timing.py).
    assert "<dt>Queued</dt><dd>31 s</dd><dt>Running</dt><dd>1 min 32 s</dd>" in unstyled
    # No screen-reader-only line: where styles are stripped it would repeat the header.
    assert 'aria-live="polite"' not in html
    assert len(html) < 3200  # about 3 KB: what a saved notebook keeps per finished task


def test_a_failure_shows_its_message_and_details_open():
    html = task_document(
        frame("FAILED", message="2 of 9 failed", additional_details={"failed_document_count": 2})
    )
    assert 'data-tone="failed"' in html
    assert '<div class="stw-message" data-tone="failed">2 of 9 failed</div>' in html
    assert '<details class="stw-details" open>' in html
    assert "&quot;failed_document_count&quot;: 2" in html
    assert 'aria-valuetext="Failed"' in html


def test_an_unknown_state_is_shown_as_written_at_the_stage_it_reached():
    html = task_document(frame("CANCELLED", state_description="Index deleted"))
    assert 'data-tone="unknown"' in html
    assert ">CANCELLED</span>" in html
    assert 'aria-valuenow="3" aria-valuetext="State CANCELLED"' in html  # PROGRESS was seen


@pytest.mark.parametrize("field", ["state", "state_description", "message", "error", "task_id"])
def test_service_text_is_text(field):
    html = task_document(frame("FAILED", **{field: XSS}, additional_details={"x": XSS}))
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html


def test_long_texts_are_cut_with_a_note():
    html = task_document(
        frame("FAILED", message="m" * (MAX_TEXT + 500), additional_details={"x": "d" * 10_000})
    )
    assert "m" * MAX_TEXT + "… (500 more characters)" in html
    assert "d" * (MAX_DETAILS + 100) not in html
    assert "more characters)" in html.split("stw-pre")[1]
    assert len(html) < MAX_TEXT + MAX_DETAILS + 3500  # the frame: markup and inline styles


def rows(states: list[str]) -> list[dict]:
    return [
        {"task_id": f"t{n}", "state": state, "message": f"why {n}" if state == "FAILED" else None}
        for n, state in enumerate(states)
    ]


def test_a_list_shows_counts_bar_and_rows_failed_first():
    html = list_document("3 tasks: 2 SUCCESS, 1 FAILED", rows(["SUCCESS", "FAILED", "SUCCESS"]), {})
    assert '<strong class="stw-list-summary">3 tasks: 2 SUCCESS, 1 FAILED</strong>' in html
    assert ">2 SUCCESS</li>" in html
    assert ">1 FAILED</li>" in html
    assert 'aria-valuemax="3" aria-valuenow="3" aria-valuetext="3 of 3 ended, 1 failed"' in html
    ids = re.findall(r'data-task-id="(t\d)"', html)
    assert ids == ["t1", "t0", "t2"]
    assert "why 1" in html


def test_a_long_list_shows_the_first_rows_and_counts_the_rest():
    html = list_document("many", rows(["SUCCESS"] * (MAX_ROWS + 7)), {})
    assert len(re.findall(r'class="stw-list-row"', html)) == MAX_ROWS
    assert "… and 7 more tasks" in html


def test_list_text_is_text():
    html = list_document(XSS, [{"task_id": XSS, "state": XSS, "message": XSS}], {"error": XSS})
    assert "<img" not in html
