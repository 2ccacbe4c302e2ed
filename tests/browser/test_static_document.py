"""What an executed notebook shows with no kernel and no widgets: each task's end.

A notebook of the suite's own is executed headless by nbclient (as papermill, nbconvert and
jupyter-book do), then looked at where people keep it:

- JupyterLab 4 opening it without running it, trusted (HTML as written) and untrusted (HTML
  through JupyterLab's sanitiser, which drops scripts, ARIA and many styles), in its light
  and dark themes;
- ``jupyter nbconvert --to html`` of it, opened offline;
- a plain page with a light and a dark background (the document alone).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright")
import nbformat
from axe import format_violations, run_axe
from fake_search import FakeSearch, task_doc
from playwright.sync_api import Page, expect
from saved_notebooks import CELLS, WIDGET_VIEW_MIME, widget_outputs
from servers import Server, start_lab
from test_jupyter_hosts import CONTRAST_JS, NotebookPage, _set_theme

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
#: Screenshots for people to look at (ignored by git).
ARTIFACTS = REPO / "test-artifacts" / "screenshots"

XSS = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ID = "7a1e5c90-4d2b-4f8e-9b3a-6c0d8e2f4a15"

#: What each widget output of the executed notebook must show, in order, visibly.
SHOWN = [
    ("SUCCESS", "Task succeeded", "Completed"),
    ("FAILED", "ingest documents failed"),
    ("2 tasks", "SUCCESS", "FAILED"),
    ("SUCCESS", "Task succeeded"),
    ("FAILED", XSS),
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    """The suite's notebook plus a hostile task, executed by nbclient on this checkout."""
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("executed")
    with FakeSearch() as fake:
        fake.put_task(
            task_doc(
                HOSTILE_ID,
                "FAILED",
                message=XSS,
                state_description=XSS,
                additional_details={"x": XSS},
            )
        )
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        hostile = (
            f'hostile = stw.watch("{HOSTILE_ID}", base_url="{fake.base_url}", poll_interval=0.1)'
        )
        nb.cells = [
            nbformat.v4.new_code_cell(source) for source in [*CELLS, hostile, "hostile.wait(30);"]
        ]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["IPYTHONDIR"] = str(folder / "ipython")
        for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID"):
            env.pop(name, None)
        NotebookClient(nb, timeout=90, kernel_name="python3").execute(env=env)
    outputs = widget_outputs(nb)
    assert len(outputs) == len(SHOWN)
    assert not [o for o in outputs if WIDGET_VIEW_MIME in o["data"]]
    # A kernel (and language) this machine does not have: JupyterLab starts none and asks
    # which one to use; "No Kernel" it is. The outputs alone must tell how each task ended.
    nb.metadata["kernelspec"] = {"name": "stw-absent", "display_name": "Absent", "language": "stw"}
    nb.metadata["language_info"] = {"name": "stw"}
    return nb


def assert_shown(outputs, shown: list[tuple[str, ...]]) -> None:
    """Each output (a Locator over widget outputs, in order) shows its texts, visibly."""
    expect(outputs).to_have_count(len(shown))
    for i, texts in enumerate(shown):
        for text in texts:
            expect(outputs.nth(i).get_by_text(text, exact=False).first).to_be_visible()


def _assert_legible(outputs, where: str) -> None:
    """Every visible text of every output at WCAG AA contrast against what is behind it."""
    low = []
    for i in range(outputs.count()):
        outputs.nth(i).scroll_into_view_if_needed()
        low += [r for r in outputs.nth(i).evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
    assert not low, f"{where}: text below 4.5:1:\n" + "\n".join(map(json.dumps, low))


# --------------------------------------------------------------------------- JupyterLab


@pytest.fixture(scope="module")
def saved(tmp_path_factory, executed) -> Path:
    """trusted.ipynb and untrusted.ipynb: the same outputs, different content."""
    folder = tmp_path_factory.mktemp("static-notebooks")
    for name in ("trusted", "untrusted"):
        copy = nbformat.from_dict(json.loads(json.dumps(executed)))
        # Different content, so the trusted copy's signature does not cover the other.
        copy.cells.insert(0, nbformat.v4.new_markdown_cell(f"The {name} copy"))
        nbformat.write(copy, folder / f"{name}.ipynb")
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory, saved):
    """One JupyterLab for the module; it trusts trusted.ipynb (signed with its notary)."""
    pytest.importorskip("jupyterlab")
    from nbformat.sign import NotebookNotary

    home = tmp_path_factory.mktemp("static-lab-home")
    # The server's notary keeps its secret and signatures in JUPYTER_DATA_DIR (home/data).
    data = home / "data"
    data.mkdir()
    notary = NotebookNotary(data_dir=str(data))
    notary.sign(nbformat.read(saved / "trusted.ipynb", as_version=4))
    notary.store.close()
    server = start_lab(home, saved)
    yield server
    server.stop()


