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
from search_task_widget.simulator import (
    SCENARIOS,
    TUTORIAL_INDEX_ID,
    Simulator,
    format_search_date,
    shared_simulator,
)
from search_task_widget.simulator.loopback import Request, Response

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


def delete(path: str, **query: str) -> Request:
    return Request("DELETE", path, query, MappingProxyType({}), b"")


def body_of(response: Response) -> dict:
    return json.loads(response.body)


def entry(subject: str = "https://example.org/a", **content: object) -> dict:
    return {"subject": subject, "visible_to": ["public"], "content": content}


def gmeta(*entries: dict) -> bytes:
    return json.dumps(
        {"ingest_type": "GMetaList", "ingest_data": {"gmeta": list(entries)}}
    ).encode()


VALID = json.dumps({"ingest_type": "GMetaEntry", "ingest_data": entry()}).encode()


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
    assert details["total_document_count"] == 3
    assert details["errors"][0]["error_type"] == "FieldTypeConflict"
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
    response = sim.handle(post(f"/v1/index/{OTHER_INDEX}/ingest", VALID))
    assert response.status == 200
    reply = body_of(response)
    assert reply["acknowledged"] is True
    clock.at(5.0)
    doc = sim.task_document(reply["task_id"])
    assert doc["index_id"] == OTHER_INDEX
    assert doc["state"] == "SUCCESS"


def test_ingest_scenario_header(sim: Simulator, clock: FakeClock) -> None:
    request = post(f"/v1/index/{OTHER_INDEX}/ingest", VALID, **{"x-simulator-scenario": "failure"})
    task_id = body_of(sim.handle(request))["task_id"]
    clock.at(4.0)
    assert sim.task_document(task_id)["state"] == "FAILED"


def test_ingest_rejects_bad_json_and_unknown_scenario(sim: Simulator) -> None:
    bad_json = sim.handle(post(f"/v1/index/{OTHER_INDEX}/ingest", b"{not json"))
    assert bad_json.status == 400
    assert body_of(bad_json)["code"] == "BadRequest.Generic"
    assert "requires a JSON payload" in body_of(bad_json)["message"]
    unknown = sim.handle(
        post(f"/v1/index/{OTHER_INDEX}/ingest", VALID, **{"x-simulator-scenario": "nope"})
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
            json={"ingest_type": "GMetaEntry", "ingest_data": entry()},
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


def test_base_url_starts_serving_and_stop_is_idempotent(clock: FakeClock) -> None:
    idle = Simulator(clock=clock)
    assert not idle.running
    url = idle.base_url  # a teacher who forgot start(): it serves from here on
    assert idle.running
    assert url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{url}v1/task_list/{OTHER_INDEX}", timeout=5).status_code == 200
    idle.stop()
    idle.stop()
    assert not idle.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)
    # Stopped on purpose: base_url says so rather than serving again behind one's back.
    with pytest.raises(RuntimeError, match=r"call start\(\)"):
        _ = idle.base_url
    assert idle.start().base_url.startswith("http://127.0.0.1:")
    idle.stop()


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


# -- what the service accepts and refuses --------------------------------------------------

INGEST = f"/v1/index/{OTHER_INDEX}/ingest"
IDENTITY = "urn:globus:auth:identity:46bd0f56-e24f-11e5-a510-131bef46955c"


