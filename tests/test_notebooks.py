"""The tutorial notebooks: they run top to bottom offline, and are committed clean.

Each notebook runs with nbclient on a real python3 kernel, in a temporary copy, with the
offline switch forced (``STW_TUTORIAL_OFFLINE=1``) and the simulator sped up through
``STW_SIMULATOR_SPEED`` (which the notebooks read themselves) and
``SEARCH_TASK_WIDGET_DEMO_SPEED`` (which ``stw.demo()`` reads).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from saved_notebooks import check_ended_outputs, check_no_widget_state, widget_outputs

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TOKEN_LIKE = re.compile(r"Bearer [A-Za-z0-9._~+/=-]{20,}|Ag[A-Za-z0-9]{60}")
CELL_TIMEOUT = 60


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


def test_the_tutorials_exist():
    assert [path.name for path in NOTEBOOKS][:2] == [
        "01-quickstart.ipynb",
        "02-ingest-and-watch.ipynb",
    ]


# -- committed clean -----------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)

    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["kernelspec"]["language"] == "python"
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.outputs == [], f"outputs left in cell {cell.get('id')}"
        assert cell.execution_count is None, f"execution count left in cell {cell.get('id')}"
    assert "widgets" not in nb.metadata  # no saved widget state either
    text = path.read_text(encoding="utf-8")
    assert not TOKEN_LIKE.search(text), "something that looks like a token"


def test_token_pattern_catches_what_it_should():
    assert TOKEN_LIKE.search("Authorization: Bearer " + "x" * 24)
    assert TOKEN_LIKE.search("token = 'Ag" + "b3" * 30 + "'")
    assert not TOKEN_LIKE.search("auth=token  # Bearer tokens are never printed")


def test_real_mode_only_uses_globus_sdk_names_that_exist():
    """The real-Globus code can't run here (it needs a login): check its names at least."""
    import globus_sdk
    from globus_sdk.scopes import SearchScopes

    sources = "\n".join(
        cell.source for path in NOTEBOOKS for cell in nbformat.read(path, as_version=4).cells
    )
    used = set(re.findall(r"\bglobus_sdk\.([A-Za-z_]\w*)(?:\.([A-Za-z_]\w*))?", sources))
    assert ("UserApp", "") in used
    for name, attribute in used:
        assert hasattr(globus_sdk, name), f"globus_sdk.{name}"
        if attribute:
            assert hasattr(getattr(globus_sdk, name), attribute), f"globus_sdk.{name}.{attribute}"
    for scope in re.findall(r"\bSearchScopes\.(\w+)", sources):
        assert hasattr(SearchScopes, scope), scope
    for method in ("login_required", "login", "get_authorizer"):
        assert hasattr(globus_sdk.UserApp, method)


# -- executed offline ----------------------------------------------------------------------


