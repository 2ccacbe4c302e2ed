"""Public names say what they are: what the package exports is usable through public calls,
and what only the package calls is private."""

from __future__ import annotations

import inspect
import uuid

import httpx
import ipywidgets
import pytest

import search_task_widget as stw
from search_task_widget.simulator import Fault, Phase, Scenario, Simulator

T0 = 1_700_000_000.0
INDEX = "11111111-2222-4333-8444-555555555555"
#: A scenario of the user's own: queued 10 s, then a 503 for 2 s, then done.
SLOW_START = Scenario(
    "slow-start",
    "Queued for 10 s, a short outage, then done.",
    (
        Phase(0.0, "PENDING"),
        Phase(10.0, "PROGRESS", "Task is running (slowly)"),
        Phase(20.0, "SUCCESS"),
    ),
    (Fault(12.0, 14.0, "unavailable"),),
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_the_simulator_takes_scenario_objects_as_well_as_names(clock):
    with Simulator(clock=clock, scenario=SLOW_START) as sim:
        task_id = sim.submit(index_id=INDEX)["task_id"]
        url = f"{sim.base_url}/v1/task/{task_id}"

        def answer() -> httpx.Response:
            return httpx.get(url, timeout=5)

        clock.now = T0 + 5
        assert answer().json()["state_description"] == "Task is waiting to start"
        clock.now = T0 + 11
        assert answer().json()["state_description"] == "Task is running (slowly)"
        clock.now = T0 + 13
        assert answer().status_code == 503  # the scenario's own fault
        clock.now = T0 + 21
        assert answer().json()["state"] == "SUCCESS"
        assert sim.scenario_for(INDEX) == "slow-start"


def test_set_scenario_and_submit_take_scenario_objects(clock):
    sim = Simulator(clock=clock)
    sim.set_scenario(INDEX, SLOW_START)
    by_index = sim.submit(index_id=INDEX)["task_id"]
    by_call = sim.submit(SLOW_START)["task_id"]  # the tutorial index, default "success"
    clock.now = T0 + 6  # "success" ended at 5 s; this one is still queued

    assert sim.task_document(by_index)["state"] == "PENDING"
    assert sim.task_document(by_call)["state"] == "PENDING"
    assert sim.task_document(sim.submit()["task_id"])["state"] == "CREATING"
    with pytest.raises(ValueError, match="unknown scenario"):
        sim.set_scenario(INDEX, "explode")


def _task() -> stw.Task:
    return stw.Task.from_document(
        {"task_id": str(uuid.uuid4()).upper(), "state": "PENDING", "index_id": INDEX}
    )


def test_a_task_object_is_a_task_to_watch():
    task = _task()
    widget = stw.TaskWidget(task, base_url="http://127.0.0.1:9", start=False)
    listing = stw.TaskListWidget([task], base_url="http://127.0.0.1:9", start=False)
    try:
        assert stw.task_id_of(task) == task.task_id.lower()
        assert (widget.task_id, widget.index_id) == (task.task_id.lower(), INDEX)
        assert [row["task_id"] for row in listing.rows] == [widget.task_id]
        assert listing.add(task) == widget.task_id  # already there
    finally:
        widget.close()
        listing.close()


@pytest.mark.parametrize("widget", [stw.TaskWidget, stw.TaskListWidget, stw.SignInWidget])
def test_a_widget_has_no_callback_registrar_of_its_own(widget):
    # To an ipywidgets user, on_* registers a callback: a widget's own listener hooks would
    # read as one. Only ipywidgets' own on_* methods are there.
    own = {name for name in dir(widget) if name.startswith("on_")}

    assert own <= set(dir(ipywidgets.DOMWidget))


def test_the_poller_takes_no_private_type_in_its_public_methods():
    for name, member in inspect.getmembers(stw.Poller, inspect.isfunction):
        if name.startswith("_"):
            continue
        annotations = " ".join(map(str, inspect.signature(member).parameters.values()))
        assert "Watch" not in annotations, name
        assert "TaskClient" not in annotations, name
