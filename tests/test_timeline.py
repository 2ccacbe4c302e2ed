"""Issue #15 without a browser: the static timeline SVG, when a row saw its task start, the
summary sentence (the same words as js/timeline.js, from one shared fixture), the
``notify`` trait and ``watch --bell``. The browser side: tests/browser/test_timeline_frontend.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_search import FAKE_INDEX_ID, task_doc

import search_task_widget as stw
from search_task_widget._documents.document import list_document
from search_task_widget._documents.timeline_svg import (
    MAX_BARS,
    WIDTH,
    row_height,
    row_labels,
    timeline_figure,
    timeline_summary,
)
from search_task_widget._terminal.cli import main
from search_task_widget._views.list_widget import TaskListWidget

CASES = json.loads((Path(__file__).parent / "timeline_cases.json").read_text())
SUMMARIES = [case for case in CASES if "summary" in case]
ROW_LABELS = [case for case in CASES if "row_labels_of" in case]
T0 = "2026-01-01T12:00:"


def row(state: str, created: str, ended: str | None = None, started: float | None = None,
        **extra: object) -> dict:  # fmt: skip
    """A synced row; times are seconds after 12:00:00 (two digits)."""
    value = {
        "task_id": extra.pop("task_id", f"{created}{ended}{state}".ljust(8, "0")),
        "state": state,
        "creation_date": T0 + created,
        "completion_date": T0 + ended if ended else None,
        "started": started,
        "trouble": "",
    }
    value.update(extra)
    return value


@pytest.mark.parametrize("case", SUMMARIES, ids=[c["summary"][:30] for c in SUMMARIES])
def test_summary_says_what_the_front_end_says(case):
    assert timeline_summary(case["rows"]) == case["summary"]


def _task_ids(n: int) -> list[str]:
    """The ids of tests/timeline_cases.json's row-label cases, by submission."""
    return [f"{i:08d}-0000-4000-8000-000000000000" for i in range(1, n + 1)]


@pytest.mark.parametrize("case", ROW_LABELS, ids=[str(c["row_labels_of"]) for c in ROW_LABELS])
def test_rows_are_labelled_as_the_front_end_labels_them(case):
    n = case["row_labels_of"]
    labels = row_labels(_task_ids(n))
    assert row_height(n) == case["row_px"]
    assert labels[:3] == case["labels_first"]
    assert len(labels) == case["labels_count"]
    assert labels[-1] == case["labels_last"]


def _row_label_items(svg: str) -> list[tuple[int, int, str]]:
    """Each row label of a figure: its item's height and line height (px) and its text."""
    column = re.search(r'<ul class="stw-tl-rows"[^>]*padding:(\d+)px[^>]*>(.*?)</ul>', svg)
    assert column, svg[:500]
    items = re.findall(r'<li style="height:(\d+)px;line-height:(\d+)px">([^<]*)</li>', column[2])
    return [(int(column[1]), 0, "")] + [(int(a), int(b), text) for a, b, text in items]


def test_each_row_of_a_few_tasks_is_named_beside_its_bar():
    started = [1767268800000 + (10 * i + 5) * 1000 for i in range(4)]  # 12:00:05, :15, ...
    rows = [row("SUCCESS", f"{10 * i:02d}", "59", started[i], task_id=f"{i:08d}-0000")
            for i in range(1, 4)]  # fmt: skip
    svg = timeline_figure(rows)
    (top, _, _), *items = _row_label_items(svg)
    assert items == [(14, 14, "1 00000001"), (14, 14, "2 00000002"), (14, 14, "3 00000003")]
    # The column starts where the first bar does; the drawing keeps rows of 14 px.
    (first, *_) = _rects(svg, "stw-tl-run stw-tl-success")
    assert first["y"] == top
    assert 'preserveAspectRatio="none"' in svg
    assert "its row numbered at the left" in svg


def test_hundreds_of_rows_are_numbered_every_fifth_and_their_outlines_do_not_stretch():
    rows = [row("", "00", task_id=f"{i:08d}-x", trouble="fatal") for i in range(1, 501)]
    svg = timeline_figure(rows)
    (top, _, _), *items = _row_label_items(svg)
    drawn = row_labels(_task_ids(MAX_BARS))
    assert [text for _, _, text in items] == drawn  # rows 5, 10, ... 200: those drawn
    assert {(height, line) for height, line, _ in items} == {(15, 3)}
    # Label "5" centred on row 5: the column's padding is four rows of 3 px below the bars' top.
    (first, *_) = _rects(svg, "stw-tl-run stw-tl-unknown-unsplit")
    assert top == first["y"] + 4 * 3
    # Hollow bars: their outline keeps 1 px however wide the page.
    assert svg.count('vector-effect="non-scaling-stroke"') == MAX_BARS + 4  # + the 4 lines


def test_list_rows_carry_when_the_poller_saw_each_task_start(fake_search, ticked, clock):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = TaskListWidget([doc["task_id"]], base_url=fake_search.base_url, poller=ticked,
                       start=False, index_id=FAKE_INDEX_ID)  # fmt: skip
    try:
        w.start()
        ticked.tick()
        assert w.rows[0]["started"] is None
        clock.advance(30)
        fake_search.put_task(dict(doc, state="PROGRESS"))
        seen = clock.time() * 1000
        while w.rows[0]["state"] != "PROGRESS":
            clock.advance(1)
            ticked.tick()
        assert seen <= w.rows[0]["started"] <= clock.time() * 1000
        first = w.rows[0]["started"]
        fake_search.put_task(dict(doc, state="SUCCESS", completion_date=doc["creation_date"]))
        while w.rows[0]["state"] != "SUCCESS":
            clock.advance(1)
            ticked.tick()
        assert w.rows[0]["started"] == first
    finally:
        w.close()