def _outputs(nb: nbformat.NotebookNode) -> list[dict]:
    return [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for output in _outputs(nb):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run a notebook (once per module) with the kernel offline, fast and token-free."""
    runs: dict[str, nbformat.NotebookNode] = {}

    def run(path: Path) -> nbformat.NotebookNode:
        if path.name not in runs:
            workdir = tmp_path_factory.mktemp(path.stem)
            with pytest.MonkeyPatch.context() as env:
                env.setenv("STW_TUTORIAL_OFFLINE", "1")
                env.setenv("STW_SIMULATOR_SPEED", "4")
                env.setenv("SEARCH_TASK_WIDGET_DEMO_SPEED", "4")  # the quickstart's demo()s
                env.setenv("STW_WAIT_AT_END", "1")  # dashboards end when their tasks do
                # The kernel imports search_task_widget from this checkout.
                paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
                env.setenv("PYTHONPATH", os.pathsep.join(filter(None, paths)))
                env.setenv("IPYTHONDIR", str(workdir / ".ipython"))  # no user startup files
                env.setenv("JUPYTER_RUNTIME_DIR", str(workdir / ".runtime"))
                for name in (
                    "SEARCH_TASK_WIDGET_TOKEN",
                    "STW_INDEX_ID",
                    "STW_CLIENT_ID",
                    "GLOBUS_SDK_ENVIRONMENT",
                    "GLOBUS_SDK_SERVICE_URL_SEARCH",
                ):
                    env.delenv(name, raising=False)
                runs[path.name] = _execute(path, workdir)
        return runs[path.name]

    return run


def _execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    copy = workdir / path.name
    shutil.copy(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        allow_errors=True,  # so the assertion below can name the failing cell
    )
    client.execute()
    return nb


@pytest.mark.kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_offline_without_errors_and_shows_widgets(path, executed):
    nb = executed(path)

    errors = [
        f"{output.get('ename')}: {output.get('evalue')}"
        for output in _outputs(nb)
        if output.get("output_type") == "error"
    ]
    assert errors == []
    stderr = "".join(
        output.get("text", "")
        for output in _outputs(nb)
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )
    assert "Traceback" not in stderr
    # Every task ended: each widget output is now a document of how (see test_executors).
    check_ended_outputs(nb)
    check_no_widget_state(nb)  # every task ended: nothing for a widget manager to load
    assert all(cell.execution_count is not None for cell in nb.cells if cell.cell_type == "code")
    # The original stays clean: the run happened in a copy.
    assert all(
        not cell.outputs
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
    )


@pytest.mark.kernel
def test_quickstart_shows_the_failure_reason_and_the_retries(executed):
    nb = executed(REPO / "notebooks" / "01-quickstart.ipynb")
    text = _text(nb)

    assert "message: 1 of 3 ingest documents failed" in text
    assert '"failed_document_count": 1' in text
    assert "Retrying in" in text
    assert "Search is unavailable (HTTP 503" in text
    assert "final state: SUCCESS" in text
    assert "<TaskWidget task " in text
    assert ": FAILED (Task failed)" in text
    assert "every task has ended" in text


@pytest.mark.kernel
def test_ingest_tutorial_reports_fixes_and_resumes(executed):
    nb = executed(REPO / "notebooks" / "02-ingest-and-watch.ipynb")
    text = _text(nb)

    assert "Mode: offline" in text
    assert "Search service: http://127.0.0.1:" in text
    # The invalid entry is caught before sending, the failing one mapped from its task.
    assert "'read': 40, 'invalid': 1, 'sent': 39, 'indexed': 38, 'failed': 1" in text
    assert "entry 7: " in text
    assert "subject_bytes: the subject is 633 bytes in UTF-8; the limit is 500" in text
    assert "entry 23: " in text
    assert "'warm' is a string" in text
    assert "retry_failed() sent 1 entry again" in text
    assert "'indexed': 39, 'failed': 0" in text
    assert "still failed: [(7, 'subject_bytes')]" in text
    assert "after the restart: {'read': 200, 'invalid': 0, 'sent': 200, 'indexed': 200" in text
    assert "note: resumed from the journal" in text
    # The job's header shows its end (saved as text and HTML), over the batches' list.
    header = [o for o in _outputs(nb) if "<IngestJob" in o.get("data", {}).get("text/plain", "")]
    assert len(header) == 1
    assert (
        "(done): 40 read, 1 invalid, 39 sent, 39 indexed, 0 failed"
        in header[0]["data"]["text/plain"]
    )
    assert "stw-ingest" in header[0]["data"]["text/html"]
    shown = [o["data"]["text/plain"] for o in widget_outputs(nb)]
    assert len(shown) == 1, shown
    assert shown[0].startswith("<TaskListWidget 6 tasks: 5 SUCCESS, 1 FAILED")


# -- the marimo quickstart -----------------------------------------------------------------

MARIMO_QUICKSTART = REPO / "notebooks" / "01-quickstart-marimo.py"


@pytest.mark.process  # runs marimo
def test_marimo_quickstart_runs_headless(tmp_path):
    """``marimo export session`` runs every cell in a marimo kernel and saves each output."""
    pytest.importorskip("marimo")
    import json
    import subprocess
    import sys

    copy = tmp_path / MARIMO_QUICKSTART.name
    shutil.copy(MARIMO_QUICKSTART, copy)
    paths = [str(REPO), os.environ.get("PYTHONPATH", "")]
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("SEARCH_TASK_WIDGET_TOKEN",)},
        "PYTHONPATH": os.pathsep.join(filter(None, paths)),
        # stw.demo() x4 (the widgets poll 4 times as often, so the outage is still seen).
        "SEARCH_TASK_WIDGET_DEMO_SPEED": "4",
        "MARIMO_SKIP_UPDATE_CHECK": "1",
        "HOME": str(tmp_path),  # no user marimo settings
    }
    env.pop("GLOBUS_SDK_SERVICE_URL_SEARCH", None)
    done = subprocess.run(
        [sys.executable, "-m", "marimo", "-q", "export", "session", copy.name, "--no-sandbox"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    session = json.loads(next((tmp_path / "__marimo__").rglob("*.json")).read_text())
    outputs = [o for cell in session["cells"] for o in cell["outputs"]]
    assert [o for o in outputs if o.get("type") == "error"] == []
    assert not [c["console"] for c in session["cells"] if c.get("console")]
    shown = [next(iter(o["data"].values())) for o in outputs if o.get("data")]
    text = "\n".join(shown)
    assert sum("<marimo-anywidget" in part for part in shown) == 3  # w, bad, flaky: once each
    assert '["SUCCESS", "Task succeeded"]' in text
    assert "message: 1 of 3 ingest documents failed" in text
    assert "Retrying in" in text
    assert "Search is unavailable (HTTP 503" in text
    assert "final state: <code>SUCCESS</code>" in text
    assert "&lt;TaskWidget task " in text
    assert ": FAILED (Task failed)" in text


def test_marimo_quickstart_is_a_clean_marimo_notebook():
    pytest.importorskip("marimo")
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "marimo", "check", str(MARIMO_QUICKSTART)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not TOKEN_LIKE.search(MARIMO_QUICKSTART.read_text(encoding="utf-8"))
