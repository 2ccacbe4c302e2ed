"""The list front end (js/list.js + js/list.css) in Chromium, driven by a fake model.

No kernel and no Jupyter: a harness page (served from this module) loads the module, and
the tests set traits on a stand-in model the way ipywidgets would, then assert on the DOM.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

pytest.importorskip("playwright")
from axe import format_violations, run_axe
from harness import HarnessPage
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__pwned=1">'
CREATED = "2021-10-05T18:42:49"


def row(state: str = "PROGRESS", task_id: str | None = None, **fields) -> dict:
    """One synced row, shaped like TaskListWidget's."""
    ended = state in ("SUCCESS", "FAILED", "CANCELLED")
    value = {
        "task_id": task_id or str(uuid.uuid4()),
        "state": state,
        "state_description": {"SUCCESS": "Task succeeded", "FAILED": "Task failed"}.get(
            state, "Task is running"
        ),
        "task_type": "ingest",
        "message": "1 document rejected" if state == "FAILED" else None,
        "additional_details": {"errors": [{"subject": "doc-1"}]} if state == "FAILED" else None,
        "creation_date": CREATED,
        "completion_date": "2021-10-05T18:43:01.5" if ended else None,
        "error": "",
        "trouble": "",
    }
    value.update(fields)
    return value


def traits(rows: list[dict], **extra) -> dict:
    """Rows plus the aggregates the Python side would send with them."""
    done = sum(r["state"] in ("SUCCESS", "FAILED", "CANCELLED") for r in rows)
    failed = sum(r["state"] == "FAILED" for r in rows)
    value = {
        "rows": rows,
        "total": len(rows),
        "done": done,
        "failed": failed,
        "polling": done < len(rows),
        "first_submitted": CREATED if rows else None,
    }
    value.update(extra)
    return value


class Harness(HarnessPage):
    """The list widget in the harness."""

    module = "list"

    def __init__(self, page: Page, base_url: str):
        super().__init__(page, base_url)
        self.root = page.locator(".stw-list-root")
        self.bar = page.get_by_role("progressbar")
        self.rows = page.locator(".stw-list-rows > li")
        self.live = page.locator(".stw-list-root [aria-live=polite]")
        self.filter = page.get_by_label("Show tasks")

    def mount(self, **values) -> Harness:
        super().mount(**values)
        expect(self.root).to_have_count(1)
        return self

    def row_ids(self) -> list[str]:
        return self.rows.evaluate_all("els => els.map(e => e.dataset.taskId)")

    def assert_clean(self) -> None:
        assert self.errors == []


@pytest.fixture
def view(page, base_url):
    return Harness(page, base_url)


def test_500_rows_render_with_a_true_fraction_bar(view):
    rows = (
        [row("SUCCESS") for _ in range(300)]
        + [row("FAILED") for _ in range(20)]
        + [row("PROGRESS") for _ in range(180)]
    )
    view.mount(**traits(rows))
    assert view.page.evaluate("window.stw.renderMs") < 1500
    expect(view.bar).to_have_attribute("aria-valuemin", "0")
    expect(view.bar).to_have_attribute("aria-valuemax", "500")
    expect(view.bar).to_have_attribute("aria-valuenow", "320")
    expect(view.bar).to_have_attribute("aria-valuetext", "320 of 500 tasks done, 20 failed")
    ok = view.page.locator(".stw-list-seg-success")
    bad = view.page.locator(".stw-list-seg-failed")
    assert ok.evaluate("e => e.style.width") == "60%"
    assert bad.evaluate("e => e.style.width") == "4%"
    colors = {
        seg.evaluate("e => getComputedStyle(e).backgroundColor")
        for seg in (ok, bad, view.page.locator(".stw-list-bar"))
    }
    assert len(colors) == 3
    expect(view.page.locator(".stw-list-count")).to_have_text(
        ["300 SUCCESS", "20 FAILED", "180 PROGRESS"]
    )
    expect(view.page.locator(".stw-list-summary")).to_have_text(
        "320 of 500 tasks done, 20 failed · 180 running"
    )

    # 200 rows are drawn; the rest on demand.
    expect(view.rows).to_have_count(200)
    more = view.page.get_by_role("button", name="Show 200 more (300 not shown)")
    more.click()
    expect(view.rows).to_have_count(400)
    view.page.get_by_role("button", name="Show 100 more (100 not shown)").click()
    expect(view.rows).to_have_count(500)
    expect(view.page.locator(".stw-list-more")).to_be_hidden()

    # Every row changes state at once: still quick.
    changed = [dict(r, state="SUCCESS", completion_date="2021-10-05T18:44:00") for r in rows]
    took = view.page.evaluate(
        "c => { const t = performance.now(); window.setModel(c); return new Promise("
        "r => queueMicrotask(() => r(performance.now() - t))); }",
        traits(changed),
    )
    assert took < 1500
    expect(view.bar).to_have_attribute("aria-valuenow", "500")
    expect(view.bar).to_have_attribute("aria-valuetext", "500 of 500 tasks done")
    view.assert_clean()