@pytest.mark.parametrize(
    ("body", "location", "what"),
    [
        ([], "", "must be a GIngest object, not an array"),
        ({}, "ingest_type", "is required"),
        ({"ingest_type": "GMetaThing", "ingest_data": {}}, "ingest_type", "'GMetaThing'"),
        ({"ingest_type": "GMetaEntry", "ingest_data": []}, "ingest_data", "must be an object"),
        (
            {"ingest_type": "GMetaEntry", "ingest_data": {"visible_to": ["public"], "content": {}}},
            "ingest_data.subject",
            "is a required property",
        ),
        ({"ingest_type": "GMetaList", "ingest_data": {}}, "ingest_data.gmeta", "is required"),
        (
            {"ingest_type": "GMetaList", "ingest_data": {"gmeta": [entry(), {"subject": "b"}]}},
            "ingest_data.gmeta[1].visible_to",
            "is a required property",
        ),
        (
            {"ingest_type": "GMetaEntry", "ingest_data": {**entry(), "visible_to": "public"}},
            "ingest_data.visible_to",
            "must be an array",
        ),
        (
            {"ingest_type": "GMetaEntry", "ingest_data": {**entry(), "visible_to": ["all"]}},
            "ingest_data.visible_to[0]",
            "is not 'public' or a principal URN",
        ),
        (
            {"ingest_type": "GMetaEntry", "ingest_data": {**entry(), "content": [1]}},
            "ingest_data.content",
            "must be an object, not an array",
        ),
        (
            {"ingest_type": "GMetaEntry", "ingest_data": {**entry(), "subject": ""}},
            "ingest_data.subject",
            "must be a non-empty string",
        ),
        (
            {"ingest_type": "GMetaEntry", "ingest_data": {**entry(), "id": 5}},
            "ingest_data.id",
            "must be a string or null",
        ),
    ],
)
def test_ingest_refuses_what_is_not_a_gingest_document(
    sim: Simulator, body: object, location: str, what: str
) -> None:
    response = sim.handle(post(INGEST, json.dumps(body).encode()))
    assert response.status == 400
    error = body_of(response)
    assert error["@datatype"] == "GError"
    assert error["code"] == "BadRequest.ValidationError"
    assert error["error_data"]["location"] == location
    assert what in error["message"]
    assert error["message"].startswith(f"{location}: " if location else "the body")
    assert sim.task_list(OTHER_INDEX)["tasks"] == []  # refused: no task


def test_every_problem_is_listed_and_the_message_counts_the_rest(sim: Simulator) -> None:
    body = {"ingest_type": "GMetaList", "ingest_data": {"gmeta": [{"subject": "a"}, entry(), 7]}}
    error = body_of(sim.handle(post(INGEST, json.dumps(body).encode())))
    assert error["message"] == (
        "ingest_data.gmeta[0].visible_to: is a required property (and 2 more)"
    )
    assert error["error_data"]["problems"] == [
        "ingest_data.gmeta[0].visible_to: is a required property",
        "ingest_data.gmeta[0].content: is a required property",
        "ingest_data.gmeta[2]: a GMetaEntry must be an object, not a number",
    ]


def test_a_valid_entry_and_list_are_accepted(sim: Simulator, clock: FakeClock) -> None:
    single = {"ingest_type": "GMetaEntry", "ingest_data": {**entry(), "visible_to": [IDENTITY]}}
    one = body_of(sim.handle(post(INGEST, json.dumps(single).encode())))
    many = body_of(sim.handle(post(INGEST, gmeta(entry("a"), {**entry("b"), "id": "v2"}))))
    assert one["num_documents_ingested"] == 1
    assert many["num_documents_ingested"] == 2
    clock.at(60.0)
    assert {t["state"] for t in sim.task_list(OTHER_INDEX)["tasks"]} == {"SUCCESS"}


def test_a_field_type_conflict_fails_the_task_not_the_call(
    sim: Simulator, clock: FakeClock
) -> None:
    first = sim.handle(post(INGEST, gmeta(entry("s1", temperature_c=19, note="ok"))))
    bad = gmeta(
        entry("s2", temperature_c=20.5),  # a float in a field of integers: never narrowed
        entry("s3", temperature_c=21, note=7),  # a number in a text field: widened, stored
        entry("s4", temperature_c="warm"),
    )
    second = sim.handle(post(INGEST, bad))
    assert first.status == second.status == 200  # accepted: the trap
    clock.at(60.0)
    assert sim.task_document(body_of(first)["task_id"])["state"] == "SUCCESS"
    doc = sim.task_document(body_of(second)["task_id"])
    assert doc["state"] == "FAILED"
    assert doc["state_description"] == "Task failed"
    assert doc["message"] == (
        "2 of 3 ingest documents failed: s2: field 'temperature_c' holds integer values in "
        "this index; 20.5 is a float"
    )
    details = doc["additional_details"]
    assert details["failed_document_count"] == 2
    assert details["total_document_count"] == 3
    assert [e["subject"] for e in details["errors"]] == ["s2", "s4"]
    assert {e["error_type"] for e in details["errors"]} == {"FieldTypeConflict"}
    # Types are per index: another index takes text there.
    other = sim.handle(post(f"/v1/index/{TUTORIAL_INDEX_ID}/ingest", gmeta(entry("x", temperature_c="warm"))))  # fmt: skip
    clock.at(120.0)
    assert sim.task_document(body_of(other)["task_id"])["state"] == "SUCCESS"


