"""The widget in real Jupyter front ends: JupyterLab 4, Notebook 7 and Voila, in Chromium.

Every server runs from this checkout with isolated Jupyter directories (``servers.py``);
the notebooks are written by the fixtures into a temporary folder. Their kernels talk to
services run *in this test process* on 127.0.0.1: the public :class:`Simulator` (real
timelines, for the lifecycle, submitted with a real ``globus_sdk.SearchClient.ingest``) and
the scripted ``FakeSearch`` (fixed states, 404s, hostile text).

Nothing sleeps and hopes: Playwright's ``expect`` waits on DOM states, and what must hold
at one moment ("SUCCESS shows while the hold cell runs") is recorded inside the page by a
MutationObserver at that very moment (``RECORDER_JS``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("playwright")
pytest.importorskip("nbformat")
import nbformat
from axe import format_violations, run_axe
from fake_search import FakeSearch, task_doc
from playwright.sync_api import Page, expect
from servers import Server, start_lab, start_notebook, start_voila

from search_task_widget.simulator import TUTORIAL_INDEX_ID, Simulator

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
# Screenshots land in test-artifacts/ (ignored by git); STW_UPDATE_SCREENSHOTS=1 writes
# them to docs/images/ instead, to refresh the README's pictures.
IMAGES = (
    REPO / "docs" / "images"
    if os.environ.get("STW_UPDATE_SCREENSHOTS") == "1"
    else REPO / "test-artifacts" / "screenshots"
)

#: The simulator's "success" scenario ends at 5 s; 1.25x makes it CREATING -> PENDING
#: (0.4 s) -> PROGRESS (1.6 s) -> SUCCESS (4 s).
SPEED = 1.25
#: Where the "success" scenario is at each step of a stepped clock (seconds since submitted).
STEPS = {"PENDING": 1.0, "PROGRESS": 3.0, "SUCCESS": 6.0}

FAILED_ID = "0b9f6a53-2f07-4c3e-8d7e-5e0a1f6c2d41"
MISSING_ID = "3c4b7d2e-91f0-4a6b-b8c5-7e2d9a0f1b63"
XSS_ID = "7a1e5c90-4d2b-4f8e-9b3a-6c0d8e2f4a15"
RUNNING_ID = "c2d4e6f8-1a3b-4c5d-8e7f-9a0b1c2d3e4f"
PENDING_ID = "9e8d7c6b-5a4f-4e3d-a2c1-b0a9f8e7d6c5"

XSS = '<img src=x onerror="window.__pwned=1">'
FAILURE_MESSAGE = "1 of 3 ingest documents failed: 'subject' is required"
#: What the simulator says when the one entry of ``entry`` below fails on purpose.
SIMULATED_FAILURE = (
    "1 of 1 ingest documents failed: https://data.example.org/runs/2024-06-03/scan-042: "
    "simulated error (scenario 'failure')"
)

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# --------------------------------------------------------------------------- in-page JS

#: Installed before any page script: records, at the moment it happens, every change of a
#: widget's data-state (with every cell's prompt) and every change of a widget's polite live
#: region; counts live widget intervals by wrapping setInterval.
RECORDER_JS = r"""
(() => {
  if (window.top !== window || window.__stw) return;
  const t0 = performance.now();
  const rec = { states: [], live: [] };
  window.__stw = rec;
  const taskOf = (root) => (root && root.querySelector('.stw-mono')?.textContent) || '';
  const prompts = () => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'))
    .map((c) => (c.querySelector('.jp-InputPrompt')?.textContent || '').trim());
  const seen = (list) => {
    for (const m of list) {
      const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      if (!el) continue;
      if (m.type === 'attributes') {
        if (el.classList.contains('stw-root')) {
          rec.states.push({ t: performance.now() - t0, task: taskOf(el),
            state: el.getAttribute('data-state'), prompts: prompts() });
        }
        continue;
      }
      const live = el.closest('.stw-root [aria-live="polite"]');
      if (live) {
        rec.live.push({ t: performance.now() - t0, task: taskOf(live.closest('.stw-root')),
          text: live.textContent });
      }
    }
  };
  const start = () => new MutationObserver(seen).observe(document, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ['data-state'],
  });
  start();

  // Intervals created by the widget's module (anywidget imports it from a blob: URL).
  const active = new Map();
  const set = window.setInterval, clear = window.clearInterval;
  window.setInterval = function (fn, ms, ...rest) {
    const id = set.call(this, fn, ms, ...rest);
    const stack = new Error().stack || '';
    if (/blob:|widget\.js/.test(stack)) active.set(id, ms);
    return id;
  };
  window.clearInterval = function (id) {
    active.delete(id);
    return clear.call(this, id);
  };
  window.__stwIntervals = () => active.size;
})();
"""

#: True once the current notebook's kernel is connected (kernel_info answered) and idle.
KERNEL_READY_JS = """(name) => {
  const w = window.jupyterapp?.shell?.currentWidget;
  const ctx = w?.sessionContext;
  const k = ctx?.session?.kernel;
  return !!(w?.context?.path === name && ctx.isReady && k
    && k.connectionStatus === 'connected' && k.status === 'idle');
}"""

#: Run a command without awaiting it (Run All resolves only when every cell finished).
COMMAND_JS = """([id, args]) => {
  window.__stwCommandError = null;
  window.jupyterapp.commands.execute(id, args || {})
    .catch((e) => { window.__stwCommandError = String(e); });
}"""

#: WCAG 2 contrast of every visible text-bearing element of one widget root, against the
#: effective background (semi-transparent layers composited up the ancestors).
CONTRAST_JS = r"""(root) => {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const num = (s, scale) => s === 'none' ? 0 : s.endsWith('%') ? parseFloat(s) / 100 * scale
    : parseFloat(s);
  const parse = (c) => {
    let m = /^rgba?\((.*)\)$/.exec(c);
    if (m) {
      const p = m[1].split(/[\s,/]+/).filter(Boolean);
      return { r: num(p[0], 255), g: num(p[1], 255), b: num(p[2], 255),
        a: p.length > 3 ? num(p[3], 1) : 1 };
    }
    m = /^color\(srgb\s+(.*)\)$/.exec(c);
    if (m) {
      const p = m[1].split(/[\s/]+/).filter(Boolean);
      return { r: num(p[0], 1) * 255, g: num(p[1], 1) * 255, b: num(p[2], 1) * 255,
        a: p.length > 3 ? num(p[3], 1) : 1 };
    }
    // Anything else (color-mix(), oklch(), a named colour): let a canvas resolve it.
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = 'rgba(0, 0, 0, 0)';
    ctx.fillStyle = c;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    return { r: d[0], g: d[1], b: d[2], a: d[3] / 255 };
  };
  const over = (top, below, alpha = top.a) => ({
    r: top.r * alpha + below.r * (1 - alpha),
    g: top.g * alpha + below.g * (1 - alpha),
    b: top.b * alpha + below.b * (1 - alpha), a: 1 });
  // The parent, or the host of a shadow root (marimo draws widgets in shadow roots).
  const up = (e) => e.parentElement || e.getRootNode().host || null;
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = up(e)) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) layers.push(c);
      if (c.a >= 1) break;
    }
    let base = { r: 255, g: 255, b: 255, a: 1 };  // the canvas
    for (const c of layers.reverse()) base = over(c, base);
    return base;
  };
  const opacity = (el) => {
    let o = 1;
    for (let e = el; e; e = up(e)) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  };
  const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = (c) => 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  const css = (c) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
  const out = [];
  for (const el of root.querySelectorAll('*')) {
    const ownText = Array.from(el.childNodes)
      .some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!ownText || el.closest('.stw-sr-only') || el.disabled) continue;
    if (!el.checkVisibility({ visibilityProperty: true })) continue;
    const bg = background(el);
    const raw = parse(getComputedStyle(el).color);
    const fg = over(raw, bg, raw.a * opacity(el));
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    out.push({
      // getAttribute: an SVG element's className is no string.
      element: el.tagName.toLowerCase() + (el.getAttribute('class') ? '.' + el.getAttribute('class').split(' ').join('.') : ''),
      text: el.textContent.trim().slice(0, 40),
      color: getComputedStyle(el).color, fg: css(fg), bg: css(bg),
      ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
    });
  }
  return out;
}"""


# --------------------------------------------------------------------------- notebooks


def _search_date(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def setup_cell(sim: Simulator, fake: FakeSearch) -> str:
    return f'''\
import os
import globus_sdk
import search_task_widget as stw

# A simulated Search service on this machine (no account needed) and a scripted fake.
os.environ["GLOBUS_SDK_SERVICE_URL_SEARCH"] = "{sim.base_url}"
FAKE = "{fake.base_url}"
search = globus_sdk.SearchClient()
INDEX_ID = "{TUTORIAL_INDEX_ID}"
entry = {{
    "ingest_type": "GMetaEntry",
    "ingest_data": {{
        "subject": "https://data.example.org/runs/2024-06-03/scan-042",
        "visible_to": ["public"],
        "content": {{"title": "Scan 042", "instrument": "APS 8-ID-I", "frames": 1800}},
    }},
}}'''


#: The cell the screenshots show: what a user writes after an ingest.
INGEST_CELL = """\
reply = search.ingest(INDEX_ID, entry)
w = stw.watch(reply, poll_interval=0.3, max_poll_interval=0.5)"""


#: Ingest with a chosen simulator scenario (the simulator reads it from this header).
VOILA_SUBMIT = """\
def submit(scenario):
    return search.post(
        f"/v1/index/{INDEX_ID}/ingest",
        data=entry,
        headers={"X-Simulator-Scenario": scenario},
    )"""


def hold_cell(release: Path) -> str:
    """A cell that stays busy until the test creates ``release`` (at most two minutes)."""
    return f"""\
