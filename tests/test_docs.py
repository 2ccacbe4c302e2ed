"""The documentation site: it builds offline without a warning, and says what it should.

The build (``python -m sphinx -W --keep-going -b html docs OUT``, as in the README) runs once
per module, in a subprocess, into a temporary folder. It executes every tutorial on the
simulator, so it is marked ``kernel`` as well as ``docs`` (``pytest -m docs`` selects it).
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import search_task_widget as stw

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TUTORIALS = sorted((DOCS / "tutorials").glob("*.nblink"))
BUILD_TIMEOUT = 170  # s; about 35 s on 2 cores, most of it the tutorials' simulated tasks
#: A finished widget's document (its opening, up to the end of its first part).
SNAPSHOT = re.compile(r'<div class="stw-(?:list-)?root stw-document"[^>]*>(.*?)</div>', re.S)
# Public names a widget has that the reference leaves out on purpose: ipywidgets' own,
# redefined only to keep them out of saved notebooks.
UNDOCUMENTED = {"tabbable", "tooltip"}


# -- without a build ------------------------------------------------------------------------


def test_every_tutorial_notebook_has_a_page():
    linked = {json.loads(path.read_text())["notebook"] for path in TUTORIALS}

    assert linked == {f"notebooks/{path.name}" for path in NOTEBOOKS}
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    for path in TUTORIALS:
        assert f"tutorials/{path.stem}\n" in index, f"{path.name} is in no toctree"


def test_readme_test_command_is_the_ci_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first_block, "the README's first bash block holds the two commands"
    commands = [line for line in first_block.group(1).splitlines() if line and line[0] != "#"]
    ci_script = REPO / ".ci" / "run"
    if not ci_script.exists():
        pytest.skip("no .ci/run here (an sdist)")
    ci_lines = ci_script.read_text(encoding="utf-8").splitlines()

    assert len(commands) == 2
    assert commands[0].startswith("pip install . jupyterlab && jupyter lab")
    assert commands[1] in ci_lines


def test_readme_links_point_at_files_that_exist():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\((?!https?://|#)([^)#]+)(?:#[^)]*)?\)", readme)

    assert "docs/reference.md" in targets
    assert "docs/troubleshooting.md" in targets
    missing = [target for target in targets if not (REPO / target).exists()]
    assert missing == []


# -- the built site ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Build the site once for this module; return its output folder."""
    work = tmp_path_factory.mktemp("docs")
    out = work / "html"
    env = {
        **os.environ,
        "IPYTHONDIR": str(work / ".ipython"),  # no user startup files in the kernels
        "JUPYTER_RUNTIME_DIR": str(work / ".runtime"),
        "STW_DOCS_EXECUTE": "force",
    }
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html"]
    command += ["-d", str(work / "doctrees"), str(DOCS), str(out)]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"sphinx-build failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return out


def _page(site: Path, name: str) -> str:
    path = site / name
    assert path.is_file(), f"{name} was not built"
    return path.read_text(encoding="utf-8")


@pytest.mark.docs
@pytest.mark.kernel
def test_site_has_the_guide_pages_and_the_screenshots(site):
    for name in (
        "index.html",
        "what-you-see.html",
        "notebook-users.html",
        "signing-in.html",
        "many-tasks.html",
        "terminal.html",
        "tutorial-authors.html",
        "gateway-operators.html",
        "performance.html",
        "hosts.html",
        "troubleshooting.html",
        "development.html",
        "changelog.html",
        "reference.html",
    ):
        _page(site, name)
    assert "Watch Globus Search tasks live in Jupyter." in _page(site, "index.html")
    assert "model not found" in _page(site, "troubleshooting.html")
    for image in (REPO / "docs" / "images").glob("*.png"):
        assert (site / "_images" / image.name).is_file(), image.name


@pytest.mark.docs
@pytest.mark.kernel
def test_no_page_loads_anything_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link)[^>]+(src|href)=\"(https?:)?//", text), page.name


@pytest.mark.docs
@pytest.mark.kernel
def test_api_reference_is_generated_from_the_docstrings(site):
    reference = _page(site, "reference.html")

    for name in ("TaskWidget", "TaskListWidget", "watch", "TaskWidget.wait", "TaskListWidget.wait"):
        assert f'id="search_task_widget.{name}"' in reference, name
    # A docstring's own words, and a trait's #: comment.
    assert "A live view of one Globus Search task." in reference
    assert "id (canonical UUID form). Synced." in reference
    for name in stw.__all__:
        if name != "__version__":
            assert f'id="search_task_widget.{name}"' in reference, f"{name} is not documented"


@pytest.mark.docs
@pytest.mark.kernel
@pytest.mark.parametrize("widget", [stw.TaskWidget, stw.TaskListWidget, stw.SignInWidget])
def test_api_reference_lists_every_public_member_of_the_widgets(site, widget):
    reference = _page(site, "reference.html")
    ours = sorted(
        name
        for klass in widget.__mro__
        if klass.__module__.startswith("search_task_widget")
        for name in vars(klass)
        if not name.startswith("_") and name not in UNDOCUMENTED
    )

    assert "set_auth" in ours
    assert "wait" in ours or widget is stw.SignInWidget
    missing = [n for n in ours if f'id="search_task_widget.{widget.__name__}.{n}"' not in reference]
    assert missing == []


@pytest.mark.docs
@pytest.mark.kernel
def test_tutorial_pages_show_what_the_notebooks_printed(site):
    quickstart = _page(site, "tutorials/01-quickstart.html")
    ingest = _page(site, "tutorials/02-ingest-and-watch.html")
    dashboard = _page(site, "tutorials/03-gateway-dashboard.html")

    assert "message: 1 of 3 ingest documents failed" in html.unescape(quickstart)
    assert "retry_failed() sent 1 entry again" in html.unescape(ingest)
    for page in (quickstart, ingest, dashboard):
        assert SNAPSHOT.search(page), "no widget output"
        # The widgets' saved state and views are left out: a page has no kernel.
        assert "application/vnd.jupyter.widget-state+json" not in page
        assert "application/vnd.jupyter.widget-view+json" not in page


@pytest.mark.docs
@pytest.mark.kernel
def test_tutorial_widgets_show_how_their_tasks_ended(site):
    for tutorial in TUTORIALS:
        page = _page(site, f"tutorials/{tutorial.stem}.html")
        for snapshot in SNAPSHOT.findall(page):
            text = html.unescape(re.sub(r"<[^>]+>", " ", snapshot))
            assert re.search(r"\b(SUCCESS|FAILED|CANCELLED)\b", text), (tutorial.stem, text)
            assert not re.search(r"CREATING|PENDING|PROGRESS|not checked", text), (
                tutorial.stem,
                text,
            )
