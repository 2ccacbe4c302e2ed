"""``stw.ingest`` live in JupyterLab, in Chromium: the job's header and its batches' list
move while another cell runs, and end showing the failed entries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import expect
from servers import start_lab
from test_jupyter_hosts import (
    NotebookPage,
    hold_cell,
    offline_page,
    widget_errors,
    write_notebook,
)

from search_task_widget.simulator import TUTORIAL_INDEX_ID, Simulator

pytestmark = pytest.mark.browser


def ingest_cell(base_url: str) -> str:
    return f'''\
import search_task_widget as stw

entries = [{{"subject": f"s{{n}}", "visible_to": ["public"], "content": {{"t": n}}}}
           for n in range(30)]
entries[4]["subject"] = "x" * 600      # refused before sending
entries[17]["content"]["t"] = "warm"   # fails in its task
job = stw.ingest("{TUTORIAL_INDEX_ID}", entries, base_url="{base_url}",
                 limits=stw.Limits(batch_entries=5), poll_interval=0.3)
job'''


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """Created by the test to end the notebook's second cell (which runs until then)."""
    return tmp_path_factory.mktemp("release") / "go"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, release):
    with Simulator(speed=10) as simulator:
        folder = tmp_path_factory.mktemp("notebooks")
        write_notebook(folder / "ingest.ipynb", ingest_cell(simulator.base_url), hold_cell(release))
        server = start_lab(tmp_path_factory.mktemp("lab-home"), folder)
        try:
            yield server
        finally:
            server.stop()


def test_the_job_is_live_in_jupyterlab_while_another_cell_runs(chromium_browser, lab, release):
    nb = NotebookPage(offline_page(chromium_browser), lab, "ingest.ipynb")
    try:
        nb.open().run_all()
        header = nb.cell(0).locator(".stw-ingest")
        expect(header).to_contain_text(
            "(done): 30 read, 1 invalid, 29 sent, 28 indexed, 1 failed", timeout=30_000
        )
        # The end came while the second cell still ran (it runs until released): drawn
        # live, from the job's thread.
        expect(nb.prompt(0)).to_have_text(re.compile(r"\[\d+\]:"))
        expect(nb.prompt(1)).to_have_text("[*]:")
        expect(header).to_contain_text("subject_bytes")
        expect(header).to_contain_text("'warm' is a string")
        batches = nb.cell(0).locator(".stw-list-root")
        expect(batches).to_contain_text("FAILED")
        release.touch()
        expect(nb.prompt(1)).to_have_text(re.compile(r"\[\d+\]:"))
        assert widget_errors(nb.page) == []
    finally:
        nb.close()