import pathlib, time
release, deadline = pathlib.Path(r"{release}"), time.monotonic() + 120
while not release.exists() and time.monotonic() < deadline:
    time.sleep(0.05)"""


class SteppedClock:
    """A simulator clock that moves only when the test moves it (POSIX seconds)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def fake_cell(name: str, task_id: str) -> str:
    return f'{name} = stw.watch("{task_id}", base_url=FAKE, poll_interval=0.3)'


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def fake():
    """FakeSearch with fixed documents (its docs never change unless scripted)."""
    old = datetime.now(timezone.utc) - timedelta(hours=2, minutes=5)
    with FakeSearch() as service:
        service.put_task(task_doc(FAILED_ID, "FAILED"))
        service.put_task(
            task_doc(
                XSS_ID,
                "FAILED",
                message=XSS,
                state_description=XSS,
                additional_details={"html": XSS},
            )
        )
        service.put_task(task_doc(RUNNING_ID, "PROGRESS"))
        service.put_task(task_doc(PENDING_ID, "PENDING", creation_date=_search_date(old)))
        yield service


@pytest.fixture(scope="module")
def simulator():
    with Simulator(speed=SPEED) as sim:
        yield sim


#: The notebooks whose task moves only when their test steps its clock.
HELD_NOTEBOOKS = ("lifecycle", "notebook7")


