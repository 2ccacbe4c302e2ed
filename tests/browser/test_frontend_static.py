"""The front end (js/widget.js + js/widget.css) in Chromium, driven by a fake model.

No kernel and no Jupyter: static_harness.html loads the module, and the tests set traits
on a stand-in model the way ipywidgets would, then assert on the DOM.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

pytest.importorskip("playwright")
from harness import HarnessPage
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TASK_ID = "05c1ec1b-2400-44e2-9797-922c29199042"
INDEX_ID = "696af25c-8c24-469a-b5e0-67d3e4b71df7"
XSS = '<img src=x onerror="window.__pwned=1">'


class Harness(HarnessPage):
    """The single-task widget in the harness."""

    module = "widget"

    def __init__(self, page: Page, base_url: str):
        super().__init__(page, base_url)
        self.root = page.locator(".stw-root")
        self.bar = page.get_by_role("progressbar")
        self.live = page.locator(".stw-root [aria-live=polite]")

    def mount(self, **traits) -> Harness:
        super().mount(**traits)
        expect(self.root).to_have_count(1)
        return self

    def dd(self, label: str):
        """The <dd> that follows the <dt> with this exact label."""
        return self.page.locator(f"dt:text-is('{label}') + dd")

    def style(self, selector: str, prop: str) -> str:
        return self.page.locator(selector).first.evaluate(
            f"el => getComputedStyle(el).{prop}",
        )

    def assert_clean(self) -> None:
        assert self.errors == []


@pytest.fixture
def widget(page, base_url):
    return Harness(page, base_url)


def _epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=timezone.utc).timestamp() * 1000)


def test_lifecycle_moves_the_bar_through_four_stages(widget):
    widget.mount(task_id=TASK_ID, index_id=INDEX_ID, polling=True)
    expect(widget.bar).to_have_attribute("aria-valuenow", "0")
    expect(widget.bar).to_have_attribute("aria-valuemin", "0")
    expect(widget.bar).to_have_attribute("aria-valuemax", "4")
    expect(widget.page.locator(".stw-badge")).to_be_hidden()

    steps = [
        ("CREATING", "1", "Submitted (stage 1 of 4)"),
        ("PENDING", "2", "Queued (stage 2 of 4)"),
        ("PROGRESS", "3", "Running (stage 3 of 4)"),
        ("SUCCESS", "4", "Succeeded"),
    ]
    for state, now, text in steps:
        widget.set(state=state, polling=state != "SUCCESS")
        expect(widget.bar).to_have_attribute("aria-valuenow", now)
        expect(widget.bar).to_have_attribute("aria-valuetext", text)
        expect(widget.bar).to_have_attribute("data-state", state)
        expect(widget.root).to_have_attribute("data-state", state)
        expect(widget.page.locator(".stw-seg-on")).to_have_count(int(now))
        expect(widget.page.locator(".stw-badge")).to_have_text(state)
        if state == "PROGRESS":
            # The indeterminate sweep sits on the current (third) segment only.
            active = widget.page.locator(".stw-seg-active")
            expect(active).to_have_count(1)
            expect(widget.page.locator(".stw-seg").nth(2)).to_have_class(
                "stw-seg stw-seg-on stw-seg-current stw-seg-active"
            )
            assert widget.style(".stw-seg-active", "animationName") == "stw-sweep"
            running = widget.style(".stw-seg-on", "backgroundColor")
    expect(widget.page.locator(".stw-seg-active")).to_have_count(0)
    success = widget.style(".stw-seg-on", "backgroundColor")

    widget.set(state="FAILED")
    expect(widget.bar).to_have_attribute("aria-valuetext", "Failed")
    expect(widget.bar).to_have_attribute("aria-valuenow", "4")
    failed = widget.style(".stw-seg-on", "backgroundColor")
    assert len({running, success, failed}) == 3, (running, success, failed)
    widget.assert_clean()


def test_failed_shows_message_and_open_details(widget):
    details = {"errors": [{"subject": "doc-1", "reason": "field 'x' is not a number"}]}
    widget.mount(
        task_id=TASK_ID,
        state="FAILED",
        task_type="ingest",
        state_description="Task failed",
        message="Ingest failed: 1 document rejected",
        additional_details=details,
        completion_date="2021-10-05T18:43:00",
    )
    message = widget.page.locator(".stw-message")
    expect(message).to_be_visible()
    expect(message).to_have_text("Ingest failed: 1 document rejected")
    expect(message).to_have_attribute("data-tone", "failed")
    box = widget.page.locator("details.stw-details")
    expect(box).to_have_attribute("open", "")
    expect(box.locator("pre")).to_be_visible()
    expect(box.locator("pre")).to_have_text(json.dumps(details, indent=2))
    expect(widget.page.locator(".stw-type")).to_have_text("ingest")
    expect(widget.page.locator(".stw-desc")).to_have_text("Task failed")

    # The user's choice to fold the details survives later updates.
    box.locator("summary").click()
    expect(box).not_to_have_attribute("open", "")
    widget.set(last_checked=1_700_000_000_000, state_description="Task failed!")
    expect(widget.page.locator(".stw-desc")).to_have_text("Task failed!")
    expect(box).not_to_have_attribute("open", "")
    widget.assert_clean()


def test_details_closed_and_message_plain_while_running(widget):
    widget.mount(state="PROGRESS", message="Halfway", additional_details={"note": "fine"})
    expect(widget.page.locator(".stw-message")).to_have_attribute("data-tone", "running")
    expect(widget.page.locator("details.stw-details")).not_to_have_attribute("open", "")
    widget.set(message=None, additional_details=None)
    expect(widget.page.locator(".stw-message")).to_be_hidden()
    expect(widget.page.locator("details.stw-details")).to_be_hidden()
    widget.assert_clean()


def test_unknown_state_shown_verbatim(widget):
    widget.mount(
        task_id=TASK_ID,
        state="CANCELLED",
        state_description="Index deleted",
        stage_times={"CREATING": 1_700_000_000_000, "PENDING": 1_700_000_001_000},
    )
    expect(widget.page.locator(".stw-badge")).to_have_text("CANCELLED")
    expect(widget.bar).to_have_attribute("aria-valuetext", "State CANCELLED")
    expect(widget.bar).to_have_attribute("data-state", "CANCELLED")
    # It keeps the furthest stage it was seen in, drawn in a neutral colour.
    expect(widget.bar).to_have_attribute("aria-valuenow", "2")
    expect(widget.root).to_have_attribute("data-tone", "unknown")
    expect(widget.page.locator(".stw-seg-active")).to_have_count(0)

    # Odd payloads must not crash the view either.
    widget.set(state="weird state", stage_times=None, additional_details="text", poll_interval=None)
    expect(widget.page.locator(".stw-badge")).to_have_text("weird state")
    expect(widget.bar).to_have_attribute("aria-valuenow", "0")
    expect(widget.page.locator(".stw-pre")).to_have_text('"text"')
    # States named like Object.prototype members read nothing from it (issue #11).
    for state in ("constructor", "toString", "__proto__"):
        widget.set(state=state, stage_times={})
        expect(widget.bar).to_have_attribute("aria-valuenow", "0")
        expect(widget.bar).to_have_attribute("aria-valuetext", f"State {state}")
    widget.assert_clean()


def test_model_text_is_never_html(widget):
    widget.mount(state="FAILED", message=XSS, state_description=XSS, task_type=XSS, error=XSS)
    expect(widget.page.locator(".stw-message")).to_have_text(XSS)
    expect(widget.page.locator(".stw-desc")).to_have_text(XSS)
    expect(widget.page.locator(".stw-error")).to_have_text(XSS)
    widget.set(state=XSS, task_id=XSS, additional_details={"x": XSS})
    expect(widget.page.locator(".stw-badge")).to_have_text(XSS)
    expect(widget.page.locator(".stw-mono").first).to_have_text(XSS)
    expect(widget.live).to_contain_text(XSS)
    expect(widget.page.locator("img")).to_have_count(0)
    assert widget.page.evaluate("window.__pwned") is None
    widget.assert_clean()


def test_one_message_of_many_traits_draws_once(widget):
    widget.mount(task_id=TASK_ID, state="PENDING", polling=True)
    # Count the model reads: one draw reads each trait about once.
    widget.page.evaluate(
        """() => {
            const model = window.stw.model, get = model.get;
            window.reads = 0;
            model.get = (key) => { window.reads += 1; return get(key); };
        }"""
    )
    now = 1_700_000_000_000
    widget.set(
        state="PROGRESS", state_description="Task is running", last_checked=now,
        next_check=now + 5000, poll_interval=5, stage_times={"PROGRESS": now}, error="",
        trouble="", message="half way", index_id="idx",
    )  # fmt: skip
    expect(widget.bar).to_have_attribute("aria-valuenow", "3")
    reads = widget.page.evaluate("window.reads")
    # One snapshot for the draw, one for the live region (16 reads each); drawn once per
    # changed trait, it would be about 160.
    assert 16 <= reads <= 50, reads
    widget.assert_clean()


def test_live_region_speaks_once_per_state_change(widget):
    widget.mount(task_id=TASK_ID, polling=True)
    expect(widget.live).to_have_text("")
    widget.page.evaluate(
        """() => {
            const live = document.querySelector(".stw-root [aria-live=polite]");
            window.spoken = [];
            new MutationObserver((records) => {
                for (const r of records) window.spoken.push(live.textContent);
            }).observe(live, { childList: true, characterData: true, subtree: true });
        }"""
    )
    now = 1_700_000_000_000
    steps = [
        ("CREATING", "Task is being created"),
        ("PENDING", "Task is waiting to start"),
        ("PROGRESS", "Task is running"),
        ("SUCCESS", "Task succeeded"),
    ]
    for i, (state, description) in enumerate(steps):
        widget.set(state=state, state_description=description)
        expect(widget.live).to_have_text(f"Task state: {state} — {description}")
        # Liveness stamps, errors and descriptions alone must stay silent.
        widget.set(last_checked=now + i, next_check=now + i + 5000, poll_interval=5 + i)
        widget.set(error=f"Search is busy (HTTP 503); retrying in {i} s", trouble="retrying")
        widget.set(error="", trouble="", stage_times={state: now + i})
        widget.set(state_description=description + " (still)")
    spoken = widget.page.evaluate("window.spoken")
    assert spoken == [f"Task state: {s} — {d}" for s, d in steps]
    widget.assert_clean()


def test_dates_are_utc_shown_in_local_time(chromium_browser, base_url):
    """The date cells use the viewer's zone; the formats themselves: js/test/format.test.js."""
    created, completed = "2018-12-13T18:08:42.746911", "2018-12-13T19:10:44.539611"
    local, local_done = "2018-12-13 12:08:42 CST", "2018-12-13 13:10:44 CST"
    utc = "2018-12-13 18:08:42 UTC"
    elapsed = "1 h 02 min 01 s"
    context = chromium_browser.new_context(timezone_id="America/Chicago", locale="en-US")
    try:
        w = Harness(context.new_page(), base_url)
        w.mount(state="SUCCESS", creation_date=created, completion_date=completed)
        expect(w.dd("Submitted")).to_have_text(local)
        expect(w.dd("Submitted")).to_have_attribute("title", utc)
        expect(w.dd("Completed")).to_have_text(local_done)
        expect(w.dd("Elapsed")).to_have_text(elapsed)
        w.set(completion_date=None, creation_date="")
        expect(w.dd("Completed")).to_have_text("—")
        expect(w.dd("Submitted")).to_have_text("—")
        w.assert_clean()
    finally:
        context.close()