def _open_without_kernel(page: Page, lab: Server, name: str):
    page.goto(lab.url(f"lab/tree/{name}", reset=""))
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=30_000)
    dialog.get_by_role("button", name=re.compile("No Kernel|Cancel")).first.click()
    expect(page.locator(".jp-StatusBar-TextItem").filter(has_text="No Kernel")).to_be_visible()
    return page.locator(".jp-Notebook .jp-Cell .jp-OutputArea-output").filter(
        has_not_text=re.compile(r"^[(\[]?'")  # the cells' own results ('SUCCESS', ...)
    )


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_lab_shows_each_end_without_a_kernel(chromium_browser, lab, trusted):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        name = "trusted.ipynb" if trusted else "untrusted.ipynb"
        outputs = _open_without_kernel(page, lab, name)
        assert_shown(outputs, SHOWN)
        expect(page.get_by_text("Loading widget")).to_have_count(0)
        expect(page.get_by_text("Error displaying widget")).to_have_count(0)
        board = outputs.nth(2)
        expect(board.locator("li").filter(has_text="FAILED").first).to_be_visible()
        # Read as text (copied, or by a reader of the page), the words stay apart: the task
        # header, and the timeline's words, which are HTML beside a drawing with no text.
        header = outputs.nth(1).locator(".stw-header").inner_text()
        assert re.match(r"FAILED\W+\w", header), header
        text = board.inner_text()
        assert "tasks (0 to" not in text
        assert not re.search(r"[a-z](queued|running|succeeded|failed)", text), text
        # What the sanitiser keeps: words always; ARIA and theme colours only when trusted.
        bars = page.locator(".jp-OutputArea-output [role=progressbar]")
        if trusted:
            expect(bars).to_have_count(len(SHOWN))
            borders = [
                outputs.nth(i)
                .locator(".stw-badge")
                .evaluate("e => getComputedStyle(e).borderTopColor")
                for i in (0, 1)
            ]
            assert borders[0] != borders[1], borders  # SUCCESS and FAILED look different
        else:
            expect(bars).to_have_count(0)
        assert page.locator(".jp-OutputArea-output img").count() == 0
        assert page.evaluate("typeof window.__pwned") == "undefined"
        nb = NotebookPage(page, lab, name)
        try:
            for theme, light in (("JupyterLab Light", True), ("JupyterLab Dark", False)):
                _set_theme(nb, theme, light)
                _assert_legible(outputs, f"{name} in {theme}")
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shot = ARTIFACTS / f"document-lab-{name[:-6]}-{'light' if light else 'dark'}.png"
                page.locator(".jp-Notebook").screenshot(path=shot)
        finally:
            _set_theme(nb, "JupyterLab Light", True)  # the setting is the server's
        assert errors == []
    finally:
        context.close()


# --------------------------------------------------------------------------- nbconvert


def test_nbconvert_html_offline_shows_each_end(page: Page, saved, tmp_path):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    # The lab template's own <script src> tags point at a CDN: require.js and MathJax always,
    # the widgets' HTML manager when the executor saved widget state (nbclient does). The
    # documents need none of them, and nothing of ours may be fetched.
    template_cdn = {exporter.require_js_url, exporter.mathjax_url, _html_manager_url(exporter)}
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(tmp_path),
         str(saved / "untrusted.ipynb")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    html = (tmp_path / "untrusted.html").read_text(encoding="utf-8")
    assert '<script type="application/vnd.jupyter.widget-view+json">' not in html  # no view
    requested: list[str] = []

    def block(route) -> None:
        requested.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!file:)"), block)
    console: list[tuple[str, str]] = []
    page.on("console", lambda m: console.append((m.type, m.location.get("url", ""))))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((tmp_path / "untrusted.html").as_uri())
    outputs = page.locator(".jp-OutputArea-output").filter(has=page.locator(".stw-document"))
    assert_shown(outputs, SHOWN)
    for i in range(len(SHOWN)):
        assert outputs.nth(i).bounding_box()["height"] > 40
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "document-nbconvert.png", full_page=True)
    assert set(requested) <= template_cdn, requested
    unexpected = [c for c in console if c[0] == "error" and c[1] not in template_cdn]
    assert unexpected == [], console
    assert errors == []
    assert page.evaluate("typeof window.__pwned") == "undefined"


def _html_manager_url(exporter) -> str:
    return (
        f"{exporter.jupyter_widgets_base_url}@jupyter-widgets/html-manager@"
        f"{exporter.html_manager_semver_range}/dist/embed-amd.js"
    )


# --------------------------------------------------------------------------- plain page