@pytest.fixture(scope="module")
def stepped() -> dict[str, SteppedClock]:
    """The clock of each held notebook's simulator (one each: tests may run in any order)."""
    return {name: SteppedClock() for name in HELD_NOTEBOOKS}


@pytest.fixture(scope="module")
def stepped_simulators(stepped):
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(Simulator(clock=clock)) for name, clock in stepped.items()}


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    """The folder where a test creates the files that end the notebooks' hold cells."""
    return tmp_path_factory.mktemp("releases")


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory, simulator, stepped_simulators, fake, releases) -> Path:
    """The test notebooks (servers serve a copy of this folder)."""
    folder = tmp_path_factory.mktemp("notebooks")
    setup = setup_cell(simulator, fake)
    # The held notebooks ingest on a stepped simulator of their own, and end with a cell
    # that stays busy until the test lets it go: "the widget moves while another cell runs"
    # then holds however slow the machine.
    held = {name: setup_cell(sim, fake) for name, sim in stepped_simulators.items()}
    write_notebook(
        folder / "lifecycle.ipynb",
        held["lifecycle"],
        INGEST_CELL,
        fake_cell("failed", FAILED_ID),
        fake_cell("missing", MISSING_ID),
        fake_cell("hostile", XSS_ID),
        fake_cell("running", RUNNING_ID),
        hold_cell(releases / "lifecycle"),
    )
    write_notebook(
        folder / "themes.ipynb",
        setup,
        INGEST_CELL,
        fake_cell("failed", FAILED_ID),
        fake_cell("running", RUNNING_ID),
    )
    write_notebook(
        folder / "clock.ipynb",
        setup,
        fake_cell("queued", PENDING_ID) + '\nprint("model:", queued.model_id)',
    )
    write_notebook(
        folder / "notebook7.ipynb",
        held["notebook7"],
        INGEST_CELL,
        hold_cell(releases / "notebook7"),
    )
    write_notebook(
        folder / "voila.ipynb",
        setup,
        VOILA_SUBMIT,
        'failed = stw.watch(submit("failure"), poll_interval=0.3, max_poll_interval=0.5)',
        'ok = stw.watch(submit("success"), poll_interval=0.3, max_poll_interval=0.5)',
        "failed.wait(timeout=60)\nok.wait(timeout=60);",
    )
    return folder


def _need(module: str) -> None:
    """Skip without a test dependency on a developer machine; fail on CI (``$CI``)."""
    try:
        __import__(module)
    except ImportError:
        reason = f"the {module} package is not installed"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, notebooks):
    _need("jupyterlab")
    server = start_lab(tmp_path_factory.mktemp("lab-home"), notebooks)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory, notebooks):
    _need("notebook")
    server = start_notebook(tmp_path_factory.mktemp("nb7-home"), notebooks)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def voila(tmp_path_factory, notebooks):
    _need("voila")
    server = start_voila(tmp_path_factory.mktemp("voila-home"), notebooks / "voila.ipynb")
    yield server
    server.stop()