def test_failed_rows_come_first_and_unfold_to_message_and_details(view):
    details = {"errors": [{"subject": "doc-7", "reason": "field 'x' is not a number"}]}
    rows = [
        row("SUCCESS", "00000000-0000-4000-8000-000000000001"),
        row("PROGRESS", "00000000-0000-4000-8000-000000000002"),
        row(
            "FAILED",
            "00000000-0000-4000-8000-000000000003",
            message="Ingest failed: 1 rejected",
            additional_details=details,
        ),
        row("SUCCESS", "00000000-0000-4000-8000-000000000004"),
        row("FAILED", "00000000-0000-4000-8000-000000000005", message="Another failure"),
        row(
            "PENDING",
            "00000000-0000-4000-8000-000000000006",
            trouble="fatal",
            error="Task not found (HTTP 404 NotFound.Generic): no such task",
        ),
    ]
    view.mount(**traits(rows))
    assert [i[-1] for i in view.row_ids()] == ["3", "5", "6", "1", "2", "4"]

    failed = view.rows.first
    expect(failed).to_have_attribute("data-state", "FAILED")
    expect(failed.locator(".stw-list-badge")).to_have_text("FAILED")
    expect(failed.locator(".stw-list-id")).to_have_text("00000000")
    expect(failed.locator(".stw-list-id")).to_have_attribute("title", rows[2]["task_id"])
    expect(failed.locator(".stw-list-snippet")).to_have_text("Ingest failed: 1 rejected")
    box = failed.locator("details")
    expect(box).not_to_have_attribute("open", "")
    expect(failed.locator(".stw-list-pre")).to_be_hidden()
    failed.locator("summary").click()
    expect(box).to_have_attribute("open", "")
    expect(failed.locator(".stw-list-message")).to_have_text("Ingest failed: 1 rejected")
    expect(failed.locator(".stw-list-pre")).to_have_text(json.dumps(details, indent=2))

    # A row that could not be checked says why; plain rows have nothing to unfold.
    gone = view.rows.nth(2)
    expect(gone.locator(".stw-list-snippet")).to_contain_text("Task not found")
    expect(view.rows.nth(3).locator("details")).to_have_count(0)

    # The user's unfolding survives later updates of that row.
    rows[2] = dict(rows[2], state_description="Task failed!")
    view.set(**traits(rows))
    expect(failed.locator(".stw-list-desc")).to_have_text("Task failed!")
    expect(box).to_have_attribute("open", "")
    view.assert_clean()


