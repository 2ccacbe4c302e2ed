"""Issue #15 in Chromium: the timeline of the list (bars placed by their times, tooltip,
keyboard, summary, contrast in light and dark, axe), the static SVG of a finished list's
document, and the bell's notification (granted, denied, unsupported).

The layout's arithmetic is tested in node (js/test/) and Python (tests/test_timeline.py);
here only what a person sees and does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from axe import format_violations, run_axe
from harness import HarnessPage
from playwright.sync_api import Page, expect
from test_list_frontend import DARK, Harness, traits

from search_task_widget._documents.document import list_document

pytestmark = pytest.mark.browser

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
MS0 = int(T0.timestamp() * 1000)
# The page's document.hidden, as the test sets it (Chromium keeps a tested page visible).
HIDDEN = """
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get: () => Boolean(window.__hidden),
});
window.__asked = 0;
window.__notes = [];
"""
DENIED = """
if (window.Notification) {
  let state = "default";
  Object.defineProperty(Notification, "permission", { configurable: true, get: () => state });
  Notification.requestPermission = async () => { window.__asked += 1; state = "denied"; return state; };
}
"""
UNSUPPORTED = "delete window.Notification;"
SPY = """
if (window.Notification) {
  const Real = window.Notification;
  window.Notification = class extends Real {
    constructor(title, options) { window.__notes.push({ title, body: options.body }); super(title, options); }
  };
}
"""


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def trow(n: int, state: str, created: float, started: float | None, ended: float | None) -> dict:
    """A row with times in seconds after T0."""
    return {
        "task_id": f"{n:08d}-0000-4000-8000-000000000000",
        "state": state,
        "state_description": f"Task is {state.lower()}",
        "task_type": "ingest",
        "message": "1 document rejected" if state == "FAILED" else None,
        "additional_details": None,
        "creation_date": iso(created),
        "completion_date": iso(ended) if ended is not None else None,
        "started": MS0 + started * 1000 if started is not None else None,
        "error": "",
        "trouble": "",
    }


ROWS = [
    trow(1, "SUCCESS", 0, 20, 40),
    trow(2, "FAILED", 10, 40, 60),
    trow(3, "SUCCESS", 20, None, 80),  # ended between two checks: no start seen
    trow(4, "CANCELLED", 30, 60, 100),
]


def clock(seconds: float) -> str:
    """Local time of day in the browser, which runs in the machine's zone like Python."""
    return (T0 + timedelta(seconds=seconds)).astimezone().strftime("%H:%M:%S")


@pytest.fixture
def view(page, base_url):
    return Harness(page, base_url)


def test_bars_are_placed_by_their_times_and_named_on_hover(view):
    view.mount(**traits(ROWS, polling=False, last_completed=iso(100)))
    chart = view.page.get_by_role("region", name="Timeline")
    expect(chart.locator(".stw-tl-summary")).to_have_text(
        "4 tasks: 2 succeeded, 1 failed, 1 cancelled; median queue 30 s, median run 20 s"
    )
    bars = chart.get_by_role("button", name="Task ")
    expect(bars).to_have_count(4)
    box = chart.locator(".stw-tl-bars").bounding_box()
    assert box

    def frac(locator) -> tuple[float, float]:
        b = locator.bounding_box()
        return (b["x"] - box["x"]) / box["width"], (b["x"] + b["width"] - box["x"]) / box["width"]

    # Task 2: queued 10..40 s, running 40..60 s of a 0..100 s span; ordered by submission.
    second = bars.nth(1)
    assert frac(second.locator(".stw-tl-queue")) == pytest.approx((0.10, 0.40), abs=0.01)
    assert frac(second.locator(".stw-tl-run")) == pytest.approx((0.40, 0.60), abs=0.01)
    assert second.bounding_box()["y"] > bars.nth(0).bounding_box()["y"]
    # No start seen: one span from submission to the end.
    assert frac(bars.nth(2).locator(".stw-tl-run")) == pytest.approx((0.20, 0.80), abs=0.01)
    expect(chart.locator(".stw-tl-now")).to_have_count(0)  # nothing runs: no "now" line

    bars.nth(1).hover()
    label = (
        f"Task 00000002: FAILED. Submitted {clock(10)}, started {clock(40)}, ended {clock(60)} "
        "(queued 30 s, ran 20 s)"
    )
    expect(chart.get_by_role("tooltip")).to_have_text(label)
    expect(bars.nth(1)).to_have_attribute("aria-label", label)
    view.assert_clean()