def offline_page(browser, **context_args) -> Page:
    """A page in a fresh context: only loopback requests (no CDN fonts), the recorder on."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_args)
    context.set_default_timeout(15_000)
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    context.add_init_script(RECORDER_JS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{exc.message}\n{exc.stack}"))
    page.stw_errors = errors  # type: ignore[attr-defined]
    return page


def show(locator) -> None:
    """Scroll ``locator`` fully into view at once (JupyterLab's notebook scrolls smoothly)."""
    locator.evaluate("e => e.scrollIntoView({ block: 'center', behavior: 'instant' })")
    locator.page.wait_for_function(
        """(e) => { const r = e.getBoundingClientRect();
            return r.top >= 0 && r.bottom <= innerHeight; }""",
        arg=locator.element_handle(),
    )


def assert_axe_clean(nb: NotebookPage, cells) -> None:
    """No axe-core violation in the widgets of ``cells``, colour contrast included.

    axe judges contrast only for text it finds on screen, so each widget is scrolled into
    view first. JupyterLab's <body> is 0 px high (the shell is absolutely positioned) and
    ``overflow: hidden``; axe takes that as clipping everything inside the notebook's
    scroller and skips the contrast rule as "inapplicable". A body as high as the window
    changes nothing on screen and lets axe see the text.
    """
    nb.page.add_style_tag(content="html, body { height: 100%; }")
    problems, version = [], ""
    for index in cells:
        root = nb.root(index)
        show(root)
        results = run_axe(root)
        version = results["version"]
        assert "color-contrast" not in results["inapplicable"], (index, results["inapplicable"])
        problems += results["violations"]
    assert problems == [], (
        f"axe-core {version} found violations in the widget:\n" + format_violations(problems)
    )


def widget_errors(page: Page) -> list[str]:
    """Uncaught page errors that come from the widget's module (blob: URL)."""
    return [e for e in page.stw_errors if "stw" in e or "blob:" in e]  # type: ignore[attr-defined]


class NotebookPage:
    """One notebook open in JupyterLab or Notebook 7, driven through its commands."""

    def __init__(self, page: Page, server: Server, name: str):
        self.page, self.server, self.name = page, server, name

    def open(self) -> NotebookPage:
        path = f"lab/tree/{self.name}" if self.server.kind == "lab" else f"notebooks/{self.name}"
        self.page.goto(
            self.server.url(path, **({"reset": ""} if self.server.kind == "lab" else {}))
        )
        if self.server.kind == "lab":
            # The status bar says Idle only once the kernel answered kernel_info.
            expect(
                self.page.locator(".jp-StatusBar-TextItem").filter(
                    has_text="Python 3 (ipykernel) | Idle"
                )
            ).to_be_visible(timeout=45_000)
        self.page.wait_for_function(KERNEL_READY_JS, arg=self.name, timeout=45_000)
        self.cells.first.click()
        return self

    @property
    def cells(self):
        return self.page.locator(".jp-Notebook .jp-Cell")

    def cell(self, index: int):
        return self.cells.nth(index)

    def root(self, index: int):
        return self.cell(index).locator(".stw-root")

    def prompt(self, index: int):
        return self.cell(index).locator(".jp-InputPrompt")

    def command(self, command_id: str, args: dict | None = None) -> None:
        self.page.evaluate(COMMAND_JS, [command_id, args])

    def run_all(self) -> NotebookPage:
        self.command("notebook:run-all-cells")
        return self

    def states(self) -> list[dict]:
        return self.page.evaluate("() => window.__stw.states")

    def close(self) -> None:
        self.page.context.close()
        self.server.delete_sessions()


def assert_moves_while_held(
    nb: NotebookPage, task_root, hold_index: int, clock: SteppedClock, release: Path
) -> None:
    """The widget moves to SUCCESS while the last (hold) cell runs, then the cell ends.

    The task moves only when the clock is stepped, and only once every cell before the
    hold cell has finished; the hold cell ends only when ``release`` exists. What the page
    showed at each moment is recorded inside it (``RECORDER_JS``).
    """
    expect(task_root).to_have_attribute("data-state", "CREATING")
    expect(nb.prompt(hold_index - 1)).to_have_text(re.compile(r"\[\d+\]:"))
    task_id = task_root.locator(".stw-mono").first.text_content()
    submitted = clock.now  # the clock stood still since the task was submitted
    for state, at in STEPS.items():
        clock.now = submitted + at
        expect(task_root).to_have_attribute("data-state", state)
    moments = [s for s in nb.states() if s["task"] == task_id and s["state"] == "SUCCESS"]
    assert moments, nb.states()
    first = moments[0]
    # At that moment every earlier cell had finished (a number) and the hold cell had not:
    # the update arrived from the background thread mid-cell. (The front end's kernel status
    # is no witness: Notebook 7 was seen showing "idle" while a cell still ran.)
    assert first["prompts"][hold_index] == "[*]:", first
    assert all(re.fullmatch(r"\[\d+\]:", p) for p in first["prompts"][:hold_index]), first
    seen = [s["state"] for s in nb.states() if s["task"] == task_id]
    changes = [state for n, state in enumerate(seen) if n == 0 or seen[n - 1] != state]
    assert changes[-3:] == ["PENDING", "PROGRESS", "SUCCESS"], seen
    # And the hold cell does finish once let go, with the widget untouched.
    release.touch()
    expect(nb.prompt(hold_index)).to_have_text(re.compile(r"\[\d+\]:"))
    expect(task_root).to_have_attribute("data-state", "SUCCESS")


# --------------------------------------------------------------------------- JupyterLab


@pytest.fixture(scope="module")
def lab_run(chromium_browser, lab):
    """lifecycle.ipynb, Run All in JupyterLab (shared by the lifecycle and a11y tests)."""
    nb = NotebookPage(offline_page(chromium_browser), lab, "lifecycle.ipynb")
    try:
        nb.open().run_all()
        yield nb
    finally:
        nb.close()


def test_lab_lifecycle_updates_while_another_cell_runs(lab_run, stepped, releases):
    nb = lab_run
    root = nb.root(1)
    assert_moves_while_held(nb, root, 6, stepped["lifecycle"], releases / "lifecycle")
    bar = root.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "4")
    expect(bar).to_have_attribute("aria-valuetext", "Succeeded")
    expect(root.locator(".stw-desc")).to_have_text("Task succeeded")
    expect(root.locator(".stw-badge")).to_have_text("SUCCESS")
    expect(root.locator("dt:text-is('Completed') + dd")).not_to_have_text("—")
    assert nb.page.evaluate("() => window.__stwCommandError") is None
    assert widget_errors(nb.page) == []