def test_clocks_tick_without_model_changes_and_stop_at_completion(page, base_url):
    start = datetime(2021, 10, 5, 18, 43, 0, tzinfo=timezone.utc)
    page.clock.install(time=start.timestamp() - 60)
    w = Harness(page, base_url)
    page.clock.pause_at(start)
    now = int(start.timestamp() * 1000)
    w.mount(
        state="PROGRESS",
        polling=True,
        creation_date="2021-10-05T18:42:49",
        stage_times={"PENDING": now - 8000, "PROGRESS": now - 3000},
        last_checked=now,
        next_check=now + 5000,
        poll_interval=5,
    )
    # Submitted 18:42:49, first seen running 18:42:57, now 18:43:00: 8 s + 3 s = 11 s, the
    # parts adding up to the whole (one timing truth, js/timing.js).
    expect(w.dd("Elapsed")).to_have_text("11 s")
    expect(w.dd("Queued")).to_have_text("8 s")
    expect(w.dd("Running")).to_have_text("3 s")
    expect(w.dd("Last checked")).to_contain_text("(0 s ago)")
    expect(w.dd("Next check")).to_have_text("in 5 s · every ~5 s")
    assert w.timers()["intervals"] == 1

    page.clock.run_for(5000)
    expect(w.dd("Elapsed")).to_have_text("16 s")
    expect(w.dd("Running")).to_have_text("8 s")
    expect(w.dd("Last checked")).to_contain_text("(5 s ago)")
    expect(w.dd("Next check")).to_have_text("now · every ~5 s")
    page.clock.run_for(60_000)
    expect(w.dd("Elapsed")).to_have_text("1 min 16 s")

    w.set(
        state="SUCCESS",
        polling=False,
        completion_date="2021-10-05T18:44:10.000001",
        stage_times={"PENDING": now - 8000, "PROGRESS": now - 3000, "SUCCESS": now + 62_000},
        last_checked=now + 62_000,
        next_check=0,
    )
    expect(w.dd("Elapsed")).to_have_text("1 min 21 s")
    expect(w.dd("Queued")).to_have_text("8 s")
    expect(w.dd("Running")).to_have_text("1 min 13 s")  # to the completion the service wrote
    expect(w.dd("Next check")).to_have_text("—")
    expect(w.dd("Last checked")).not_to_contain_text("ago")
    assert w.timers()["intervals"] == 0
    page.clock.run_for(10_000)
    expect(w.dd("Elapsed")).to_have_text("1 min 21 s")
    w.assert_clean()