def test_keyboard_reaches_a_bar_and_enter_shows_its_row(page, base_url):
    rows = [*ROWS, trow(5, "PROGRESS", 50, 70, None)]
    page.clock.install(time=T0 + timedelta(seconds=120))
    view = Harness(page, base_url)
    view.mount(**traits(rows, polling=True))
    view.filter.select_option("running")  # task 2 is not listed now
    chart = view.page.get_by_role("region", name="Timeline")
    expect(chart.locator(".stw-tl-now")).to_have_count(1)  # tasks run: a "now" line
    chart.locator("summary").focus()
    view.page.keyboard.press("Tab")
    first = chart.get_by_role("button", name="Task 00000001")
    expect(first).to_be_focused()
    expect(chart.get_by_role("tooltip")).to_contain_text("Task 00000001: SUCCESS")
    view.page.keyboard.press("ArrowDown")
    second = chart.get_by_role("button", name="Task 00000002")
    expect(second).to_be_focused()
    expect(first).to_have_attribute("tabindex", "-1")  # one bar in the tab order
    view.page.keyboard.press("End")
    expect(chart.get_by_role("button", name="Task 00000005")).to_be_focused()
    view.page.keyboard.press("Home")
    view.page.keyboard.press("ArrowDown")
    view.page.keyboard.press("Enter")
    row = view.page.locator("li.stw-list-row[data-task-id^='00000002']")
    expect(row).to_have_attribute("aria-current", "true")
    expect(row.locator("details")).to_have_attribute("open", "")
    expect(row.locator("summary")).to_be_focused()
    expect(view.filter).to_have_value("all")
    view.assert_clean()


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: list[float], b: list[float]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# Each paint of a bar and the background, composited as drawn (alpha over the page).
PAINTS_JS = """() => {
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const over = (fg, bg) => fg.slice(0, 3).map((c, i) => c * fg[3] + bg[i] * (1 - fg[3]));
  const root = document.querySelector(".stw-list-root");
  const bg = rgba(getComputedStyle(root).backgroundColor);
  const out = {};
  for (const g of document.querySelectorAll(".stw-tl-bar")) {
    const run = getComputedStyle(g.querySelector(".stw-tl-run"));
    const queue = getComputedStyle(g.querySelector(".stw-tl-queue"));
    out[g.dataset.tone + ":run"] = over(rgba(run.fill), bg);
    out[g.dataset.tone + ":queue-outline"] = over(rgba(queue.stroke), bg);
  }
  out.background = bg;
  return out;
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_bars_keep_contrast_and_axe_is_clean(page, base_url, theme):
    page.clock.install(time=T0 + timedelta(seconds=120))
    view = Harness(page, base_url)
    if theme == "dark":
        view.page.add_style_tag(content=DARK)
    rows = [*ROWS, trow(5, "PROGRESS", 50, 70, None)]
    view.mount(**traits(rows, polling=True))
    paints = view.page.evaluate(PAINTS_JS)
    background = paints.pop("background")
    # WCAG 1.4.11: graphics that carry meaning at 3:1 against what is next to them.
    for tone in ("success", "failed", "running"):
        assert _contrast(paints[f"{tone}:run"], background) >= 3, (theme, tone, paints)
    assert _contrast(paints["success:queue-outline"], background) >= 3, paints
    view.page.get_by_role("button", name="Task 00000002").hover()
    results = run_axe(view.root)
    assert results["violations"] == [], format_violations(results["violations"])
    view.assert_clean()


def test_static_timeline_of_a_finished_list_in_a_page(page: Page):
    rows = [{**r, "started": r["started"]} for r in ROWS]
    document = list_document("4 tasks", rows, {"first_submitted": iso(0)})
    page.set_content(f'<!doctype html><html lang="en"><title>t</title><body>{document}</body>')
    figure = page.get_by_role("img", name="Timeline. 4 tasks: 2 succeeded")
    expect(figure).to_be_visible()
    assert figure.bounding_box()["height"] > 60
    expect(page.locator("figcaption")).to_have_text(
        "4 tasks: 2 succeeded, 1 failed, 1 cancelled; median queue 30 s, median run 20 s."
    )
    expect(page.locator("figure rect")).to_have_count(3 + 4 + 2)  # queues, runs, buckets
    results = run_axe(page.locator(".stw-list-root"))
    assert results["violations"] == [], format_violations(results["violations"])


class Widget(HarnessPage):
    module = "widget"


def _ending_task(seconds: float) -> tuple[dict, dict]:
    start = {
        "task_id": "1a2b3c4d-0000-4000-8000-000000000000",
        "state": "PROGRESS",
        "creation_date": iso(0),
        "polling": True,
        "notify": True,
    }
    end = {"state": "SUCCESS", "completion_date": iso(seconds), "polling": False}
    return start, end


def test_granted_a_long_task_ending_on_a_hidden_page_is_a_notification(page, base_url):
    page.context.grant_permissions(["notifications"], origin=base_url)
    page.add_init_script(HIDDEN + SPY)
    view = Widget(page, base_url)
    start, end = _ending_task(95)
    view.mount(**start)
    bell = page.get_by_role("button", name="Notify me")
    expect(bell).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("status").filter(has_text="notification")).to_have_text(
        "You will get a notification when this ends while the page is hidden."
    )
    page.evaluate("window.__hidden = true")
    title = page.title()
    view.set(**end)
    assert page.evaluate("window.__notes") == [
        {
            "title": "Task 1a2b3c4d succeeded",
            "body": "Search task 1a2b3c4d-0000-4000-8000-000000000000 succeeded after 1 min 35 s.",
        }
    ]
    assert page.title() == title
    assert view.errors == []


@pytest.mark.parametrize("browser_says", ["denied", "unsupported"])
def test_refused_or_unsupported_the_title_changes_and_the_widget_says_so(
    page, base_url, browser_says
):
    page.add_init_script(HIDDEN + (DENIED if browser_says == "denied" else UNSUPPORTED))
    view = Harness(page, base_url)
    rows = [trow(1, "PROGRESS", 0, 10, None), trow(2, "SUCCESS", 0, 5, 50)]
    # Denied: opted in from Python (notify=True), so the click asks and keeps it on.
    from_python = browser_says == "denied"
    view.mount(**traits(rows, notify=from_python))
    bell = page.get_by_role("button", name="Notify me")
    expect(bell).to_have_attribute("aria-pressed", "true" if from_python else "false")
    assert page.evaluate("window.__asked") == 0  # nothing asked without a click
    bell.click()
    expect(bell).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.stw.model.saves") == 1  # the click sets the synced trait
    assert page.evaluate("window.__asked") == (1 if browser_says == "denied" else 0)
    status = page.locator(".stw-bell-status")
    why = "The browser blocks" if browser_says == "denied" else "This browser cannot show"
    expect(status).to_have_text(
        f"{why} notifications: the page title will change when this ends while the page is hidden."
    )
    title = page.title()
    page.evaluate("window.__hidden = true")
    rows[0] = trow(1, "SUCCESS", 0, 10, 120)
    view.set(**traits(rows, last_completed=iso(120)))
    assert page.title() == f"All 2 tasks succeeded — {title}"
    expect(status).to_contain_text("All 2 tasks succeeded.")
    page.evaluate("window.stw.cleanup()")  # the view may be gone (a document) by then
    page.evaluate("window.__hidden = false; document.dispatchEvent(new Event('visibilitychange'))")
    assert page.title() == title
    view.assert_clean()


def test_bench_timeline_runs_and_reports_each_measure(chromium_browser):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "bench_timeline.py"
    spec = importlib.util.spec_from_file_location("bench_timeline", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = bench.measure(20, renders=1, updates=2, browser=chromium_browser)
    assert {k: len(v) for k, v in results.items()} == {
        "render": 1, "update": 2, "svg": 1, "canvas": 1,
    }  # fmt: skip
    assert all(0 < ms < 10_000 for values in results.values() for ms in values)
    assert bench.format_table(20, results).count("\n") == 5


def test_to_html_of_a_list_draws_the_timeline_offline(page: Page, fake_search, ticked):
    from fake_search import FAKE_INDEX_ID, task_doc

    from search_task_widget import TaskListWidget

    docs = [task_doc(state="SUCCESS"), task_doc(state="FAILED")]
    for doc in docs:
        fake_search.put_task(doc)
    w = TaskListWidget([d["task_id"] for d in docs], base_url=fake_search.base_url,
                       poller=ticked, start=False, index_id=FAKE_INDEX_ID)  # fmt: skip
    try:
        w.start()
        ticked.tick()
        html = w.to_html()
    finally:
        w.close()
    page.route("**/*", lambda route: route.abort())  # offline: nothing may be fetched
    page.set_content(html)
    chart = page.get_by_role("region", name="Timeline")
    expect(chart.get_by_role("button", name="Task ")).to_have_count(2)
    expect(chart.locator(".stw-tl-summary")).to_have_text("2 tasks: 1 succeeded, 1 failed")
    expect(page.locator("figure.stw-tl-static")).to_be_hidden()  # the copy for no scripts


# -- rows told apart, 390 px to 1600 px ----------------------------------------------------

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WIDTHS = [390, 800, 1600]


def _tasks(n: int) -> list[dict]:
    """``n`` ended tasks submitted a second apart, each queued 5 s and run 20 s; every
    7th failed."""
    return [
        trow(i, "FAILED" if i % 7 == 0 else "SUCCESS", i, i + 5, i + 25) for i in range(1, n + 1)
    ]


# Each row label (its glyphs' box and size), the centres of the bars' rows top to bottom,
# where the drawing begins, every text's size, and whether the page scrolls sideways.
ROWS_JS = """(root, drawing) => {
  const box = (r) => ({ top: r.top, bottom: r.bottom, left: r.left, right: r.right });
  const labels = [...root.querySelectorAll('.stw-tl-rows li')].map((li) => {
    const range = document.createRange();
    range.selectNodeContents(li);
    return { text: li.textContent, size: parseFloat(getComputedStyle(li).fontSize),
             ...box(range.getBoundingClientRect()) };
  });
  const rows = [];
  const centres = [...root.querySelectorAll('.stw-tl-run rect, rect.stw-tl-run')]
    .map((r) => { const b = r.getBoundingClientRect(); return (b.top + b.bottom) / 2; })
    .sort((a, b) => a - b);
  for (const y of centres) if (!rows.length || y - rows.at(-1) > 0.5) rows.push(y);
  const sizes = [];
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (n.textContent.trim() && el.checkVisibility() && !el.closest('.stw-sr-only')) {
      sizes.push([parseFloat(getComputedStyle(el).fontSize), n.textContent.trim().slice(0, 30)]);
    }
  }
  return { labels, rows, drawingLeft: root.querySelector(drawing).getBoundingClientRect().left,
           sizes, sideways: document.documentElement.scrollWidth > window.innerWidth };
}"""


def _assert_rows_named(root, drawing: str, count: int) -> None:
    """Each row label sits beside the drawing, centred on the row its number names, at
    11 px or more, apart from the next; every text of the chart is 11 px or more, and the
    page does not scroll sideways."""
    seen = root.evaluate(ROWS_JS, drawing)
    labels, rows = seen["labels"], seen["rows"]
    assert len(labels) == count, [label["text"] for label in labels]
    for label, after in zip(labels, [*labels[1:], None], strict=True):
        number = int(label["text"].split()[0])
        assert label["size"] >= 11, label
        assert abs((label["top"] + label["bottom"]) / 2 - rows[number - 1]) <= 1.5, (label, rows)
        assert label["right"] <= seen["drawingLeft"] + 0.5, label
        assert after is None or after["top"] >= label["bottom"] - 1.5, (label, after)
    assert not [s for s in seen["sizes"] if s[0] < 11], seen["sizes"]
    assert not seen["sideways"]


def _assert_labels_legible(root) -> None:
    """The row labels are text: WCAG AA 4.5:1 against what is behind them."""
    from test_jupyter_hosts import CONTRAST_JS

    measured = [m for m in root.evaluate(CONTRAST_JS) if m["element"].startswith("li")]
    assert measured
    assert not [m for m in measured if m["ratio"] < 4.5], measured


@pytest.mark.parametrize("n", [3, 500])
@pytest.mark.parametrize("width", WIDTHS)
def test_live_rows_are_named_and_readable_at_every_width(page, base_url, width, n):
    page.set_viewport_size({"width": width, "height": 900})
    view = Harness(page, base_url)
    view.mount(**traits(_tasks(n), polling=False, last_completed=iso(n + 25)))
    chart = page.locator(".stw-tl")
    expect(chart.get_by_role("button", name="Task ")).to_have_count(n)
    for theme in ("light", "dark"):
        if theme == "dark":
            page.add_style_tag(content=DARK)
        # 3 tasks: every row, with its task's id; 500: every 5th row's number.
        _assert_rows_named(chart, ".stw-tl-bars", n if n < 20 else n // 5)
        _assert_labels_legible(chart)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        chart.screenshot(path=str(ARTIFACTS / f"timeline-live-{n}-{width}-{theme}.png"))
    first = chart.locator(".stw-tl-rows li").first
    expect(first).to_have_text("1 00000001" if n < 20 else "5")
    # One time scale: the counts and the bars begin and end at the same x, beside the labels.
    counts, drawing = (chart.locator(s).bounding_box() for s in (".stw-tl-counts", ".stw-tl-bars"))
    assert counts["x"] == pytest.approx(drawing["x"], abs=1)
    assert counts["width"] == pytest.approx(drawing["width"], abs=1)
    # 3 tasks ended within a minute: no throughput block (it would be one, as tall as the chart).
    expect(chart.locator(".stw-tl-rate")).to_be_visible(visible=n > 3)
    view.assert_clean()


@pytest.mark.parametrize("n", [3, 500])
@pytest.mark.parametrize("width", WIDTHS)
def test_saved_rows_are_named_and_readable_at_every_width(page: Page, width, n):
    page.set_viewport_size({"width": width, "height": 900})
    document = list_document(f"{n} tasks", _tasks(n), {"first_submitted": iso(1)})
    page.set_content(
        '<!doctype html><html lang="en"><title>t</title>'
        f'<body style="margin:16px">{document}</body>'
    )
    figure = page.locator("figure.stw-tl-static")
    for theme in ("light", "dark"):
        if theme == "dark":
            page.add_style_tag(content=DARK + "body { background: #111; color: #eee; }")
        # The saved copy draws at most MAX_BARS (200) bars: every 5th of them numbered.
        _assert_rows_named(figure, "svg", n if n < 20 else 200 // 5)
        _assert_labels_legible(figure)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        figure.screenshot(path=str(ARTIFACTS / f"timeline-saved-{n}-{width}-{theme}.png"))