def test_lab_failed_task_shows_message_and_details(lab_run):
    root = lab_run.root(2)
    expect(root).to_have_attribute("data-state", "FAILED")
    expect(root.locator(".stw-message")).to_have_text(FAILURE_MESSAGE)
    expect(root.locator(".stw-message")).to_be_visible()
    details = root.locator("details.stw-details")
    expect(details).to_have_attribute("open", "")
    expect(details.locator("pre")).to_contain_text('"error_type": "ValidationError"')
    expect(details.locator("pre")).to_be_visible()
    expect(root.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "Failed")


def test_lab_missing_task_shows_the_error(lab_run):
    root = lab_run.root(3)
    error = root.locator(".stw-error")
    expect(error).to_contain_text("Task not found")
    expect(error).to_contain_text("404")
    expect(error).to_be_visible()
    expect(root).to_have_attribute("data-trouble", "fatal")
    expect(root.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(root.locator(".stw-seg-active")).to_have_count(0)  # nothing pretends to move


def test_lab_hostile_text_stays_text(lab_run):
    page = lab_run.page
    root = lab_run.root(4)
    expect(root).to_have_attribute("data-state", "FAILED")
    expect(root.locator(".stw-message")).to_have_text(XSS)
    expect(root.locator(".stw-desc")).to_have_text(XSS)
    expect(root.locator(".stw-pre")).to_contain_text(
        '"html": "<img src=x onerror=\\"window.__pwned=1\\">"'
    )
    expect(page.locator(".stw-root img")).to_have_count(0)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"


def test_lab_output_area_css_keeps_the_widget_layout(lab_run):
    root = lab_run.root(2)
    expect(root).to_have_attribute("data-state", "FAILED")
    layout = root.evaluate(
        """r => {
            const s = (sel) => getComputedStyle(r.querySelector(sel));
            return { dl: s('.stw-dl').display, idCell: s('.stw-id-cell').display,
                     dtFloat: s('.stw-dl > dt').cssFloat, ddFloat: s('.stw-dl > dd').cssFloat };
        }"""
    )
    assert layout == {"dl": "grid", "idCell": "flex", "dtFloat": "none", "ddFloat": "none"}


def test_lab_accessibility(lab_run):
    nb, page = lab_run, lab_run.page
    lifecycle = nb.root(1)
    expect(lifecycle).to_have_attribute("data-state", "SUCCESS", timeout=20_000)
    for index, state in [(2, "FAILED"), (4, "FAILED"), (5, "PROGRESS")]:
        expect(nb.root(index)).to_have_attribute("data-state", state)
    expect(nb.root(3)).to_have_attribute("data-trouble", "fatal")

    # Every bar is a progressbar with a value and words for it.
    bars = page.locator(".stw-root [role=progressbar]")
    expect(bars).to_have_count(5)
    for i in range(5):
        for attr in ("aria-valuenow", "aria-valuetext", "aria-valuemin", "aria-valuemax"):
            expect(bars.nth(i)).to_have_attribute(attr, re.compile(r".+"))
    expect(nb.root(5).get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", "Running (stage 3 of 4)"
    )

    # axe-core on each widget only (JupyterLab's own UI is not ours to judge).
    assert_axe_clean(nb, range(1, 6))

    # The live region spoke once per state change of the lifecycle task, in order, and
    # never for the liveness stamps (unchanged text is never rewritten).
    task_id = lifecycle.locator(".stw-mono").first.text_content()
    spoken = [e["text"] for e in page.evaluate("() => window.__stw.live") if e["task"] == task_id]
    order = ["CREATING", "PENDING", "PROGRESS", "SUCCESS"]
    states = [re.match(r"Task state: (\w+)", text).group(1) for text in spoken]
    assert states == [s for s in order if s in states], spoken  # in order, none twice
    assert states[-2:] == ["PROGRESS", "SUCCESS"], spoken
    assert spoken[-1] == "Task state: SUCCESS — Task succeeded"
    # The document that then replaced the live view has no hidden live region of its own:
    # where styles are stripped it would repeat the header, which says the end itself.
    expect(lifecycle.locator("[aria-live=polite]")).to_have_count(0)
    expect(lifecycle.locator(".stw-badge")).to_have_text("SUCCESS")

    # Reduced motion: the running bar keeps still.
    active = nb.root(5).locator(".stw-seg-active")
    expect(active).to_have_count(1)
    assert active.evaluate("e => getComputedStyle(e).animationName") == "stw-sweep"
    page.emulate_media(reduced_motion="reduce")
    try:
        style = active.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.animationName, s.animationDuration, s.backgroundImage]; }"
        )
        assert style[0] == "none" or style[1] in ("0s", "0ms"), style
    finally:
        page.emulate_media(reduced_motion="no-preference")


