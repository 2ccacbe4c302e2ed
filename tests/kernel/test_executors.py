"""What headless executors save: each widget's final state, with their own message filtering.

nbclient (and papermill and ``jupyter nbconvert --execute``, which run it) keeps only the
messages whose parent is the cell it is executing. These tests execute a notebook of the
suite's own with those very tools, on ipykernel 6.29, 7.0 and the test environment's
newest, and read the saved file as a person's viewer would: every widget output must show
how its task ended (``text/html`` and ``text/plain``, no widget view left to load), any saved
widget state must be the final one, and each finished widget must stay small on disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from kernel_harness import kernel_environment
from kernel_venvs import OTHER_IPYKERNELS, kernel_python
from nbclient import NotebookClient
from saved_notebooks import (
    ENDS,
    WIDGET_VIEW_MIME,
    check_ended_outputs,
    check_sizes,
    make_notebook,
    saved_states,
    widget_outputs,
)

pytestmark = pytest.mark.kernel

TIMEOUT = 90


def kernelspec_dir(tmp_path: Path, python: str) -> Path:
    """A Jupyter data dir with one kernel spec, ``stw-exec``, running ``python``."""
    root = tmp_path / "jupyter-data"
    spec = root / "kernels" / "stw-exec"
    spec.mkdir(parents=True)
    argv = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "stw-exec", "language": "python"})
    )
    return root


def executor_env(tmp_path: Path, python: str) -> dict[str, str]:
    """The environment of an executor process: the kernel spec above, this checkout first
    on ``PYTHONPATH``, no credentials, a private IPython profile."""
    return kernel_environment(
        {"JUPYTER_PATH": str(kernelspec_dir(tmp_path, python)), "IPYTHONDIR": str(tmp_path / "ip")}
    )


def check_saved_notebook(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    outputs = widget_outputs(nb)
    assert len(outputs) == len(ENDS), [o.get("data", {}).get("text/plain") for o in outputs]
    for output, (plain, words) in zip(outputs, ENDS, strict=True):
        data = output["data"]
        assert WIDGET_VIEW_MIME not in data, "a finished widget left a view to load"
        assert plain in data["text/plain"], data["text/plain"]
        for word in words:
            assert word in data["text/html"], data["text/html"]
    states = saved_states(nb)
    tasks = [s["state"] for s in states.values() if "task_id" in s["state"]]
    assert sorted(s["state"] for s in tasks) == ["FAILED", "SUCCESS", "SUCCESS"]
    for state in tasks:
        assert state["polling"] is False
        assert state["completion_date"]
        if state["state"] == "FAILED":
            failed_output = outputs[1]["data"]["text/html"]
            assert state["message"]
            assert state["message"][:40] in failed_output.replace("&#x27;", "'")
    lists = [s["state"] for s in states.values() if "rows" in s["state"]]
    assert [(s["done"], s["total"], s["failed"], s["polling"]) for s in lists] == [(2, 2, 1, False)]
    check_ended_outputs(nb)
    check_sizes(nb)
    kinds = sorted(s["state"]["name"] for s in states.values() if "esm" in s["state"])
    assert kinds == ["list", "widget"]


@pytest.mark.parametrize("version", ["newest", *OTHER_IPYKERNELS])
def test_nbclient_saves_the_final_state(tmp_path, version):
    python = sys.executable if version == "newest" else kernel_python(version)
    path = make_notebook(tmp_path / "ended.ipynb", "stw-exec")
    nb = nbformat.read(path, as_version=4)
    env = executor_env(tmp_path, python)
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    specs = KernelSpecManager(kernel_dirs=[env["JUPYTER_PATH"] + "/kernels"])
    manager = KernelManager(kernel_name="stw-exec", kernel_spec_manager=specs)
    client = NotebookClient(
        nb, timeout=TIMEOUT, km=manager, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)
    nbformat.write(nb, path)
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "('SUCCESS', 'FAILED')"
    check_saved_notebook(path)


def run_tool(tmp_path: Path, module: str, *args: str) -> None:
    """``python -m module args...`` with the test kernel spec; it must succeed."""
    run = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=executor_env(tmp_path, sys.executable),
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]


def test_papermill_saves_the_final_state(tmp_path):
    papermill = pytest.importorskip("papermill")
    source = make_notebook(tmp_path / "ended.ipynb", "stw-exec")
    target = tmp_path / "ran.ipynb"
    run_tool(tmp_path, "papermill", str(source), str(target), "-k", "stw-exec",
             "--execution-timeout", str(TIMEOUT))  # fmt: skip
    assert papermill.__version__
    check_saved_notebook(target)


def test_nbconvert_execute_saves_the_final_state(tmp_path):
    source = make_notebook(tmp_path / "ended.ipynb", "stw-exec")
    run_tool(tmp_path, "jupyter", "nbconvert", "--to", "notebook", "--execute",
             f"--ExecutePreprocessor.timeout={TIMEOUT}", "--ExecutePreprocessor.kernel_name=stw-exec",
             "--output", "ran.ipynb", str(source))  # fmt: skip
    check_saved_notebook(tmp_path / "ran.ipynb")
