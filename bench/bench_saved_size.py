"""Bytes that executed tutorials keep: run each notebook in ``notebooks/`` headless (nbclient,
offline on the simulator, waiting for every task at the end as CI does) and measure the
saved file, its widget state and the shared front-end code in it.

Usage: ``python bench/bench_saved_size.py [--repo PATH] [--write]``. ``--repo`` measures
another checkout of this project (e.g. an older release) with the same notebooks;
``--write`` also writes the table to ``docs/_generated/saved-sizes.md``, which
``docs/tutorial-authors.md`` includes: the sizes in the docs are this script's output.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
STATE_MIME = "application/vnd.jupyter.widget-state+json"
TABLE = REPO / "docs" / "_generated" / "saved-sizes.md"


def execute(
    notebook: Path, repo: Path, workdir: Path, *, wait: bool = True
) -> nbformat.NotebookNode:
    """Run ``notebook`` offline with ``repo``'s package, as the test suite does (``wait``:
    a dashboard waits for its tasks at the end)."""
    copy_path = workdir / notebook.name
    shutil.copy(notebook, copy_path)
    nb = nbformat.read(copy_path, as_version=4)
    env = dict(os.environ, STW_TUTORIAL_OFFLINE="1", STW_SIMULATOR_SPEED="4")
    env["SEARCH_TASK_WIDGET_DEMO_SPEED"] = "4"  # the quickstart's stw.demo()
    env["STW_WAIT_AT_END"] = "1" if wait else "0"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID"):
        env.pop(name, None)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})  # fmt: skip
    client.execute(env=env)
    return nb


def states(nb: nbformat.NotebookNode) -> dict[str, dict]:
    return nb.metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})


def saved_bytes(nb: nbformat.NotebookNode, keep) -> int:
    """Bytes of the saved widget state entries for which ``keep(state)`` is true."""
    without = copy.deepcopy(nb)
    found = states(without)
    for model_id in [k for k, v in found.items() if keep(v["state"])]:
        del found[model_id]
    return len(nbformat.writes(nb)) - len(nbformat.writes(without))


def measure(nb: nbformat.NotebookNode) -> dict[str, int]:
    text = nbformat.writes(nb)
    return {
        "file": len(text),
        "models": len(states(nb)),
        "state": len(text) - len(nbformat.writes(_without_state(nb))),
        "front_end": saved_bytes(nb, lambda state: "esm" in state or "_esm" in state),
    }


def _without_state(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    bare = copy.deepcopy(nb)
    bare.metadata.pop("widgets", None)
    return bare


def table(rows: list[tuple[str, dict[str, int]]]) -> str:
    lines = [
        "| executed tutorial | file bytes | widget models saved | widget state bytes "
        "| of which code |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in rows:
        share = f" ({100 * row['state'] / row['file']:.0f} %)" if row["state"] else ""
        lines.append(
            f"| {name} | {row['file']:,} | {row['models']} | {row['state']:,}{share} | "
            f"{row['front_end']:,} |"
        )
    return "\n".join(lines)


def machine() -> str:
    return (
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} by `python bench/bench_saved_size.py"
        f" --write`: Python {platform.python_version()}, ipykernel {version('ipykernel')}, "
        f"nbclient {version('nbclient')}, {os.cpu_count()} cores."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout whose package runs")
    parser.add_argument("--write", action="store_true", help=f"write the table to {TABLE}")
    args = parser.parse_args()
    print(f"package from {args.repo}; Python {sys.version.split()[0]}")
    rows = []
    runs = [(path, True) for path in sorted((REPO / "notebooks").glob("*.ipynb"))]
    runs.append((REPO / "notebooks" / "03-gateway-dashboard.ipynb", False))  # saved while running
    for notebook, wait in runs:
        with tempfile.TemporaryDirectory() as workdir:
            nb = execute(notebook, args.repo.resolve(), Path(workdir), wait=wait)
        name = notebook.name if wait else f"{notebook.name}, not waiting for its tasks"
        rows.append((name, measure(nb)))
    text = table(rows)
    print(text)
    if args.write:
        TABLE.parent.mkdir(exist_ok=True)
        TABLE.write_text(f"{text}\n\n{machine()}\n", encoding="utf-8")
        print(f"written to {TABLE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
