"""The scenario engine on its own: a fake clock, answers as data, no sockets.

The HTTP side (the simulator, FakeSearch and the bench serving these answers on 127.0.0.1)
is tested in test_simulator.py, test_fake_search.py, test_loopback.py and
test_bench_smoke.py.
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest
from fakes import FakeClock

from search_task_widget._model.task import (
    FIELDS,
    TERMINAL_STATES,
    MalformedTaskError,
    Task,
    parse_service_date,
)
from search_task_widget.simulator import scenarios as engine
from search_task_widget.simulator.scenarios import (
    FAULT_KINDS,
    Failure,
    Fault,
    Scenario,
    TaskBook,
    format_search_date,
    http_error,
    lifecycle,
    phase,
    route_of,
)

INDEX = "85a76897-0d62-4677-a00b-06f5ed2acb0c"
OTHER_INDEX = "696af25c-8c24-469a-b5e0-67d3e4b71df7"
ROOT = Path(__file__).resolve().parents[1]

SUCCESS = Scenario("success", "ends well", lifecycle())
OUTAGE = Scenario(
    "outage", "503 for a while", lifecycle(done_at=6.0), (Fault(1.5, 5.0, "unavailable"),)
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def _body(response) -> dict:
    return json.loads(response.body)


def test_a_task_moves_through_its_phases_as_the_clock_moves(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    task = book.add(INDEX, SUCCESS)
    seen = []
    for step in (0.0, 0.5, 1.5, 3.0, 10.0):  # to 0, 0.5, 2, 5 and 15 s after submit
        clock.advance(step)
        document = book.document(task)
        seen.append((document["state"], document["completion_date"]))
    end = format_search_date(task.created + 5.0)  # when SUCCESS began, not "now"
    assert seen == [
        ("CREATING", None),
        ("PENDING", None),
        ("PROGRESS", None),
        ("SUCCESS", end),
        ("SUCCESS", end),
    ]


def test_speed_divides_scenario_times_and_completion_dates(clock: FakeClock) -> None:
    book = TaskBook(clock.time, speed=10.0)
    task = book.add(INDEX, SUCCESS)
    clock.advance(0.45)
    assert book.document(task)["state"] == "PROGRESS"
    clock.advance(0.05)
    document = book.document(task)
    assert document["state"] == "SUCCESS"
    assert document["completion_date"] == format_search_date(task.created + 0.5)


def test_a_clock_that_steps_back_counts_as_no_time(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    task = book.add(INDEX, SUCCESS)
    clock.advance(-100.0)
    assert book.elapsed(task) == 0.0
    assert book.document(task)["state"] == "CREATING"


def test_documents_have_every_field_in_the_service_order(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    document = book.document(book.add(INDEX, SUCCESS, task_type="delete-by-query"))
    assert tuple(document) == FIELDS
    assert document["task_type"] == "delete-by-query"
    assert document["state_description"] == "Task is being created"
    assert Task.from_document(document).created_at == parse_service_date(
        format_search_date(clock.time())
    )


def test_every_terminal_state_ends_a_timeline(clock: FakeClock) -> None:
    # The states come from _model/task.py: CANCELLED included, which the bench once forgot.
    for state in TERMINAL_STATES:
        assert phase(1.0, state).ended
    assert not phase(1.0, "PROGRESS").ended
    cancelled = Scenario("cancelled", "", (phase(0.0, "PENDING"), phase(3.0, "CANCELLED")))
    book = TaskBook(clock.time)
    task = book.add(INDEX, cancelled)
    clock.advance(3.0)
    document = book.document(task)
    assert document["state"] == "CANCELLED"
    assert document["state_description"] == "Task cancelled because its index was deleted"
    assert document["completion_date"] == format_search_date(task.created + 3.0)


def test_a_failure_turns_the_ending_into_failed(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    failure = Failure("1 of 2 ingest documents failed: a: why", {"failed_document_count": 1})
    task = book.add(INDEX, SUCCESS, failure=failure)
    clock.advance(2.0)
    assert book.document(task)["message"] is None  # running: nothing has failed yet
    clock.advance(3.0)
    document = book.document(task)
    assert (document["state"], document["state_description"]) == ("FAILED", "Task failed")
    assert document["message"] == failure.message
    assert document["additional_details"] == {"failed_document_count": 1}


def test_a_caller_editing_its_document_cannot_change_the_scenario(clock: FakeClock) -> None:
    details = {"errors": [{"subject": "a"}]}
    ends = Scenario("x", "", (phase(0.0, "FAILED", message="m", additional_details=details),))
    book = TaskBook(clock.time)
    task = book.add(INDEX, ends)
    book.document(task)["additional_details"]["errors"].append("edited")
    assert book.document(task)["additional_details"] == details


def test_faults_hold_for_their_window_and_scale_retry_after(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    task = book.add(INDEX, OUTAGE)
    statuses = []
    for step in (1.0, 1.0, 3.0):  # 1, 2 and 5 s after submit
        clock.advance(step)
        statuses.append(book.answer_task(task.task_id).status)
    assert statuses == [200, 503, 200]
    fast = TaskBook(clock.time, speed=4.0)
    fast_task = fast.add(INDEX, OUTAGE)
    clock.advance(0.5)  # 2 scenario-seconds
    answer = fast.answer_task(fast_task.task_id)
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "1"  # 2 s at speed 4, rounded up to 1 s
    assert _body(answer)["code"] == "ServiceUnavailable"


def test_an_outage_fails_the_list_of_its_index_only(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    book.add(INDEX, OUTAGE)
    calm = book.add(OTHER_INDEX, SUCCESS)
    clock.advance(2.0)
    assert book.answer_list(INDEX).status == 503
    listed = book.answer_list(OTHER_INDEX)
    assert listed.status == 200
    assert _body(listed) == {"index_id": OTHER_INDEX, "tasks": [book.document(calm)]}


def test_task_list_is_newest_first_and_at_most_1000(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    first = book.add(INDEX, SUCCESS)
    same_time = book.add(INDEX, SUCCESS)
    clock.advance(1.0)
    newest = book.add(INDEX, SUCCESS)
    ids = [doc["task_id"] for doc in book.task_list(INDEX)["tasks"]]
    assert ids == [newest.task_id, same_time.task_id, first.task_id]
    for _ in range(engine.TASK_LIST_LIMIT):
        book.add(INDEX, SUCCESS)
    assert len(book.task_list(INDEX)["tasks"]) == engine.TASK_LIST_LIMIT
    assert len(book) == engine.TASK_LIST_LIMIT + 3


def test_an_unknown_task_is_a_404_gerror(clock: FakeClock) -> None:
    answer = TaskBook(clock.time).answer_task("05c1ec1b-2400-44e2-9797-922c29199042")
    assert answer.status == 404
    assert _body(answer)["code"] == "NotFound.Generic"


def test_gerror_has_the_search_shape_and_usual_defaults() -> None:
    answer = http_error(503, retry_after=2.5)
    body = _body(answer)
    assert answer.status == 503
    assert answer.headers == {"Content-Type": "application/json", "Retry-After": "2.5"}
    assert body["@datatype"] == "GError"
    assert body["@version"] == engine.GERROR_VERSION
    assert (body["status"], body["code"], body["message"]) == (
        503,
        "ServiceUnavailable",
        "Service Unavailable",
    )
    assert len(body["request_id"]) == 32
    assert _body(http_error(503))["request_id"] != body["request_id"]
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert http_error(429, retry_after=date).headers["Retry-After"] == date
    assert _body(http_error(418))["code"] == "Error"


def _inflated(response) -> bytes:
    return gzip.decompress(response.body)


# What each fault's answer must be, checked on the Response itself (no socket).
FAULT_CHECKS = {
    "unavailable": lambda r: r.status == 503 and "Retry-After" in r.headers,
    "too-many-requests": lambda r: r.status == 429 and r.headers["Retry-After"] == "2",
    "server-error": lambda r: r.status == 500 and _body(r)["code"] == "InternalError",
    "bad-gateway": lambda r: (
        r.status == 502
        and r.headers["Content-Type"].startswith("text/html")
        and b"<h1>502 Bad Gateway</h1>" in r.body
    ),
    "dropped": lambda r: r.drop_connection,
    "silent": lambda r: r.delay >= 3600 and not r.drop_connection,
    "slow": lambda r: r.delay == 2.0 and _body(r) == {},
    "trickle": lambda r: r.pace == 1.0 and list(itertools.islice(r.chunks, 3)) == [b" "] * 3,
    "endless": lambda r: len(list(itertools.islice(r.chunks, 1000))) == 1000,
    "gzip-bomb": lambda r: (
        r.headers["Content-Encoding"] == "gzip"
        and len(r.body) < 100_000
        and len(_inflated(r)) == 64 << 20
    ),
    "deep-json": lambda r: r.body.startswith(b"[" * 1000) and len(r.body) == 200_000,
    "truncated-json": lambda r: r.status == 200 and not _parses(r.body),
    "not-json": lambda r: r.status == 200 and not _parses(r.body),
    "missing-fields": lambda r: _refused_as_task(_body(r)),
    # The answer itself (a Task keeps at most MAX_FIELD_JSON of it: bounded_document).
    "huge-details": lambda r: len(_body(r)["additional_details"]["blob"]) == 20 << 20,
}


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _refused_as_task(document: dict) -> bool:
    with pytest.raises(MalformedTaskError):
        Task.from_document(document)
    return True


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_each_fault_kind_is_data_that_answers_as_described(kind: str) -> None:
    assert FAULT_CHECKS[kind](Fault(kind=kind).answer(task_id="t1"))


def test_every_fault_kind_is_checked_and_unknown_ones_are_refused() -> None:
    assert set(FAULT_CHECKS) == set(FAULT_KINDS)
    with pytest.raises(ValueError, match="unknown fault 'teapot'"):
        Fault(kind="teapot")


def test_a_slow_fault_delays_the_answer_the_task_would_give(clock: FakeClock) -> None:
    sluggish = Scenario("sluggish", "", lifecycle(), (Fault(1.0, 3.0, "slow", seconds=0.5),))
    book = TaskBook(clock.time)
    task = book.add(INDEX, sluggish)
    clock.advance(2.0)
    late = book.answer_task(task.task_id)
    assert (late.status, late.delay) == (200, 0.5)
    assert _body(late) == book.document(task)
    clock.advance(1.0)
    assert book.answer_task(task.task_id).delay == 0.0


def test_a_fault_window_is_half_open() -> None:
    fault = Fault(1.0, 3.0, "dropped")
    assert [fault.covers(t) for t in (0.99, 1.0, 2.99, 3.0)] == [False, True, True, False]
    assert Fault(kind="dropped").covers(1e9)  # no window: the whole time


def test_routes_of_the_task_api() -> None:
    assert route_of("/v1/task/abc") == engine.Route("task", "abc")
    assert route_of("/v1/task_list/i1/") == engine.Route("task_list", "i1")
    assert route_of("/v1/index/i1/ingest") == engine.Route("index", "i1", "ingest")
    assert route_of("/v1/task") is None
    assert route_of("/v2/task/abc") is None


def test_dates_look_like_the_services() -> None:
    assert format_search_date(1_544_724_522.746911) == "2018-12-13T18:08:42.746911"
    assert engine.describe("ARCHIVED") == "Task is archived"


# Facts the engine holds; a fake that writes one of them again has drifted from it.
ENGINE_FACTS = ('"2017-09-01"', "%H:%M:%S.%f", '"PENDING": "Task', '"SUCCESS", "FAILED"')
LAYERS = (
    "search_task_widget/simulator/service.py",
    "search_task_widget/simulator/documents.py",
    "search_task_widget/simulator/loopback.py",
    "tests/fake_search.py",
    "bench/bench_polling.py",
)


@pytest.mark.parametrize("layer", LAYERS)
def test_the_layers_over_the_engine_do_not_repeat_its_facts(layer: str) -> None:
    source = (ROOT / layer).read_text(encoding="utf-8")
    assert [fact for fact in ENGINE_FACTS if fact in source] == []


def test_a_planned_task_goes_pending_progress_success(clock: FakeClock) -> None:
    book = TaskBook(clock.time)
    task = book.add(INDEX, engine.planned(1.5, 4.0))
    states = []
    for step in (0.0, 1.4, 0.1, 2.4, 0.1):  # 0, 1.4, 1.5, 3.9 and 4 s after submit
        clock.advance(step)
        states.append(book.document(task)["state"])
    assert states == ["PENDING", "PENDING", "PROGRESS", "PROGRESS", "SUCCESS"]
