"""What headless executors save: each widget's final state, with their own message filtering.

nbclient (and papermill and ``jupyter nbconvert --execute``, which run it) keeps only the
messages whose parent is the cell it is executing. These tests execute a notebook of the
suite's own with those very tools, on ipykernel 6.29, 7.0 and the test environment's
newest, and read the saved file as a person's viewer would: every widget output must show
how its task ended (``text/html`` and ``text/plain``, no widget view left to load), and no
widget state may be saved: the models talk with no parent, which executors ignore (see
``search_task_widget/_views/unrecorded.py``). A notebook saved while tasks still run keeps
dated snapshots that say so.
"""

from __future__ import annotations

import json
import os
import re
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
    check_no_widget_state,
    make_notebook,
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
    failed_output = outputs[1]["data"]["text/html"]
    assert "1 of 3 ingest documents failed" in failed_output  # the failure's message
    check_ended_outputs(nb)
    # Every task ended: no widget model is saved, neither the widgets' nor the shared
    # front end (before, 40-100 KB of an executed tutorial).
    check_no_widget_state(nb)


def execute_with_nbclient(tmp_path: Path, version: str, path: Path) -> nbformat.NotebookNode:
    """Run ``path`` with nbclient on the kernel of ipykernel ``version``; save it back."""
    python = sys.executable if version == "newest" else kernel_python(version)
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
    return nb


@pytest.mark.parametrize("version", ["newest", *OTHER_IPYKERNELS])
def test_nbclient_saves_the_final_state(tmp_path, version):
    path = make_notebook(tmp_path / "ended.ipynb", "stw-exec")
    nb = execute_with_nbclient(tmp_path, version, path)
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "('SUCCESS', 'FAILED')"
    check_saved_notebook(path)


#: A notebook that shows a task and a list and ends while they still run (a dashboard run
#: headless without waiting): the simulator is slowed so that nothing ends in time.
RUNNING_CELLS = [
    """import search_task_widget as stw
from search_task_widget.simulator import Simulator

sim = Simulator(speed=0.01).start()
fast = dict(base_url=sim.base_url, poll_interval=0.1)
one = stw.watch(sim.submit("success"), **fast)""",
    """board = stw.TaskListWidget([sim.submit("success"), sim.submit("failure")], **fast)
board""",
    "import time; time.sleep(1)",
]


@pytest.mark.parametrize("version", ["newest", *OTHER_IPYKERNELS])
def test_a_notebook_saved_while_tasks_run_keeps_dated_snapshots_and_no_state(tmp_path, version):
    path = tmp_path / "running.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "stw-exec", "display_name": "x", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in RUNNING_CELLS]
    nbformat.write(nb, path)
    nb = execute_with_nbclient(tmp_path, version, path)
    outputs = widget_outputs(nb)
    assert len(outputs) == 2
    expected = ["the task had not ended", "2 of 2 tasks had not"]
    for output, running in zip(outputs, expected, strict=True):
        data = output["data"]
        assert WIDGET_VIEW_MIME not in data  # a view no viewer could load, kernel gone
        for form in ("text/plain", "text/html"):
            assert re.search(r"Snapshot taken \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", data[form])
            assert running in data[form], data[form]
    check_no_widget_state(nb)


def test_a_waited_list_is_saved_ended_under_cpu_contention(tmp_path):
    """The suite's notebook on a machine kept busy on every core: wait() must not return
    before the end is in what the executor saves (it once saved "2 not checked yet")."""
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(max(2, os.cpu_count() or 2))
    ]
    try:
        path = make_notebook(tmp_path / "ended.ipynb", "stw-exec")
        execute_with_nbclient(tmp_path, "newest", path)
    finally:
        for process in busy:
            process.kill()
            process.wait()
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
