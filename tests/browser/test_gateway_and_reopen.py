"""Hosts a test starts for itself: a JupyterHub gateway's Voila dashboard, and JupyterLab
reopening a saved notebook with a fresh kernel, in Chromium.

Apart from ``test_jupyter_hosts.py`` (whose module's servers the other tests share) so that
the suite's workers can run these beside it; the helpers are that module's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from fake_search import FakeSearch, task_doc
from playwright.sync_api import expect
from servers import Server, start_lab, start_voila
from test_jupyter_hosts import (
    NotebookPage,
    _need,
    _text,
    offline_page,
    widget_errors,
    write_notebook,
)

pytestmark = pytest.mark.browser

# --------------------------------------------------------------------------- Voila on a hub

#: A gateway dashboard's jobs: three that finish, and a long one still running at expiry.
HUB_DONE_IDS = (
    "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
    "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b",
    "3b4c5d6e-7f80-4192-8b3c-4d5e6f7a8b9c",
)
HUB_LONG_ID = "4c5d6e7f-8091-42a3-9c4d-5e6f7a8b9c0d"


def _tree_environs(root: int) -> dict[int, dict[str, str]]:
    """The environment of ``root`` and of every live process below it (a server and the
    kernels it started: jupyter_client starts each in a session of its own), from /proc."""
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
            parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    found = {}
    for pid in sorted(tree):
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
        found[pid] = {k.decode(): v.decode(errors="replace") for k, v in pairs}
    return found


def test_voila_dashboard_with_the_hub_search_token(chromium_browser, tmp_path):
    """A science-gateway dashboard on JupyterHub: Voila and its kernels get the hub's
    ``$GLOBUS_DATA``; the notebook watches tasks with no ``auth=`` at all.

    The fake Search service answers only ``Bearer T`` (T: the Search token inside
    ``$GLOBUS_DATA``). The page is sent once every cell ran, with the tasks still in
    PROGRESS; they end only when the test says so, so SUCCESS can reach the page only
    through the poller thread. Then the service refuses T, as when the hub's token
    expires: with no ``$SEARCH_TASK_WIDGET_CLIENT_ID`` nothing can sign in here, and the
    widgets say so and what to do.
    """
    _need("voila")
    from globus_auth import fake_token, globus_data

    token = fake_token("search")
    hub_data = globus_data(token)
    every_id = (*HUB_DONE_IDS, HUB_LONG_ID)
    with FakeSearch() as service:
        service.require_bearer = token
        for task_id in every_id:
            service.put_task(task_doc(task_id, "PROGRESS"))
        notebook = write_notebook(
            tmp_path / "gateway.ipynb",
            f"""\
import search_task_widget as stw