def test_lab_clock_ticks_without_comm_traffic(chromium_browser, lab):
    page = offline_page(chromium_browser)
    frames: list[tuple[float, str | bytes]] = []

    def on_websocket(ws) -> None:
        if "/api/kernels/" in ws.url and "/channels" in ws.url:
            ws.on("framereceived", lambda payload: frames.append((time.monotonic(), payload)))

    page.on("websocket", on_websocket)
    nb = NotebookPage(page, lab, "clock.ipynb")
    try:
        nb.open().run_all()
        root = nb.root(1)
        expect(root).to_have_attribute("data-state", "PENDING")
        model_id = re.search(r"model: (\w+)", nb.cell(1).locator(".jp-OutputArea").inner_text())
        assert model_id, nb.cell(1).inner_text()
        model = model_id.group(1)
        elapsed = root.locator("dt:text-is('Elapsed') + dd")
        expect(elapsed).to_have_text(re.compile(r"^2 h 0\d min \d\d s$"))
        # Let the first update settle: one tick after it.
        first = elapsed.text_content()
        expect(elapsed).not_to_have_text(first, timeout=3000)
        assert page.evaluate("() => window.__stwIntervals()") == 1

        def comm_msgs() -> int:
            page.evaluate("() => 0")  # let Playwright deliver the frames received so far
            return sum(
                1
                for _, payload in frames
                if "comm_msg" in _text(payload) and model in _text(payload)
            )

        start, before = time.monotonic(), comm_msgs()
        assert before > 0, "the widget's own updates were not seen: is the frame filter right?"
        values = [elapsed.text_content()]
        while len(values) < 3:
            expect(elapsed).not_to_have_text(values[-1], timeout=2500)
            values.append(elapsed.text_content())
        during = comm_msgs() - before
        window = time.monotonic() - start
        assert len(set(values)) == 3, values
        assert window < 8, f"window of {window:.1f} s reaches the next liveness stamp"
        assert during == 0, f"{during} comm_msg frames for {model} arrived while the clock ticked"
        assert frames, "no kernel websocket frames were seen at all"

        # Remove the output: the view's interval goes with it.
        nb.command("notebook:clear-all-cell-outputs")
        expect(page.locator(".stw-root")).to_have_count(0)
        page.wait_for_function("() => window.__stwIntervals() === 0", timeout=5000)
        assert widget_errors(page) == []
    finally:
        nb.close()


def _text(payload: str | bytes) -> str:
    return payload if isinstance(payload, str) else payload.decode("utf-8", "replace")


# --------------------------------------------------------------------------- themes


def _set_theme(nb: NotebookPage, theme: str, light: bool) -> None:
    nb.command("apputils:change-theme", {"theme": theme})
    nb.page.wait_for_function(
        """([theme, light]) => document.body.dataset.jpThemeName === theme
            && document.body.dataset.jpThemeLight === String(light)""",
        arg=[theme, light],
    )
    # The theme's CSS is in once the layout colour is the theme's.
    dark = "true" if not light else "false"
    nb.page.wait_for_function(
        """(dark) => {
            const v = getComputedStyle(document.body).getPropertyValue('--jp-layout-color1').trim();
            const probe = document.createElement('div');
            probe.style.color = v; document.body.append(probe);
            const [r, g, b] = getComputedStyle(probe).color.match(/\\d+/g).map(Number);
            probe.remove();
            return (r + g + b < 200) === (dark === 'true');
        }""",
        arg=dark,
    )