def _rects(svg: str, cls: str) -> list[dict[str, float]]:
    """The rects of the group of class ``cls``, as numbers."""
    group = re.search(rf'<g class="{cls}"[^>]*>(.*?)</g>', svg)
    assert group, cls
    rects = re.findall(r"<rect ([^>]*)/>", group.group(1))
    return [{k: float(v) for k, v in re.findall(r'(\w+)="([\d.]+)"', r)} for r in rects]


def test_bars_are_ordered_by_submission_and_placed_by_their_times():
    rows = [
        row("FAILED", "50", "59"),  # submitted last, no start seen
        row("SUCCESS", "00", "40", started=1767268810000),  # started 12:00:10 UTC
    ]
    svg = timeline_figure(rows)
    (queue,) = _rects(svg, "stw-tl-queue")  # only the task whose start was seen
    (ok,) = _rects(svg, "stw-tl-run stw-tl-success")
    (failed,) = _rects(svg, "stw-tl-run stw-tl-failed-unsplit")
    span = WIDTH / 59  # 12:00:00 to 12:00:59
    assert queue["x"] == 0
    assert queue["width"] == pytest.approx(10 * span, abs=0.1)
    assert ok["x"] == pytest.approx(10 * span, abs=0.1)
    assert ok["width"] == pytest.approx(30 * span, abs=0.1)
    assert failed["x"] == pytest.approx(50 * span, abs=0.1)  # the whole span, unsplit
    assert failed["width"] == pytest.approx(9 * span, abs=0.1)
    assert ok["y"] < failed["y"]  # by submission
    assert re.search(r'stw-tl-failed-unsplit"[^>]*stroke-dasharray="2 2"', svg)  # not colour only
    assert "2 tasks: 1 succeeded, 1 failed; median queue 10 s, median run 30 s." in svg
    assert "12:00:00 UTC" in svg
    assert "12:00:59 UTC" in svg


def test_static_timeline_escapes_text_and_caps_its_bars():
    hostile = '<script>alert("x")</script>'
    rows = [row(hostile, "00", "01", task_id=f"{i:08d}") for i in range(MAX_BARS + 7)]
    svg = timeline_figure(rows)
    assert "<script>" not in svg
    # One per bar; no "finished per minute" block: every end fell within one minute.
    assert svg.count("<rect ") == MAX_BARS
    assert f"The first {MAX_BARS} tasks are drawn; 7 more are not." in svg
    assert len(svg) < 30_000
    assert timeline_figure([row("", "00")] * 0) == ""
    assert timeline_figure([{"task_id": "x", "state": "", "creation_date": ""}]) == ""


def test_finished_list_document_and_to_html_carry_the_timeline(fake_search, ticked):
    docs = [task_doc(state="SUCCESS"), task_doc(state="FAILED")]
    for doc in docs:
        fake_search.put_task(doc)
    w = TaskListWidget([d["task_id"] for d in docs], base_url=fake_search.base_url,
                       poller=ticked, start=False, index_id=FAKE_INDEX_ID)  # fmt: skip
    try:
        w.start()
        ticked.tick()
        document = w._repr_mimebundle_()["text/html"]
        assert '<figure class="stw-tl stw-tl-static"' in document
        assert "2 tasks: 1 succeeded, 1 failed" in document
        page = w.to_html()
        noscript = page.split("<noscript>")[1].split("</noscript>")[0]
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in noscript
        assert "stw-tl-axis" in page  # the live front end (js/timeline.js) draws it too
        assert '"notify"' not in page  # a frozen page tells of nothing
    finally:
        w.close()
    assert "stw-tl-static" not in list_document("0 tasks", [], {})


def test_notify_is_an_opt_in_synced_trait(fake_search):
    task = stw.TaskWidget(task_doc()["task_id"], base_url=fake_search.base_url, start=False,
                          notify=True)  # fmt: skip
    listed = TaskListWidget([], base_url=fake_search.base_url, start=False)
    try:
        assert task.get_state(["notify"]) == {"notify": True}
        assert listed.get_state(["notify"]) == {"notify": False}
        assert task.trait_metadata("notify", "sync") is True
    finally:
        task.close()
        listed.close()


@pytest.mark.parametrize("bell", [True, False])
def test_watch_bell_rings_once_at_the_end_on_stderr(poller, bell, capsys):
    import io

    out, err = io.StringIO(), io.StringIO()
    argv = ["watch", "--demo", "--demo-speed", "20", "--polling-interval", "0.05"]
    code = main(argv + (["--bell"] if bell else []), stdout=out, stderr=err, poller=poller)
    assert code == 0
    assert "\a" not in out.getvalue()
    assert err.getvalue().count("\a") == (1 if bell else 0)
    if bell:
        assert err.getvalue().endswith("\a")


def test_node_tests_of_the_timeline_and_the_bell_pass():
    """The pure front-end helpers (js/test/*.test.js), run by node's own test runner."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    js = Path(__file__).resolve().parents[1] / "js"
    tests = ["test/timeline.test.js", "test/notify.test.js"]
    done = subprocess.run(
        [node, "--test", *tests], cwd=js, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