# -- choosing the scenario -----------------------------------------------------------------


def test_scenario_per_simulator_and_per_index(clock: FakeClock) -> None:
    sim = Simulator(clock=clock, scenario="failure")
    sim.set_scenario(OTHER_INDEX, "cancelled")
    failing = body_of(sim.handle(post(f"/v1/index/{TUTORIAL_INDEX_ID}/ingest", gmeta(entry("a"), entry("b")))))  # fmt: skip
    cancelled = body_of(sim.handle(post(INGEST, VALID)))
    sim.set_scenario(OTHER_INDEX, None)  # back to the simulator's
    assert sim.scenario_for(OTHER_INDEX) == "failure"
    clock.at(60.0)
    doc = sim.task_document(failing["task_id"])
    assert doc["state"] == "FAILED"
    # The last entry of the batch fails, and the message says so.
    assert doc["message"] == "1 of 2 ingest documents failed: b: simulated error (scenario 'failure')"  # fmt: skip
    assert sim.task_document(cancelled["task_id"])["state"] == "CANCELLED"
    with pytest.raises(ValueError, match="unknown scenario"):
        Simulator(scenario="explode")
    with pytest.raises(ValueError, match="unknown scenario"):
        sim.set_scenario(OTHER_INDEX, "explode")


def test_scenario_per_call_in_the_subjects(sim: Simulator, clock: FakeClock) -> None:
    marked = gmeta(
        entry("https://example.org/1"),
        entry("simulate:failure:https://example.org/2"),
        entry("simulate:failure:https://example.org/3"),
    )
    task_id = body_of(sim.handle(post(INGEST, marked)))["task_id"]
    clock.at(60.0)
    doc = sim.task_document(task_id)
    assert doc["message"].startswith("2 of 3 ingest documents failed: simulate:failure:https")
    subjects = [e["subject"] for e in doc["additional_details"]["errors"]]
    assert subjects == [
        "simulate:failure:https://example.org/2",
        "simulate:failure:https://example.org/3",
    ]
    unknown = sim.handle(post(INGEST, gmeta(entry("a"), entry("simulate:nope:b"))))
    assert unknown.status == 400
    error = body_of(unknown)
    assert error["error_data"]["location"] == "ingest_data.gmeta[1].subject"
    assert "unknown scenario 'nope'" in error["message"]
    assert "slow-queue" in error["message"]


def test_the_header_wins_over_a_subject(sim: Simulator, clock: FakeClock) -> None:
    body = gmeta(entry("simulate:failure:a"))
    task_id = body_of(sim.handle(post(INGEST, body, **{"x-simulator-scenario": "cancelled"})))["task_id"]  # fmt: skip
    clock.at(60.0)
    assert sim.task_document(task_id)["state"] == "CANCELLED"


# -- delete tasks --------------------------------------------------------------------------


def test_delete_routes_create_tasks_of_their_types(sim: Simulator, clock: FakeClock) -> None:
    by_query = sim.handle(post(f"/v1/index/{OTHER_INDEX}/delete_by_query", b'{"q": "*"}'))
    by_subject = sim.handle(
        post(f"/v1/index/{OTHER_INDEX}/batch_delete_by_subject", b'{"subjects": ["a", "b"]}')
    )
    one = sim.handle(delete(f"/v1/index/{OTHER_INDEX}/subject", subject="a"))
    entry_ = sim.handle(delete(f"/v1/index/{OTHER_INDEX}/entry", subject="a"))
    replies = [body_of(r) for r in (by_query, by_subject, one, entry_)]
    assert all(set(reply) == {"task_id"} for reply in replies)
    clock.at(60.0)
    types = [sim.task_document(reply["task_id"])["task_type"] for reply in replies]
    assert types == ["delete-by-query", "delete-by-subject", "delete-by-subject", "delete-by-entry-id"]  # fmt: skip
    assert {sim.task_document(r["task_id"])["state"] for r in replies} == {"SUCCESS"}