def test_filter_by_running_failed_succeeded_and_other_states(view):
    rows = (
        [row("SUCCESS") for _ in range(4)]
        + [row("FAILED") for _ in range(2)]
        + [row("PROGRESS") for _ in range(3)]
        + [row("PENDING"), row("CANCELLED"), row("", state_description="")]
    )
    view.mount(**traits(rows))
    options = view.filter.locator("option")
    expect(options).to_have_text(
        [
            "All (12)",
            "Running (5)",
            "Failed (2)",
            "Succeeded (4)",
            "CANCELLED (1)",
            "PROGRESS (3)",
            "PENDING (1)",
        ]
    )
    expect(view.rows).to_have_count(12)
    view.filter.select_option("failed")
    expect(view.rows).to_have_count(2)
    view.filter.select_option("running")
    expect(view.rows).to_have_count(5)
    expect(view.rows.locator(".stw-list-badge")).to_have_text(
        ["PROGRESS", "PROGRESS", "PROGRESS", "PENDING", "not checked"]
    )
    view.filter.select_option("succeeded")
    expect(view.rows).to_have_count(4)
    view.filter.select_option("state:CANCELLED")
    expect(view.rows).to_have_count(1)
    expect(view.rows.first).to_have_attribute("data-state", "CANCELLED")

    # The choice holds across updates, even when nothing matches it any more.
    rows[10] = dict(rows[10], state="SUCCESS")
    view.set(**traits(rows))
    expect(view.filter).to_have_value("state:CANCELLED")
    expect(view.rows).to_have_count(0)
    expect(view.page.locator(".stw-list-empty")).to_have_text("No tasks match this filter.")
    view.filter.select_option("all")
    expect(view.rows).to_have_count(12)
    view.assert_clean()


def test_model_text_is_never_html(view):
    rows = [
        row(
            XSS,
            message=XSS,
            state_description=XSS,
            error=XSS,
            task_type=XSS,
            additional_details={"x": XSS},
        ),
        row("FAILED", message=XSS, state_description=XSS),
        row("PROGRESS", task_id=XSS),
    ]
    view.mount(**traits(rows, error=XSS, first_submitted=XSS))
    expect(view.page.locator(".stw-list-error")).to_have_text(XSS)
    expect(view.page.locator(".stw-list-count-state", has_text=XSS)).to_have_count(1)
    expect(view.filter.locator("option", has_text=XSS)).to_have_count(1)
    expect(view.page.locator(".stw-list-desc", has_text=XSS)).to_have_count(2)
    expect(view.page.locator(".stw-list-badge", has_text=XSS)).to_have_count(1)
    expect(view.page.locator(".stw-list-row[data-state='FAILED'] .stw-list-snippet")).to_have_text(
        XSS
    )
    for locator in view.page.locator("summary").all():
        locator.click()
    expect(view.page.locator(".stw-list-message", has_text=XSS)).to_have_count(2)
    expect(view.page.locator(".stw-list-pre", has_text="<img src=x onerror=")).to_have_count(1)
    expect(view.page.locator("dt:text-is('First submitted') + dd")).to_have_text(XSS)
    expect(view.page.locator("img")).to_have_count(0)
    assert view.page.evaluate("window.__pwned") is None
    view.assert_clean()


