"""A view rebuilt from saved widget state, with no kernel behind it: a dated snapshot.

JupyterLab with "Save Widget State Automatically" on saves each live model in the notebook
(here: a task still running, its shared front end and layout, as ``ipywidgets.embed``
serialises them, which is JupyterLab's format). Reopened later, with a new kernel that knows
none of those models, JupyterLab rebuilds the views from that state; the shared front-end
model is then not ``comm_live``, so the view must say it is a snapshot and of when, and keep
its clocks still (before, it showed "40 running" while Elapsed kept counting). With "No
Kernel", JupyterLab rebuilds no widget view at all ("Loading widget..."): a host limit that
docs/tutorial-authors.md states, with the way out.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import nbformat
import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect
from saved_notebooks import WIDGET_STATE_MIME, WIDGET_VIEW_MIME
from servers import start_lab

import search_task_widget as stw

pytestmark = pytest.mark.browser

CREATED = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
CHECKED_MS = int(CREATED.timestamp() * 1000) + 75_000  # the last check, 1 min 15 s later


def saved_while_running(path) -> None:
    """A notebook as JupyterLab saves it with widget state: one running task's view."""
    from ipywidgets.embed import dependency_state

    widget = stw.TaskWidget(str(uuid.uuid4()), base_url="http://127.0.0.1:9/", start=False)
    try:
        widget.set_state(
            {
                "state": "PROGRESS",
                "state_description": "Task is running",
                "task_type": "ingest",
                "creation_date": "2026-01-01T12:00:00",
                "stage_times": {"PENDING": CHECKED_MS - 70_000, "PROGRESS": CHECKED_MS - 50_000},
                "polling": True,  # as saved: nothing will ever clear it
                "last_checked": CHECKED_MS,
                "next_check": CHECKED_MS + 2000,
            }
        )
        state = dependency_state([widget], drop_defaults=False)
        data = {
            "text/plain": repr(widget),
            "text/html": "<p>the static forms</p>",
            WIDGET_VIEW_MIME: {"version_major": 2, "version_minor": 0, "model_id": widget.model_id},
        }
    finally:
        widget.close()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["widgets"] = {WIDGET_STATE_MIME: {"state": state, "version_major": 2,
                                                  "version_minor": 0}}  # fmt: skip
    output = nbformat.v4.new_output("display_data", data=data)
    nb.cells = [nbformat.v4.new_code_cell("w", outputs=[output])]
    nbformat.write(nb, path)


def test_a_view_rebuilt_without_its_kernel_is_a_dated_snapshot(chromium_browser, tmp_path):
    from nbformat.sign import NotebookNotary

    folder = tmp_path / "notebooks"
    folder.mkdir()
    saved_while_running(folder / "running.ipynb")
    # Trusted (signed by the server's notary): untrusted, JupyterLab shows the text/html.
    data = tmp_path / "home" / "data"
    data.mkdir(parents=True)
    notary = NotebookNotary(data_dir=str(data))
    notary.sign(nbformat.read(folder / "running.ipynb", as_version=4))
    notary.store.close()
    lab = start_lab(
        tmp_path / "home",
        folder,
        {"@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True}},
    )
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(lab.url("lab/tree/running.ipynb", reset=""))
        root = page.locator(".jp-OutputArea-output .stw-root")
        expect(root).to_have_attribute("data-state", "PROGRESS")
        expect(root.locator(".stw-snapshot")).to_have_text(
            "Snapshot, last checked 2026-01-01 12:01:15 UTC: the task had not ended then; "
            "this view is not connected to its kernel and does not update."
        )
        elapsed = root.locator("dt", has_text="Elapsed").locator("xpath=following-sibling::dd[1]")
        # At the last check: a clock still going would say how long since 2026-01-01 now.
        expect(elapsed).to_have_text("1 min 15 s")
        expect(
            root.locator("dt", has_text="Next check").locator("xpath=following-sibling::dd[1]")
        ).to_have_text("—")
        expect(page.get_by_text("Loading widget")).to_have_count(0)
        assert errors == []
    finally:
        context.close()
        lab.stop()