def _check_theme(nb: NotebookPage, theme: str) -> None:
    """Run the notebook, screenshot running and finished, check contrast and bar colours."""
    slug = "dark" if "Dark" in theme else "light"
    nb.run_all()
    lifecycle = nb.root(1)
    expect(lifecycle).to_have_attribute("data-state", "PROGRESS", timeout=20_000)
    IMAGES.mkdir(parents=True, exist_ok=True)
    nb.cell(1).screenshot(path=IMAGES / f"lab-{slug}-running.png", animations="disabled")
    expect(lifecycle).to_have_attribute("data-state", "SUCCESS", timeout=20_000)
    expect(nb.root(2)).to_have_attribute("data-state", "FAILED")
    expect(nb.root(3)).to_have_attribute("data-state", "PROGRESS")
    nb.page.mouse.move(1, 1)  # no hover effect in the picture
    nb.cell(1).screenshot(path=IMAGES / f"lab-{slug}-finished.png", animations="disabled")

    low = []
    for index in (1, 2, 3):
        measured = nb.root(index).evaluate(CONTRAST_JS)
        found = {m["element"] for m in measured}
        for required in ("dt", "dd", "span.stw-badge", "span.stw-desc"):
            assert any(e == required or e.startswith(required + ".") for e in found), (
                theme,
                required,
                found,
            )
        low += [m for m in measured if m["ratio"] < 4.5]
    assert not low, f"{theme}: text below WCAG AA 4.5:1:\n" + "\n".join(map(json.dumps, low))

    colours = {
        state: nb.root(index)
        .locator(".stw-seg-on")
        .first.evaluate("e => getComputedStyle(e).backgroundColor")
        for index, state in [(1, "SUCCESS"), (2, "FAILED"), (3, "running")]
    }
    assert len(set(colours.values())) == 3, (theme, colours)
    empty = (
        nb.root(3)
        .locator(".stw-seg:not(.stw-seg-on)")
        .first.evaluate("e => getComputedStyle(e).backgroundColor")
    )
    assert empty not in colours.values(), (theme, colours, empty)
    assert_axe_clean(nb, (1, 2, 3))


def test_lab_themes_contrast_and_screenshots(chromium_browser, lab):
    page = offline_page(chromium_browser, device_scale_factor=2)  # crisp docs images
    nb = NotebookPage(page, lab, "themes.ipynb")
    try:
        nb.open()
        assert page.evaluate("() => document.body.dataset.jpThemeName") == "JupyterLab Light"
        _check_theme(nb, "JupyterLab Light")
        _set_theme(nb, "JupyterLab Dark", light=False)
        _check_theme(nb, "JupyterLab Dark")
    finally:
        try:
            _set_theme(nb, "JupyterLab Light", light=True)  # the setting is per server
        finally:
            nb.close()


# --------------------------------------------------------------------------- Notebook 7


def test_notebook7_lifecycle_updates_while_another_cell_runs(
    chromium_browser, notebook7, stepped, releases
):
    page = offline_page(chromium_browser)
    nb = NotebookPage(page, notebook7, "notebook7.ipynb")
    try:
        nb.open().run_all()
        root = nb.root(1)
        assert_moves_while_held(nb, root, 2, stepped["notebook7"], releases / "notebook7")
        expect(root.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "4")
        expect(root.locator(".stw-desc")).to_have_text("Task succeeded")
        assert widget_errors(page) == []
    finally:
        nb.close()


# --------------------------------------------------------------------------- Voila


def test_voila_renders_end_states(chromium_browser, voila):
    page = offline_page(chromium_browser)
    try:
        # Voila sends the page once every cell ran, so both wait() calls have returned.
        page.goto(voila.url(""), wait_until="commit", timeout=60_000)
        roots = page.locator(".stw-root")
        expect(roots).to_have_count(2, timeout=60_000)
        failed, ok = roots.nth(0), roots.nth(1)
        expect(failed).to_have_attribute("data-state", "FAILED")
        expect(failed.locator(".stw-message")).to_have_text(SIMULATED_FAILURE)
        expect(failed.locator("details.stw-details")).to_have_attribute("open", "")
        expect(failed.locator(".stw-pre")).to_contain_text('"error_type": "SimulatedError"')
        expect(failed.get_by_role("progressbar")).to_have_attribute("aria-valuetext", "Failed")
        expect(ok).to_have_attribute("data-state", "SUCCESS")
        expect(ok.locator(".stw-desc")).to_have_text("Task succeeded")
        expect(ok.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "4")
        # Both were watched through their run, not just found finished.
        for root in (failed, ok):
            expect(root.locator("dt:text-is('Running') + dd")).to_have_text(re.compile(r"^\d+ s$"))
        assert widget_errors(page) == []
    finally:
        page.context.close()


