"""The public simulator: timelines on a fake clock, HTTP routes, faults and auth."""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from types import MappingProxyType

import httpx
import pytest

from search_task_widget import simulator as simulator_module
from search_task_widget._loopback import Request, Response
from search_task_widget.simulator import (
    SCENARIOS,
    TUTORIAL_INDEX_ID,
    Simulator,
    format_search_date,
    shared_simulator,
)

SEARCH_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
T0 = 1_700_000_000.25  # 2023-11-14T22:13:20.250000 UTC
OTHER_INDEX = "11111111-2222-4333-8444-555555555555"
TASK_FIELDS = {
    "task_id",
    "state",
    "task_type",
    "state_description",
    "index_id",
    "message",
    "additional_details",
    "creation_date",
    "completion_date",
}


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def at(self, seconds_after_start: float) -> None:
        self.now = T0 + seconds_after_start


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Simulator:
    return Simulator(clock=clock)


def get(path: str, **headers: str) -> Request:
    return Request("GET", path, {}, MappingProxyType(headers), b"")


def post(path: str, body: bytes, **headers: str) -> Request:
    return Request("POST", path, {}, MappingProxyType(headers), body)


def body_of(response: Response) -> dict:
    return json.loads(response.body)


def states_over(sim: Simulator, clock: FakeClock, task_id: str, times: list[float]) -> list[str]:
    states = []
    for t in times:
        clock.at(t)
        states.append(sim.task_document(task_id)["state"])
    return states


# -- Python API ----------------------------------------------------------------------------


def test_submit_answers_like_ingest(sim: Simulator) -> None:
    reply = sim.submit()
    assert reply["acknowledged"] is True
    assert reply["success"] is True
    assert uuid.UUID(reply["task_id"]).version == 4


def test_unknown_scenario_lists_the_known_ones(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="unknown scenario") as caught:
        sim.submit("explode")
    for name in SCENARIOS:
        assert name in str(caught.value)


def test_submit_validates_index_and_task_type(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="UUID"):
        sim.submit(index_id="not-a-uuid")
    with pytest.raises(ValueError, match="task_type"):
        sim.submit(task_type="ingets")


@pytest.mark.parametrize(
    "kwargs", [{"speed": 0}, {"speed": -1}, {"latency": -0.1}, {"required_token": ""}]
)
def test_constructor_rejects_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=r"speed|latency|required_token"):
        Simulator(**kwargs)


def test_document_has_the_real_field_set(sim: Simulator) -> None:
    task_id = sim.submit(index_id=OTHER_INDEX, task_type="delete-by-query")["task_id"]
    doc = sim.task_document(task_id)
    assert set(doc) == TASK_FIELDS
    assert doc["task_id"] == task_id
    assert doc["index_id"] == OTHER_INDEX
    assert doc["task_type"] == "delete-by-query"


def test_default_index_is_the_tutorial_index(sim: Simulator) -> None:
    doc = sim.task_document(sim.submit()["task_id"])
    assert doc["index_id"] == TUTORIAL_INDEX_ID
    assert str(uuid.UUID(TUTORIAL_INDEX_ID)) == TUTORIAL_INDEX_ID
    assert TUTORIAL_INDEX_ID in simulator_module.__doc__


def test_unknown_task_document_is_a_key_error(sim: Simulator) -> None:
    with pytest.raises(KeyError):
        sim.task_document(str(uuid.uuid4()))


