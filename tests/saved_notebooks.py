"""Reading a saved notebook as a person's viewer would: what each widget output shows, and
that no widget state (code included) is left in the file."""

from __future__ import annotations

from pathlib import Path

import nbformat

from search_task_widget._model.task import TERMINAL_STATES

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
ENDED_WORDS = tuple(TERMINAL_STATES)


def widget_outputs(nb) -> list[dict]:
    """Every output that shows one of this package's widgets (its text form says so)."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if text.startswith(("<TaskWidget", "<TaskListWidget")):
                found.append(output)
    return found


def saved_states(nb) -> dict[str, dict]:
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {}).get("state", {})


def check_ended_outputs(nb) -> None:
    """Every widget output is a document of how its tasks ended: no widget view left to
    load, and an end state in both text forms."""
    outputs = widget_outputs(nb)
    assert outputs, "no widget output"
    for output in outputs:
        data = output["data"]
        plain = data["text/plain"]
        assert WIDGET_VIEW_MIME not in data, f"a widget view left to load: {plain}"
        assert any(word in plain for word in ENDED_WORDS), plain
        assert any(word in data["text/html"] for word in ENDED_WORDS), data["text/html"]
        assert "Snapshot" not in plain, plain  # the end replaced every snapshot


def check_no_widget_state(nb) -> None:
    """The saved file keeps no widget model at all: no code, no state (the outputs are
    documents and snapshots, readable without any)."""
    assert "widgets" not in nb.metadata, sorted(saved_states(nb))
    text = nbformat.writes(nb)
    assert WIDGET_VIEW_MIME not in text
    assert "export{" not in text
    assert "IPY_MODEL_" not in text


#: A notebook that creates two TaskWidgets and a TaskListWidget, then waits for them in
#: later cells, and creates and waits for one more in a single cell.
CELLS = [
    """\
import search_task_widget as stw
from search_task_widget.simulator import Simulator

sim = Simulator(speed=10).start()
fast = dict(base_url=sim.base_url, poll_interval=0.1)
ok = stw.watch(sim.submit("success"), **fast)""",
    """\
bad = stw.TaskWidget(sim.submit("failure")["task_id"], **fast)
bad""",
    """\
board = stw.TaskListWidget([sim.submit("success"), sim.submit("failure")], **fast)
board""",
    'ok.wait(60)["state"], bad.wait(60)["state"]',
    """\
same = stw.watch(sim.submit("success"), **fast)
same.wait(60)["state"]""",
    'sorted(task["state"] for task in board.wait(60))',
]
#: Per widget output, in order: what its text/plain says, and words its text/html shows.
ENDS = [
    ("SUCCESS (Task succeeded)", ["SUCCESS"]),
    ("FAILED", ["FAILED"]),
    ("2 tasks: 1 SUCCESS, 1 FAILED", ["SUCCESS", "FAILED"]),
    ("SUCCESS (Task succeeded)", ["SUCCESS"]),
]


def make_notebook(path: Path, kernel_name: str = "python3") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": kernel_name,
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nbformat.write(nb, path)
    return path