def test_an_update_touches_only_the_rows_that_changed(page, base_url):
    page.clock.install(time=datetime(2021, 10, 5, 18, 45, tzinfo=timezone.utc))
    view = Harness(page, base_url)
    page.clock.pause_at(datetime(2021, 10, 5, 18, 45, 30, tzinfo=timezone.utc))
    rows = [row("SUCCESS") for _ in range(300)] + [row("PROGRESS") for _ in range(200)]
    view.mount(**traits(rows))
    view.filter.select_option("all")
    page.get_by_role("button", name="Show 200 more (300 not shown)").click()
    page.get_by_role("button", name="Show 100 more (100 not shown)").click()
    expect(view.rows).to_have_count(500)
    page.evaluate(
        """() => {
            const list = document.querySelector(".stw-list-rows");
            window.before = new Map([...list.children].map((li) => [li.dataset.taskId, li]));
            window.touched = new Set();
            window.moved = 0;  // rows (re)inserted into the list
            window.handle = (records) => {
                for (const r of records) {
                    if (r.target === list) window.moved += r.addedNodes.length;
                    const li = (r.target.nodeType === 1 ? r.target : r.target.parentElement)
                        .closest(".stw-list-row");
                    if (li) window.touched.add(li.dataset.taskId);
                }
            };
            window.observer = new MutationObserver(window.handle);
            window.observer.observe(list, {
                subtree: true, childList: true, characterData: true, attributes: true,
            });
        }"""
    )
    touched = """() => {
        window.handle(window.observer.takeRecords());
        return [...window.touched].sort();
    }"""
    same = """() => [...document.querySelector('.stw-list-rows').children].every(
        (li) => window.before.get(li.dataset.taskId) === li)"""

    # One task ends: only its row changes, in place.
    target = rows[350]["task_id"]
    rows[350] = dict(rows[350], state="SUCCESS", completion_date="2021-10-05T18:44:00")
    view.set(**traits(rows, last_checked=1_633_459_500_000))
    expect(page.locator(f"[data-task-id='{target}']")).to_have_attribute("data-state", "SUCCESS")
    assert page.evaluate(touched) == [target]
    assert page.evaluate("window.moved") == 0
    assert page.evaluate(same)

    # A liveness stamp alone touches no row.
    page.evaluate("window.touched.clear()")
    view.set(last_checked=1_633_459_510_000)
    assert page.evaluate(touched) == []

    # A task fails: its row moves to the top (one move), every element is kept.
    failing = rows[10]["task_id"]
    rows[10] = dict(rows[10], state="FAILED", message="boom")
    view.set(**traits(rows))
    expect(view.rows.first).to_have_attribute("data-task-id", failing)
    assert page.evaluate(touched) == [failing]
    assert page.evaluate("window.moved") == 1
    assert page.evaluate(same)
    view.assert_clean()


def test_live_region_speaks_aggregate_milestones_only(view):
    rows = [row("PROGRESS") for _ in range(8)]
    view.mount(**traits(rows))
    expect(view.live).to_have_text("")
    view.page.evaluate(
        """() => {
            const live = document.querySelector(".stw-list-root [aria-live=polite]");
            window.spoken = [];
            new MutationObserver(() => window.spoken.push(live.textContent)).observe(
                live, { childList: true, characterData: true, subtree: true });
        }"""
    )
    steps = [
        (0, "SUCCESS"),  # 1 of 8: silent
        (1, "SUCCESS"),  # 2 of 8: a quarter
        (2, "FAILED"),  # a new failure
        (3, "SUCCESS"),  # a half
        (4, "SUCCESS"),  # silent
        (5, "SUCCESS"),  # three quarters
        (6, "SUCCESS"),  # silent
        (7, "SUCCESS"),  # all done
    ]
    for i, (index, state) in enumerate(steps):
        rows[index] = row(state, rows[index]["task_id"])
        view.set(**traits(rows))
        view.set(last_checked=1_700_000_000_000 + i)  # stamps stay silent
    expect(view.live).to_have_text("8 of 8 tasks done, 1 failed")
    assert view.page.evaluate("window.spoken") == [
        "2 of 8 tasks done",
        "3 of 8 tasks done, 1 failed",
        "4 of 8 tasks done, 1 failed",
        "6 of 8 tasks done, 1 failed",
        "8 of 8 tasks done, 1 failed",
    ]
    view.assert_clean()