def test_dates_look_like_the_service(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit()["task_id"]
    clock.at(5.0)
    doc = sim.task_document(task_id)
    assert doc["creation_date"] == "2023-11-14T22:13:20.250000"
    assert doc["completion_date"] == "2023-11-14T22:13:25.250000"
    for value in (doc["creation_date"], doc["completion_date"]):
        assert SEARCH_DATE.match(value), value


def test_format_search_date_is_utc_without_suffix() -> None:
    moment = datetime(2018, 12, 13, 18, 8, 42, 746911, tzinfo=timezone.utc)
    assert format_search_date(moment.timestamp()) == "2018-12-13T18:08:42.746911"


# -- timelines ------------------------------------------------------------------------------


def test_success_timeline(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("success")["task_id"]
    times = [0.0, 0.49, 0.5, 1.99, 2.0, 4.99, 5.0, 500.0]
    assert states_over(sim, clock, task_id, times) == [
        "CREATING",
        "CREATING",
        "PENDING",
        "PENDING",
        "PROGRESS",
        "PROGRESS",
        "SUCCESS",
        "SUCCESS",
    ]


def test_descriptions_and_completion_follow_the_state(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("success")["task_id"]
    expected = {
        0.1: ("Task is being created", None),
        1.0: ("Task is waiting to start", None),
        3.0: ("Task is running", None),
        9.0: ("Task succeeded", "2023-11-14T22:13:25.250000"),
    }
    for t, (description, completion) in expected.items():
        clock.at(t)
        doc = sim.task_document(task_id)
        assert doc["state_description"] == description
        assert doc["completion_date"] == completion
        assert doc["message"] is None
        assert doc["additional_details"] is None


def test_failure_timeline_and_details(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("failure")["task_id"]
    assert states_over(sim, clock, task_id, [0.0, 1.0, 3.99, 4.0, 60.0]) == [
        "CREATING",
        "PENDING",
        "PROGRESS",
        "FAILED",
        "FAILED",
    ]
    doc = sim.task_document(task_id)
    assert doc["state_description"] == "Task failed"
    assert "1 of 3 ingest documents failed" in doc["message"]
    assert doc["completion_date"] == "2023-11-14T22:13:24.250000"
    details = doc["additional_details"]
    assert details["failed_document_count"] == 1
    assert details["errors"][0]["error_type"] == "ValidationError"
    # A caller editing its copy must not change what the next poll returns.
    details["errors"].clear()
    assert sim.task_document(task_id)["additional_details"]["errors"]


def test_slow_queue_waits_thirty_seconds(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("slow-queue")["task_id"]
    states = states_over(sim, clock, task_id, [1.0, 15.0, 29.99, 30.0, 40.0])
    assert states == ["PENDING", "PENDING", "PENDING", "PROGRESS", "SUCCESS"]


def test_cancelled_timeline(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("cancelled")["task_id"]
    assert states_over(sim, clock, task_id, [1.0, 2.99, 3.0]) == ["PENDING", "PENDING", "CANCELLED"]
    doc = sim.task_document(task_id)
    assert doc["state_description"] == "Task cancelled because its index was deleted"
    assert doc["completion_date"] == "2023-11-14T22:13:23.250000"


@pytest.mark.parametrize(("name", "done_at"), [("outage", 6.0), ("proxy-error", 5.0)])
def test_fault_scenarios_still_succeed(
    sim: Simulator, clock: FakeClock, name: str, done_at: float
) -> None:
    task_id = sim.submit(name)["task_id"]
    assert states_over(sim, clock, task_id, [done_at - 0.01, done_at]) == ["PROGRESS", "SUCCESS"]


def test_speed_divides_every_time(clock: FakeClock) -> None:
    fast = Simulator(clock=clock, speed=10)
    task_id = fast.submit("success")["task_id"]
    # Just either side of each boundary: float timestamps near 1.7e9 are not exact.
    assert states_over(fast, clock, task_id, [0.049, 0.051, 0.2, 0.501]) == [
        "CREATING",
        "PENDING",
        "PROGRESS",
        "SUCCESS",
    ]
    assert fast.task_document(task_id)["completion_date"] == "2023-11-14T22:13:20.750000"


def test_clock_going_backwards_is_not_negative_time(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("success")["task_id"]
    clock.at(-100.0)
    assert sim.task_document(task_id)["state"] == "CREATING"


# -- HTTP routes through handle() -----------------------------------------------------------


def test_get_task_route(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit()["task_id"]
    clock.at(3.0)
    response = sim.handle(get(f"/v1/task/{task_id}"))
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    assert body_of(response) == sim.task_document(task_id)


def test_unknown_task_is_404_gerror(sim: Simulator) -> None:
    response = sim.handle(get(f"/v1/task/{uuid.uuid4()}"))
    assert response.status == 404
    body = body_of(response)
    assert body["@datatype"] == "GError"
    assert body["code"] == "NotFound.Generic"
    assert body["status"] == 404


@pytest.mark.parametrize("path", ["/v1/task/not-a-uuid", "/v1/task_list/12345"])
def test_malformed_ids_are_400(sim: Simulator, path: str) -> None:
    response = sim.handle(get(path))
    assert response.status == 400
    assert body_of(response)["code"].startswith("BadRequest")


@pytest.mark.parametrize("path", ["/", "/v1/tasks/x", "/v2/task/x", "/v1/task/a/b"])
def test_unknown_paths_are_404(sim: Simulator, path: str) -> None:
    response = sim.handle(get(path))
    assert response.status == 404
    assert body_of(response)["code"] == "NotFound.Generic"


def test_wrong_method_is_405(sim: Simulator) -> None:
    response = sim.handle(post(f"/v1/task/{uuid.uuid4()}", b"{}"))
    assert response.status == 405
    assert response.headers["Allow"] == "GET"


def test_ingest_route_creates_a_success_task(sim: Simulator, clock: FakeClock) -> None:
    response = sim.handle(post(f"/v1/index/{OTHER_INDEX}/ingest", b'{"ingest_type": "GMetaList"}'))
    assert response.status == 200
    reply = body_of(response)
    assert reply["acknowledged"] is True
    clock.at(5.0)
    doc = sim.task_document(reply["task_id"])
    assert doc["index_id"] == OTHER_INDEX
    assert doc["state"] == "SUCCESS"


def test_ingest_scenario_header(sim: Simulator, clock: FakeClock) -> None:
    request = post(f"/v1/index/{OTHER_INDEX}/ingest", b"{}", **{"x-simulator-scenario": "failure"})
    task_id = body_of(sim.handle(request))["task_id"]
    clock.at(4.0)
    assert sim.task_document(task_id)["state"] == "FAILED"


def test_ingest_rejects_bad_json_and_unknown_scenario(sim: Simulator) -> None:
    bad_json = sim.handle(post(f"/v1/index/{OTHER_INDEX}/ingest", b"{not json"))
    assert bad_json.status == 400
    unknown = sim.handle(
        post(f"/v1/index/{OTHER_INDEX}/ingest", b"{}", **{"x-simulator-scenario": "nope"})
    )
    assert unknown.status == 400
    assert "success" in body_of(unknown)["message"]
    assert sim.task_list(OTHER_INDEX)["tasks"] == []


def test_task_list_filters_orders_and_limits(sim: Simulator, clock: FakeClock) -> None:
    mine = []
    for step in range(1003):
        clock.at(step * 0.001)
        mine.append(sim.submit(index_id=OTHER_INDEX)["task_id"])
    other = sim.submit()["task_id"]  # the tutorial index, newest of all
    response = sim.handle(get(f"/v1/task_list/{OTHER_INDEX}"))
    assert response.status == 200
    body = body_of(response)
    assert body["index_id"] == OTHER_INDEX
    listed = [task["task_id"] for task in body["tasks"]]
    assert len(listed) == 1000
    assert listed == list(reversed(mine))[:1000]
    assert other not in listed
    assert all(set(task) == TASK_FIELDS for task in body["tasks"])


def test_task_list_ties_are_newest_submit_first(sim: Simulator) -> None:
    first = sim.submit()["task_id"]
    second = sim.submit()["task_id"]  # same fake-clock instant
    tasks = sim.task_list(TUTORIAL_INDEX_ID)["tasks"]
    assert [task["task_id"] for task in tasks] == [second, first]


def test_task_list_of_an_empty_index(sim: Simulator) -> None:
    assert body_of(sim.handle(get(f"/v1/task_list/{OTHER_INDEX}"))) == {
        "index_id": OTHER_INDEX,
        "tasks": [],
    }


def test_outage_answers_503_with_retry_after(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("outage")["task_id"]
    statuses = []
    for t in [1.0, 1.49, 1.5, 3.0, 4.99, 5.0, 6.0]:
        clock.at(t)
        statuses.append(sim.handle(get(f"/v1/task/{task_id}")).status)
    assert statuses == [200, 200, 503, 503, 503, 200, 200]
    clock.at(2.0)
    response = sim.handle(get(f"/v1/task/{task_id}"))
    assert response.headers["Retry-After"] == "2"
    body = body_of(response)
    assert body["@datatype"] == "GError"
    assert body["code"] == "ServiceUnavailable"
    assert body["status"] == 503
    # The index's task list is down too, as in a real outage.
    assert sim.handle(get(f"/v1/task_list/{TUTORIAL_INDEX_ID}")).status == 503
    # The Python API is not an HTTP call and is never faulted.
    assert sim.task_document(task_id)["state"] == "PROGRESS"


def test_outage_retry_after_scales_with_speed(clock: FakeClock) -> None:
    fast = Simulator(clock=clock, speed=4)
    task_id = fast.submit("outage")["task_id"]
    clock.at(2.0 / 4)
    response = fast.handle(get(f"/v1/task/{task_id}"))
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"


def test_proxy_error_answers_html_502(sim: Simulator, clock: FakeClock) -> None:
    task_id = sim.submit("proxy-error")["task_id"]
    statuses = []
    for t in [0.99, 1.0, 2.99, 3.0]:
        clock.at(t)
        statuses.append(sim.handle(get(f"/v1/task/{task_id}")).status)
    assert statuses == [200, 502, 502, 200]
    clock.at(2.0)
    response = sim.handle(get(f"/v1/task/{task_id}"))
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"502 Bad Gateway" in response.body
    assert sim.handle(get(f"/v1/task_list/{TUTORIAL_INDEX_ID}")).status == 502


def test_fault_in_one_index_leaves_others_alone(sim: Simulator, clock: FakeClock) -> None:
    sim.submit("outage")
    calm = sim.submit(index_id=OTHER_INDEX)["task_id"]
    clock.at(2.0)
    assert sim.handle(get(f"/v1/task/{calm}")).status == 200
    assert sim.handle(get(f"/v1/task_list/{OTHER_INDEX}")).status == 200


def test_latency_delays_every_answer(clock: FakeClock) -> None:
    slow = Simulator(clock=clock, latency=0.25)
    assert slow.handle(get(f"/v1/task/{uuid.uuid4()}")).delay == 0.25
    assert slow.handle(post(f"/v1/index/{OTHER_INDEX}/ingest", b"{}")).delay == 0.25
    assert Simulator(clock=clock).handle(get("/")).delay == 0.0


# -- authentication -------------------------------------------------------------------------


def test_token_is_optional_by_default(sim: Simulator) -> None:
    task_id = sim.submit()["task_id"]
    assert sim.handle(get(f"/v1/task/{task_id}")).status == 200
    assert sim.handle(get(f"/v1/task/{task_id}", authorization="Bearer anything")).status == 200


def test_required_token(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-T0KEN-value"
    guarded = Simulator(clock=clock, required_token=secret)
    task_id = guarded.submit()["task_id"]
    path = f"/v1/task/{task_id}"
    with caplog.at_level(logging.DEBUG, logger="search_task_widget"):
        missing = guarded.handle(get(path))
        wrong = guarded.handle(get(path, authorization=f"Bearer {secret}x"))
        bare = guarded.handle(get(path, authorization=secret))
        right = guarded.handle(get(path, authorization=f"Bearer {secret}"))
    for refused in (missing, wrong, bare):
        assert refused.status == 401
        body = body_of(refused)
        assert body["@datatype"] == "GError"
        assert body["code"].startswith("AuthenticationFailed")
        assert secret.encode() not in refused.body
        assert all(secret not in value for value in refused.headers.values())
    assert right.status == 200
    assert secret not in caplog.text
    assert any(r.name == "search_task_widget" for r in caplog.records)


# -- docs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["success", "failure", "slow-queue", "outage", "cancelled", "proxy-error"]
)
def test_required_scenarios_exist_and_are_documented(name: str) -> None:
    assert name in SCENARIOS
    assert SCENARIOS[name].name == name
    assert SCENARIOS[name].summary
    assert f"``{name}``" in simulator_module.__doc__


def test_every_scenario_is_documented() -> None:
    documented = set(re.findall(r"^``([a-z-]+)``$", simulator_module.__doc__, re.MULTILINE))
    assert documented == set(SCENARIOS)


def test_scenarios_cannot_be_edited() -> None:
    with pytest.raises(TypeError):
        SCENARIOS["mine"] = SCENARIOS["success"]  # type: ignore[index]


# -- threads and real HTTP ------------------------------------------------------------------


def test_concurrent_submits_are_all_kept(sim: Simulator) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            task_id = sim.submit()["task_id"]
            with lock:
                ids.append(task_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    listed = {task["task_id"] for task in sim.task_list(TUTORIAL_INDEX_ID)["tasks"]}
    assert len(ids) == 400
    assert listed == set(ids)


@pytest.fixture
def served(clock: FakeClock) -> Iterator[Simulator]:
    with Simulator(clock=clock) as running:
        yield running


def test_over_real_http(served: Simulator, clock: FakeClock) -> None:
    with httpx.Client(base_url=served.base_url, timeout=5) as http:
        ingest = http.post(
            f"v1/index/{OTHER_INDEX}/ingest",
            json={"ingest_type": "GMetaEntry"},
            headers={"X-Simulator-Scenario": "outage"},
        )
        assert ingest.status_code == 200
        task_id = ingest.json()["task_id"]
        clock.at(2.0)
        down = http.get(f"v1/task/{task_id}")
        assert down.status_code == 503
        assert down.headers["retry-after"] == "2"
        clock.at(6.0)
        up = http.get(f"v1/task/{task_id}", headers={"Authorization": "Bearer dummy"})
        assert up.status_code == 200
        assert up.json()["state"] == "SUCCESS"
        listed = http.get(f"v1/task_list/{OTHER_INDEX}").json()
        assert [task["task_id"] for task in listed["tasks"]] == [task_id]


def test_stop_is_idempotent_and_base_url_needs_start(clock: FakeClock) -> None:
    idle = Simulator(clock=clock)
    with pytest.raises(RuntimeError):
        _ = idle.base_url
    idle.start()
    url = idle.base_url
    assert url.startswith("http://127.0.0.1:")
    idle.stop()
    idle.stop()
    assert not idle.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_shared_simulator_is_one_started_instance() -> None:
    found: list[Simulator] = []
    barrier = threading.Barrier(4)

    def grab() -> None:
        barrier.wait(5)
        found.append(shared_simulator())

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(found) == 4
    assert all(sim is found[0] for sim in found)
    assert shared_simulator() is found[0]
    sim = found[0]
    task_id = sim.submit()["task_id"]
    response = httpx.get(f"{sim.base_url}v1/task/{task_id}", timeout=5)
    assert response.status_code == 200
    assert response.json()["task_id"] == task_id