# --------------------------------------------------------------------------- sign-in

SIGN_IN_ID = "e4d3c2b1-a09f-4e8d-b7c6-5a4b3c2d1e0f"
AUTHORIZE = re.compile(r"^https://auth\.globus\.org/v2/oauth2/authorize\?")

#: Make cell ``index`` the active one (then ``notebook:run-cell`` runs it again).
ACTIVATE_CELL_JS = "(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }"


def test_lab_sign_in_with_globus_then_the_task_is_watched(chromium_browser, lab, tmp_path):
    """A person signs in through the panel; the kernel's Globus Auth is mocked.

    The kernel mocks Globus Auth with ``tests/globus_auth.py`` (globus-sdk's own testing
    responses), keeps tokens in a throwaway HOME, and watches a task on a FakeSearch that
    answers only with the Search token the code grant hands out. So SUCCESS shows only if the
    code typed into the page reached the kernel, was exchanged, and the poller's thread then
    used the new token and its updates reached the page.
    """
    from globus_auth import CLIENT_ID, fake_token

    name = "signin.ipynb"
    home = tmp_path / "kernel-home"
    home.mkdir()
    token, refresh = fake_token("search"), fake_token("refresh")
    with FakeSearch() as service:
        service.require_bearer = token
        steps = [task_doc(SIGN_IN_ID, s) for s in ("PENDING", "PROGRESS", "SUCCESS")]
        service.script(SIGN_IN_ID, steps)
        write_notebook(
            lab.root / name,
            f"""\
import os
import sys

os.environ["HOME"] = r"{home}"  # the sign-in stores its tokens under ~/.globus
sys.path.insert(0, r"{REPO / "tests"}")
from globus_auth import CLIENT_ID, code_grant_response, mocked_auth

import search_task_widget as stw

# Globus Auth stays mocked for the kernel's life; the context manager is kept, or
# collecting it would close its generator and end the mock.
auth_mock = mocked_auth()
auth = auth_mock.__enter__()
auth.answer_token_request(code_grant_response("{token}", "{refresh}"))""",
            f"""\
w = stw.TaskWidget(
    "{SIGN_IN_ID}",
    auth=stw.login_app(CLIENT_ID),
    base_url="{service.base_url}",
    poll_interval=0.3,
)
w""",
            '[r["code"] for r in auth.token_requests()]',
        )
        nb = NotebookPage(offline_page(chromium_browser), lab, name)
        try:
            nb.open().run_all()
            root = nb.root(1)
            panel = root.get_by_role("region", name="Sign in with Globus")
            expect(panel).to_be_visible(timeout=20_000)
            expect(panel.locator(".stw-signin-title")).to_have_text("Sign in with Globus")
            link = panel.get_by_role("link", name="Open the Globus sign-in page")
            expect(link).to_have_attribute("href", AUTHORIZE)
            assert f"client_id={CLIENT_ID}" in link.get_attribute("href")
            expect(link).to_have_attribute("target", "_blank")
            expect(nb.cell(2).locator(".jp-OutputArea-output")).to_have_text("[]")
            assert service.requests == []  # nothing is polled without a token
            assert_axe_clean(nb, (1,))  # the panel in JupyterLab's own CSS

            code = panel.get_by_label("Paste the code it shows")
            code.fill("  stw-e2e-code ")
            panel.get_by_role("button", name="Sign in", exact=True).click()
            expect(root).to_have_attribute("data-state", "SUCCESS", timeout=20_000)
            expect(root.locator("section.stw-signin")).to_be_hidden()
            expect(root.locator(".stw-desc")).to_have_text("Task succeeded")
            expect(root.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "4")
            # Watched live through the poller thread's updates, not found finished.
            seen = [s["state"] for s in nb.states() if s["task"] == SIGN_IN_ID]
            assert "PROGRESS" in seen, seen
            assert {r.headers.get("authorization") for r in service.requests} == {f"Bearer {token}"}

            # The kernel exchanged exactly the (trimmed) code typed into the page, once.
            nb.page.evaluate(ACTIVATE_CELL_JS, 2)
            nb.command("notebook:run-cell")
            expect(nb.cell(2).locator(".jp-OutputArea-output")).to_have_text("['stw-e2e-code']")
            stored = list((home / ".globus").rglob("*.json"))
            assert len(stored) == 1, stored
            assert token in stored[0].read_text()
            assert stored[0].stat().st_mode & 0o077 == 0, oct(stored[0].stat().st_mode)
            assert nb.page.evaluate("() => window.__stwCommandError") is None
            assert widget_errors(nb.page) == []
        finally:
            nb.close()