@pytest.mark.parametrize(
    ("route", "body", "location"),
    [
        ("delete_by_query", b"{}", "q"),
        ("delete_by_query", b'{"q": 3}', "q"),
        ("batch_delete_by_subject", b"{}", "subjects"),
        ("batch_delete_by_subject", b'{"subjects": []}', "subjects"),
        ("batch_delete_by_subject", b'{"subjects": ["a", 2]}', "subjects[1]"),
    ],
)
def test_delete_bodies_are_checked(sim: Simulator, route: str, body: bytes, location: str) -> None:
    response = sim.handle(post(f"/v1/index/{OTHER_INDEX}/{route}", body))
    assert response.status == 400
    assert body_of(response)["code"] == "BadRequest.ValidationError"
    assert body_of(response)["error_data"]["location"] == location


def test_a_failing_delete_names_what_was_sent(sim: Simulator, clock: FakeClock) -> None:
    sim.set_scenario(OTHER_INDEX, "failure")
    batch = sim.handle(
        post(f"/v1/index/{OTHER_INDEX}/batch_delete_by_subject", b'{"subjects": ["a", "b", "c"]}')
    )
    query = sim.handle(post(f"/v1/index/{OTHER_INDEX}/delete_by_query", b'{"q": "year:1999"}'))
    clock.at(60.0)
    doc = sim.task_document(body_of(batch)["task_id"])
    assert doc["state"] == "FAILED"
    assert doc["message"] == "1 of 3 subjects could not be deleted: c: simulated error (scenario 'failure')"  # fmt: skip
    assert "'year:1999'" in sim.task_document(body_of(query)["task_id"])["message"]


# -- a real globus_sdk.SearchClient ----------------------------------------------------------


def test_a_real_search_client_ingests_and_reads_tasks(served: Simulator, clock: FakeClock) -> None:
    import globus_sdk

    sc = globus_sdk.SearchClient(base_url=served.base_url)
    reply = sc.ingest(OTHER_INDEX, json.loads(gmeta(entry("a", n=1), entry("b", n=2))))
    assert reply["acknowledged"] is True
    deleted = sc.batch_delete_by_subject(OTHER_INDEX, ["a"])
    by_query = sc.delete_by_query(OTHER_INDEX, {"q": "n:1"})
    clock.at(60.0)
    task = sc.get_task(reply["task_id"])
    assert task["state"] == "SUCCESS"
    assert task["index_id"] == OTHER_INDEX
    listed = sc.get_task_list(OTHER_INDEX)
    assert {t["task_id"] for t in listed["tasks"]} == {
        reply["task_id"], deleted["task_id"], by_query["task_id"]
    }  # fmt: skip
    with pytest.raises(globus_sdk.SearchAPIError) as refused:
        sc.ingest(OTHER_INDEX, {"ingest_type": "GMetaEntry", "ingest_data": {"subject": "x"}})
    assert refused.value.http_status == 400
    assert refused.value.code == "BadRequest.ValidationError"
    assert "ingest_data.visible_to: is a required property" in refused.value.message


def test_delete_subject_needs_its_subject(sim: Simulator) -> None:
    response = sim.handle(delete(f"/v1/index/{OTHER_INDEX}/subject"))
    assert response.status == 400
    assert body_of(response)["error_data"]["location"] == "subject"
    wrong_method = sim.handle(post(f"/v1/index/{OTHER_INDEX}/subject", b"{}"))
    assert wrong_method.status == 405
    assert wrong_method.headers["Allow"] == "DELETE"


def test_an_empty_batch_fails_only_on_purpose(sim: Simulator, clock: FakeClock) -> None:
    empty = gmeta()
    ok = body_of(sim.handle(post(INGEST, empty)))["task_id"]
    bad = body_of(sim.handle(post(INGEST, empty, **{"x-simulator-scenario": "failure"})))
    clock.at(60.0)
    assert sim.task_document(ok)["state"] == "SUCCESS"
    doc = sim.task_document(bad["task_id"])
    assert doc["state"] == "FAILED"
    assert doc["message"] == "Task failed: simulated error (scenario 'failure')"