SEARCH = "{service.base_url}"
JOBS = {list(every_id)!r}
POLLING = dict(base_url=SEARCH, poll_interval=0.3, max_poll_interval=0.5)""",
            "jobs = stw.TaskListWidget(JOBS, **POLLING)\njobs",
            f'featured = stw.TaskWidget("{HUB_LONG_ID}", **POLLING)\nfeatured',
        )
        assert token not in notebook.read_text()
        voila = start_voila(tmp_path / "voila-home", notebook, env={"GLOBUS_DATA": hub_data})
        page = offline_page(chromium_browser)
        frames: list[str] = []  # all the kernel's websocket traffic, both ways

        def on_websocket(ws) -> None:
            if "/api/kernels/" in ws.url and "/channels" in ws.url:
                ws.on("framereceived", lambda payload: frames.append(_text(payload)))
                ws.on("framesent", lambda payload: frames.append(_text(payload)))

        page.on("websocket", on_websocket)
        try:
            page.goto(voila.url(""), wait_until="commit", timeout=60_000)
            rows = page.locator(".stw-list-root li.stw-list-row")
            expect(rows).to_have_count(4, timeout=60_000)
            featured = page.locator(".stw-root")

            def row(task_id: str):
                return rows.and_(page.locator(f'[data-task-id="{task_id}"]'))

            for task_id in every_id:
                expect(row(task_id)).to_have_attribute("data-state", "PROGRESS")
            expect(featured).to_have_attribute("data-state", "PROGRESS")

            # The server and its kernel hold the hub's data and no other credentials.
            environs = _tree_environs(voila.proc.pid)
            assert len(environs) >= 2, environs.keys()  # Voila and the dashboard's kernel
            for pid, environ in environs.items():
                assert environ.get("GLOBUS_DATA") == hub_data, pid
                for name in ("SEARCH_TASK_WIDGET_CLIENT_ID", "SEARCH_TASK_WIDGET_TOKEN"):
                    assert name not in environ, (pid, name)

            # 1. The jobs end while the page is open: the poller thread's news reaches it.
            for task_id in HUB_DONE_IDS:
                service.put_task(task_doc(task_id, "SUCCESS"))
            for task_id in HUB_DONE_IDS:
                expect(row(task_id)).to_have_attribute("data-state", "SUCCESS")
                expect(row(task_id).locator(".stw-list-badge")).to_have_text("SUCCESS")
            expect(row(HUB_LONG_ID)).to_have_attribute("data-state", "PROGRESS")
            expect(page.locator(".stw-list-count").filter(has_text="SUCCESS")).to_have_text(
                "3 SUCCESS"
            )
            assert service.requests, "the fake was never asked"
            sent = {r.headers.get("authorization") for r in service.requests}
            assert sent == {f"Bearer {token}"}
            html = page.content()
            assert token not in html
            assert hub_data not in html
            expect(page.get_by_role("region", name="Sign in with Globus")).to_have_count(0)
            expect(page.locator(".stw-list-error")).to_be_hidden()
            expect(featured.locator(".stw-error")).to_be_hidden()

            # 2. The hub's token is refused: both widgets still polling the long job say
            # it expired, that JupyterHub hands out fresh ones, and that no sign-in is
            # possible here.
            service.require_bearer = fake_token("search")
            list_error = page.locator(".stw-list-error")
            expect(list_error).to_be_visible()
            expect(list_error).to_contain_text("JupyterHub")
            expect(list_error).to_contain_text("restart your server")
            expect(featured.locator(".stw-error")).to_contain_text("JupyterHub")
            expect(featured).to_have_attribute("data-trouble", "fatal")
            panels = page.get_by_role("region", name="Sign in with Globus")
            expect(panels).to_have_count(2)
            for i in range(2):
                panel = panels.nth(i)
                expect(panel).to_be_visible()
                expect(panel).to_have_attribute("data-status", "unavailable")
                expect(panel).to_contain_text("JupyterHub")
                expect(panel).to_contain_text("SEARCH_TASK_WIDGET_CLIENT_ID")
                expect(panel.get_by_role("button")).to_have_count(0)  # nothing to click
            # The long job's row says why it is no longer checked; what ended stays so.
            expect(row(HUB_LONG_ID)).to_have_attribute("data-trouble", "fatal")
            for task_id in HUB_DONE_IDS:
                expect(row(task_id)).to_have_attribute("data-state", "SUCCESS")
            sent = {r.headers.get("authorization") for r in service.requests}
            assert sent == {f"Bearer {token}"}
            html = page.content()
            assert token not in html
            assert hub_data not in html
            # Nor did it cross the kernel's websocket (e.g. in a synced trait not drawn).
            page.evaluate("() => 0")  # let Playwright deliver the frames received so far
            assert any("comm_msg" in frame for frame in frames), "no widget traffic seen"
            leaks = sum(1 for f in frames if token in f or hub_data in f)  # a count: no dump
            assert leaks == 0, f"{leaks} of {len(frames)} websocket frames hold the token"
            assert widget_errors(page) == []
        finally:
            page.context.close()
            voila.stop()


# --------------------------------------------------------------------------- saved state

REOPEN_ID = "5d1c3b7a-2e4f-4a6b-9c8d-0e1f2a3b4c5d"
# Shaped like a Globus access token; built at run time so no token-like text is committed.
REOPEN_TOKEN = "Ag" + "FakeTokenForTheReopenTest" + "0123456789abcdefGHIJ" * 2
TOKEN_LIKE = re.compile(r"\bAg[A-Za-z0-9]{40,}")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

#: Save the current notebook as File -> Save does and settle once it is written (or fail,
#: or time out: ``page.evaluate`` itself never does).
SAVE_JS = """async (ms) => {
  const app = window.jupyterapp;
  const context = app.shell.currentWidget.context;
  const written = new Promise((resolve, reject) => {
    const seen = (_, state) => {
      if (state !== 'completed' && state !== 'failed') return;
      context.saveState.disconnect(seen);
      state === 'completed' ? resolve() : reject(new Error('the save failed'));
    };
    context.saveState.connect(seen);
  });
  const late = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`not saved within ${ms} ms`)), ms));
  await Promise.race([Promise.all([app.commands.execute('docmanager:save'), written]), late]);
}"""


def _kernel_ids(server: Server) -> list[str]:
    return [s["kernel"]["id"] for s in server.api("GET", "api/sessions") or []]


def test_lab_finished_task_reopens_as_its_document(chromium_browser, tmp_path):
    """A task that ended is saved as a document of its end, with default settings.

    The notebook is run in JupyterLab with its default settings (no saved widget state),
    saved and its kernel shut down; reopened, JupyterLab starts a *fresh* kernel that never
    ran the cell, so what shows can only come from the file: the output's ``text/html``,
    which the widget put in place of its view when the task ended.

    The token the widget polled with reaches neither the document nor the file: the cell
    reads it from a file outside the served folder, as it would come from a login flow.
    """
    _need("jupyterlab")
    name = "reopen.ipynb"
    token_file = tmp_path / "token.txt"
    token_file.write_text(REOPEN_TOKEN)
    folder = tmp_path / "notebooks"
    folder.mkdir()
    with FakeSearch() as service:
        service.require_bearer = REOPEN_TOKEN  # SUCCESS is only ever seen with the token
        # PENDING, PROGRESS, then SUCCESS for every later poll.
        steps = [task_doc(REOPEN_ID, s) for s in ("PENDING", "PROGRESS", "SUCCESS")]
        service.script(REOPEN_ID, steps)
        write_notebook(
            folder / name,
            f"""\