def test_cleanup_removes_timers_listeners_and_dom(page, base_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.clock.install()
    w = Harness(page, base_url)
    w.mount(task_id=TASK_ID, state="PROGRESS", polling=True, creation_date="2021-10-05T18:42:49")
    assert w.page.evaluate("window.stw.model.listenerCount()") > 0
    copy = page.get_by_role("button", name="Copy task id")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == TASK_ID
    assert w.timers() == {"intervals": 1, "timeouts": 1}

    page.evaluate("window.stw.cleanup()")
    assert w.timers() == {"intervals": 0, "timeouts": 0}
    assert page.evaluate("window.stw.model.listenerCount()") == 0
    expect(w.root).to_have_count(0)
    # Idempotent, and the model may keep changing after the view is gone.
    page.evaluate("window.stw.cleanup()")
    w.set(state="SUCCESS", polling=False)
    page.clock.run_for(5000)
    w.assert_clean()


def test_copy_label_reverts(page, base_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.clock.install()
    w = Harness(page, base_url)
    w.mount(task_id=TASK_ID)
    copy = page.get_by_role("button", name="Copy task id")
    copy.click()
    expect(copy).to_have_text("Copied")
    page.clock.run_for(2000)
    expect(copy).to_have_text("Copy")
    assert w.timers() == {"intervals": 0, "timeouts": 0}
    w.set(task_id="")
    expect(copy).to_be_disabled()
    w.assert_clean()


def test_trouble_retrying_then_fatal(widget):
    busy = "Search is busy (HTTP 503); retrying in 4 s"
    widget.mount(task_id=TASK_ID, state="PROGRESS", polling=True, error=busy, trouble="retrying")
    error = widget.page.locator(".stw-error")
    expect(error).to_have_text(busy)
    expect(error).to_have_attribute("data-trouble", "retrying")
    expect(widget.bar).to_have_attribute("data-trouble", "retrying")
    retrying = widget.style(".stw-error", "borderLeftColor")

    gone = "Task not found (HTTP 404): no such task"
    widget.set(error=gone, trouble="fatal", polling=False)
    expect(error).to_have_text(gone)
    expect(error).to_have_attribute("data-trouble", "fatal")
    expect(widget.bar).to_have_attribute("data-trouble", "fatal")
    expect(widget.page.locator(".stw-seg-active")).to_have_count(0)
    assert widget.style(".stw-error", "borderLeftColor") != retrying

    widget.set(error="", trouble="")
    expect(error).to_be_hidden()
    expect(widget.bar).to_have_attribute("data-trouble", "")
    widget.assert_clean()


def test_reduced_motion_stops_the_sweep(chromium_browser, base_url):
    context = chromium_browser.new_context(reduced_motion="reduce")
    try:
        w = Harness(context.new_page(), base_url)
        w.mount(state="PROGRESS", polling=True)
        expect(w.page.locator(".stw-seg-active")).to_have_count(1)
        assert w.style(".stw-seg-active", "animationName") == "none"
        w.assert_clean()
    finally:
        context.close()


def test_a_view_with_no_kernel_is_a_dated_snapshot_whose_clocks_stand_still(page, base_url):
    """Rebuilt from saved widget state with no kernel behind it (the shared model is not
    comm_live), a running task's view says it is a snapshot and of when, and nothing ticks:
    its times are those of the last check."""
    start = datetime(2021, 10, 5, 18, 43, 0, tzinfo=timezone.utc)
    page.clock.install(time=start.timestamp() + 900)  # reopened 15 min later
    w = Harness(page, base_url)
    now = int(start.timestamp() * 1000)
    w.mount(
        kernel={"comm_live": False},
        state="PROGRESS",
        polling=True,  # as saved: nothing will ever clear it
        creation_date="2021-10-05T18:42:49",
        stage_times={"PENDING": now - 8000, "PROGRESS": now - 3000},
        last_checked=now,
        next_check=now + 5000,
        poll_interval=5,
    )
    note = w.page.locator(".stw-snapshot")
    expect(note).to_be_visible()
    expect(note).to_have_text(
        "Snapshot, last checked 2021-10-05 18:43:00 UTC: the task had not ended then; "
        "this view is not connected to its kernel and does not update."
    )
    expect(w.dd("Elapsed")).to_have_text("11 s")  # at the last check, not 15 min later
    expect(w.dd("Queued")).to_have_text("8 s")
    expect(w.dd("Running")).to_have_text("3 s")
    expect(w.dd("Next check")).to_have_text("—")
    assert w.timers()["intervals"] == 0
    page.clock.run_for(60_000)
    expect(w.dd("Elapsed")).to_have_text("11 s")
    w.set(state="SUCCESS", completion_date="2021-10-05T18:43:10")  # ended: no note
    expect(note).to_be_hidden()
    w.assert_clean()