@pytest.mark.parametrize(
    ("theme", "background", "text"),
    [("light", "#ffffff", "#1f1f1f"), ("dark", "#111111", "#e0e0e0")],
)
def test_documents_are_legible_on_light_and_dark_pages(
    page: Page, executed, theme, background, text
):
    documents = [o["data"]["text/html"] for o in widget_outputs(executed)]
    body = "".join(f"<section>{document}</section>" for document in documents)
    page.set_content(
        f'<!DOCTYPE html><html lang="en"><head><title>t</title></head>'
        f'<body style="background:{background};color:{text}">{body}</body></html>'
    )
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("img").count() == 0
    assert_shown(page.locator("section"), SHOWN)  # the hostile text too, as text
    sections = page.locator("section")
    for i in range(sections.count()):
        low = [r for r in sections.nth(i).evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
        assert not low, f"{theme} {i}: below WCAG AA:\n" + "\n".join(map(json.dumps, low))
    expect(sections.nth(0).get_by_role("progressbar")).to_have_attribute(
        "aria-valuetext", "Succeeded"
    )
    results = run_axe(sections)
    assert results["violations"] == [], format_violations(results["violations"])


def test_an_executed_tutorial_renders_offline_with_each_end(page: Page, tmp_path):
    """A tutorial as a publisher ships it: executed headless, exported, read offline."""
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(REPO / "notebooks" / "02-ingest-and-watch.ipynb", as_version=4)
    env = dict(os.environ, STW_TUTORIAL_OFFLINE="1", STW_SIMULATOR_SPEED="4")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "STW_INDEX_ID", "STW_CLIENT_ID"):
        env.pop(name, None)
    NotebookClient(nb, timeout=90, kernel_name="python3", resources={
        "metadata": {"path": str(tmp_path)}}).execute(env=env)  # fmt: skip
    exporter = HTMLExporter()
    body, _ = exporter.from_notebook_node(nb)
    (tmp_path / "tutorial.html").write_text(body, encoding="utf-8")
    template_cdn = {exporter.require_js_url, exporter.mathjax_url, _html_manager_url(exporter)}
    requested: list[str] = []
    page.route(
        re.compile(r"^(?!file:)"),
        lambda route: (requested.append(route.request.url), route.abort()),
    )
    console: list[tuple[str, str]] = []
    page.on("console", lambda m: console.append((m.type, m.location.get("url", ""))))
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto((tmp_path / "tutorial.html").as_uri())
    documents = page.locator(".stw-document")
    expect(documents).to_have_count(len(widget_outputs(nb)))
    # The ingest job: its header (how it ended, the entry still failed), then its batches'
    # list with the timeline, one of them FAILED on a field type.
    header = page.locator(".stw-ingest")
    expect(header).to_contain_text("(done): 40 read, 1 invalid, 39 sent, 39 indexed")
    expect(header).to_contain_text("subject_bytes")
    expect(documents.nth(0).locator("figure.stw-tl-static svg")).to_be_visible()
    expect(documents.nth(0)).to_contain_text("FAILED")
    assert set(requested) <= template_cdn, requested
    assert [c for c in console if c[0] == "error" and c[1] not in template_cdn] == [], console
    assert errors == []


#: The width of the documentation site's content column (furo, a desktop window).
DOCS_CONTENT_WIDTH = 736
#: The geometry of a document's panels: each ``dl``'s box, and whether each label (``dt``)
#: sits on the same row as its value (``dd``).
PANELS_JS = """root => [...root.querySelectorAll('.stw-panels > dl')].map(dl => ({
  top: dl.getBoundingClientRect().top,
  bottom: dl.getBoundingClientRect().bottom,
  rows: [...dl.querySelectorAll('dt')].map(dt =>
    Math.abs(dt.getBoundingClientRect().top - dt.nextElementSibling.getBoundingClientRect().top) < 2),
}))"""


@pytest.mark.parametrize("width", [DOCS_CONTENT_WIDTH, 360])
def test_a_documents_panels_keep_their_layout_with_no_stylesheet_of_ours(page: Page, width):
    """Where the widget's stylesheet is not loaded (the docs site, nbconvert HTML, a notebook
    reopened without a kernel), the document's own styles lay it out as the live widget:
    identity and timing side by side at the docs' width, wrapped on a phone, and each label
    beside its value either way, not one tall column of labels over values."""
    from search_task_widget._documents.document import task_document

    created, completed = "2026-12-07T04:19:07.678338", "2026-12-07T04:19:27.1"
    times = {"PENDING": 1_796_617_148_000.0, "PROGRESS": 1_796_617_153_000.0}
    state = {
        **task_doc(HOSTILE_ID, "SUCCESS", creation_date=created, completion_date=completed),
        "error": "",
        "stage_times": {**times, "SUCCESS": 1_796_617_167_000.0},
    }
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body style="margin:0">'
        f'<main style="width:{width}px">{task_document(state)}</main></body></html>'
    )
    ids, timing = page.locator(".stw-document").evaluate(PANELS_JS)
    assert all(ids["rows"]), ids
    assert all(timing["rows"]), timing
    if width == DOCS_CONTENT_WIDTH:
        assert ids["top"] == timing["top"]  # two columns
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator(".stw-document").screenshot(path=str(ARTIFACTS / "document-docs-width.png"))
    else:
        assert timing["top"] >= ids["bottom"]  # wrapped below