import pathlib
import search_task_widget as stw

token = pathlib.Path(r"{token_file}").read_text()
w = stw.TaskWidget("{REOPEN_ID}", base_url="{service.base_url}", auth=token, poll_interval=0.3)
w""",
            'w.wait(timeout=30)["state"]',
        )
        lab = start_lab(tmp_path / "lab-home", folder)
        try:
            # 1. Run it to SUCCESS, save, close the page and shut the kernel down.
            nb = NotebookPage(offline_page(chromium_browser), lab, name)
            try:
                nb.open().run_all()
                expect(nb.root(0)).to_have_attribute("data-state", "SUCCESS", timeout=20_000)
                expect(nb.cell(1).locator(".jp-OutputArea-output")).to_have_text("'SUCCESS'")
                # The live view became the document: the same look, no widget behind it.
                expect(nb.root(0)).to_have_class(re.compile(r"\bstw-document\b"))
                (first_kernel,) = _kernel_ids(lab)
                nb.page.evaluate(SAVE_JS, 15_000)
            finally:
                nb.close()  # and delete the session: the kernel is shut down
            assert lab.api("GET", "api/kernels") == []
            polls = len(service.requests)
            assert polls >= 3
            sent = {r.headers.get("authorization") for r in service.requests}
            assert sent == {f"Bearer {REOPEN_TOKEN}"}  # the token really was in use

            # 2. The file holds the document, SUCCESS, no widget view and no token.
            text = (lab.root / name).read_text()
            assert REOPEN_TOKEN not in text
            assert TOKEN_LIKE.search(text) is None, TOKEN_LIKE.search(text)
            saved = json.loads(text)
            (output,) = saved["cells"][0]["outputs"]
            assert WIDGET_VIEW not in output["data"]
            plain, html = ("".join(output["data"][mime]) for mime in ("text/plain", "text/html"))
            assert "SUCCESS (Task succeeded)" in plain
            assert 'data-state="SUCCESS"' in html

            # 3. Reopen: a new kernel, nothing polled, the document as the task ended.
            nb = NotebookPage(offline_page(chromium_browser), lab, name)
            try:
                nb.open()
                (new_kernel,) = _kernel_ids(lab)
                assert new_kernel != first_kernel
                root = nb.root(0)
                expect(root).to_have_attribute("data-state", "SUCCESS", timeout=15_000)
                expect(root.locator(".stw-mono").first).to_have_text(REOPEN_ID)
                expect(root.locator(".stw-desc")).to_have_text("Task succeeded")
                expect(root.locator(".stw-badge")).to_have_text("SUCCESS")
                expect(root.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "4")
                output = nb.cell(0).locator(".jp-OutputArea-output")
                expect(output).not_to_contain_text("Error displaying widget")
                expect(output).not_to_contain_text("Loading widget")
                assert len(service.requests) == polls  # drawn from the file alone
                assert widget_errors(nb.page) == []
            finally:
                nb.close()
        finally:
            lab.stop()
