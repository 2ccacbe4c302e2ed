"""Bytes that executed tutorials keep per widget: run each notebook in ``notebooks/`` headless
(nbclient, offline on the simulator) and measure the saved file and its widget state.

Usage: ``python bench/bench_saved_size.py [--repo PATH]`` (``--repo`` measures another
checkout of this project, e.g. an older release, with the same notebooks).
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
STATE_MIME = "application/vnd.jupyter.widget-state+json"


def execute(notebook: Path, repo: Path, workdir: Path) -> nbformat.NotebookNode:
    """Run ``notebook`` offline with ``repo``'s package, as the test suite does."""
    copy_path = workdir / notebook.name
    shutil.copy(notebook, copy_path)
    nb = nbformat.read(copy_path, as_version=4)
    env = dict(os.environ, STW_TUTORIAL_OFFLINE="1", STW_SIMULATOR_SPEED="4", STW_WAIT_AT_END="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID"):
        env.pop(name, None)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})  # fmt: skip
    client.execute(env=env)
    return nb


def saved_bytes(nb: nbformat.NotebookNode, keep) -> int:
    """Bytes of the saved widget state entries for which ``keep(state)`` is true."""
    without = copy.deepcopy(nb)
    states = without.metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})
    for model_id in [k for k, v in states.items() if keep(v["state"])]:
        del states[model_id]
    return len(nbformat.writes(nb)) - len(nbformat.writes(without))


def measure(nb: nbformat.NotebookNode) -> dict[str, float]:
    states = nb.metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})
    widgets = [k for k, v in states.items() if "task_id" in v["state"] or "rows" in v["state"]]
    front_end = saved_bytes(nb, lambda state: "esm" in state)  # shared, once per kind
    per_widget = saved_bytes(nb, lambda state: "esm" not in state)  # widgets and layouts
    return {
        "file": len(nbformat.writes(nb)),
        "widgets": len(widgets),
        "front_end": front_end,
        "per_widget": per_widget / len(widgets) if widgets else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose package runs")
    args = parser.parse_args()
    print(f"package from {args.repo}; Python {sys.version.split()[0]}")
    print("| notebook | file bytes | widgets | shared front end bytes | state bytes per widget |")
    print("|---|---:|---:|---:|---:|")
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        with tempfile.TemporaryDirectory() as workdir:
            row = measure(execute(notebook, args.repo.resolve(), Path(workdir)))
        print(f"| {notebook.name} | {row['file']:,} | {row['widgets']} | {row['front_end']:,} | "
              f"{row['per_widget']:,.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