def test_clocks_tick_while_polling_and_cleanup_clears_everything(page, base_url):
    start = datetime(2021, 10, 5, 18, 43, 0, tzinfo=timezone.utc)
    page.clock.install(time=start.timestamp() - 60)
    view = Harness(page, base_url)
    page.clock.pause_at(start)
    rows = [row("SUCCESS"), row("PROGRESS")]
    view.mount(**traits(rows))
    elapsed = page.locator("dt:text-is('Elapsed') + dd")
    running = view.page.locator(".stw-list-row[data-state='PROGRESS'] .stw-list-elapsed")
    expect(elapsed).to_have_text("11 s")
    expect(running).to_have_text("11 s")
    expect(view.page.locator(".stw-list-row[data-state='SUCCESS'] .stw-list-elapsed")).to_have_text(
        "12 s"
    )
    assert page.evaluate("window.liveTimers().intervals") == 1
    page.clock.run_for(60_000)
    expect(elapsed).to_have_text("1 min 11 s")
    expect(running).to_have_text("1 min 11 s")

    rows[1] = row("SUCCESS", rows[1]["task_id"], completion_date="2021-10-05T18:44:10")
    view.set(**traits(rows, last_completed="2021-10-05T18:44:10"))
    expect(elapsed).to_have_text("1 min 21 s")
    assert page.evaluate("window.liveTimers().intervals") == 0
    expect(page.locator("dt:text-is('Last completed') + dd")).to_have_attribute(
        "title", "2021-10-05 18:44:10 UTC"
    )

    view.set(**traits([*rows, row("PENDING")]))
    assert page.evaluate("window.liveTimers().intervals") == 1
    assert page.evaluate("window.stw.model.listenerCount()") > 0
    page.evaluate("window.stw.cleanup()")
    assert page.evaluate("window.liveTimers().intervals") == 0
    assert page.evaluate("window.stw.model.listenerCount()") == 0
    expect(view.root).to_have_count(0)
    # Idempotent, and the model may keep changing after the view is gone.
    page.evaluate("window.stw.cleanup()")
    view.set(**traits([row("SUCCESS")]))
    page.clock.run_for(5000)
    view.assert_clean()


def test_no_tasks_and_odd_values_do_not_break_the_view(view):
    view.mount()
    expect(view.bar).to_have_attribute("aria-valuemax", "0")
    expect(view.bar).to_have_attribute("aria-valuetext", "No tasks")
    expect(view.page.locator(".stw-list-empty")).to_have_text("No tasks yet.")
    view.set(rows="nonsense", total=None, done="x")
    view.set(rows=[None, {"state": "SUCCESS"}, row("weird state", additional_details="text")])
    expect(view.rows).to_have_count(1)
    expect(view.rows.locator(".stw-list-badge")).to_have_text("weird state")
    view.assert_clean()


# JupyterLab 4's dark theme, as its theme-dark-extension CSS defines these variables.
DARK = """:root {
  --jp-layout-color0: #111; --jp-layout-color1: #212121; --jp-layout-color2: #424242;
  --jp-layout-color3: #616161; --jp-ui-font-color1: rgba(255, 255, 255, 0.87);
  --jp-ui-font-color2: rgba(255, 255, 255, 0.54); --jp-border-color2: #424242;
  --jp-brand-color1: #2196f3; --jp-error-color1: #f44336; --jp-success-color1: #4caf50;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_accessibility_violations(view, theme):
    rows = [
        row("FAILED", message="Ingest failed: 1 rejected"),
        row("SUCCESS"),
        row("PROGRESS"),
        row("PENDING", trouble="fatal", error="Task not found (HTTP 404 NotFound.Generic)"),
        row(""),
        row("CANCELLED"),
    ]
    if theme == "dark":
        view.page.add_style_tag(content=DARK)
    view.mount(**traits(rows, error="1 task could not be checked", last_checked=1_700_000_000_000))
    view.rows.first.locator("summary").click()
    view.root.scroll_into_view_if_needed()
    results = run_axe(view.root)
    assert results["violations"] == [], format_violations(results["violations"])
    assert "color-contrast" in results["passes"]
    assert "aria-progressbar-name" in results["passes"]
    view.assert_clean()
