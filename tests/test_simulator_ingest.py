"""The simulator's ingest route enforces Search's limits and, when asked, its rate; the
ingest job copes with both, over loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from search_task_widget._ingest.job import ingest
from search_task_widget._model.limits import Limits
from search_task_widget._tracking.poller import Poller
from search_task_widget.simulator import Simulator

INDEX = "85a76897-0d62-4677-a00b-06f5ed2acb0c"


def gmeta(*entries: dict) -> dict:
    return {"ingest_type": "GMetaList", "ingest_data": {"gmeta": list(entries)}}


def entry(subject: str, **content: object) -> dict:
    return {"subject": subject, "visible_to": ["public"], "content": content or {"n": 1}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def poller() -> Iterator[Poller]:
    poller = Poller(rate=100.0, burst=10.0)
    yield poller
    poller.shutdown(2.0)


def post(simulator: Simulator, body: object) -> httpx.Response:
    return httpx.post(f"{simulator.base_url}v1/index/{INDEX}/ingest", json=body, timeout=10)


@pytest.mark.parametrize(
    ("bad", "where", "what"),
    [
        (entry("x" * 501), "gmeta[1].subject", "longer than 500 bytes"),
        (entry("a") | {"visible_to": ["public"] * 101}, "gmeta[1].visible_to", "more than 100"),
        (entry("a", text="y" * 32_001), "gmeta[1].content.text", "longer than 32000 bytes"),
        (
            entry("a") | {"content": json.loads('{"a":' * 21 + "1" + "}" * 21)},
            "gmeta[1].content.a.a",
            "nested deeper than 20 levels",
        ),
    ],
)
def test_an_entry_past_a_limit_is_refused_with_its_location(bad, where, what):
    with Simulator() as simulator:
        answer = post(simulator, gmeta(entry("ok"), bad))

    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "BadRequest.ValidationError"
    assert where in body["message"]
    assert what in body["message"]


def test_a_request_past_the_size_limit_is_refused_413():
    with Simulator(limits=Limits(request_bytes=2000)) as simulator:
        answer = post(simulator, gmeta(*(entry(f"s{n}", text="z" * 100) for n in range(20))))

    assert answer.status_code == 413


def test_a_field_past_the_index_limit_fails_its_entry_in_the_task():
    clock = Clock()
    with Simulator(clock=clock, limits=Limits(fields_per_index=2)) as simulator:
        task_id = post(simulator, gmeta(entry("a", x=1, y=2), entry("b", z=3))).json()["task_id"]
        clock.now += 60
        task = simulator.task_document(task_id)

    assert task["state"] == "FAILED"
    (error,) = task["additional_details"]["errors"]
    assert error["subject"] == "b"
    assert "more than 2 distinct fields" in error["message"]


def test_an_entry_past_the_ids_per_subject_limit_fails_in_the_task():
    clock = Clock()
    with Simulator(clock=clock, limits=Limits(ids_per_subject=2)) as simulator:
        first = gmeta(*({**entry("s"), "id": name} for name in ("a", "b", "a")))
        second = gmeta({**entry("s"), "id": "c"}, {**entry("t"), "id": "c"}, entry("s"))
        task_ids = [post(simulator, body).json()["task_id"] for body in (first, second)]
        clock.now += 60
        tasks = [simulator.task_document(task_id) for task_id in task_ids]

    assert tasks[0]["state"] == "SUCCESS"  # "a" twice is one entry (an upsert)
    assert tasks[1]["state"] == "FAILED"
    (error,) = tasks[1]["additional_details"]["errors"]  # "t" and the id-less entry pass
    assert (error["subject"], error["error_type"]) == ("s", "TooManyEntries")
    assert "already holds 2 entries; a subject holds at most 2" in error["message"]


def test_past_its_rate_a_client_gets_429_with_retry_after():
    clock = Clock()
    with Simulator(clock=clock, rate_limit=2) as simulator:
        url = f"{simulator.base_url}v1/task_list/{INDEX}"
        codes = [httpx.get(url, timeout=10).status_code for _ in range(3)]
        refused = httpx.get(url, timeout=10)
        clock.now += 1.0
        again = httpx.get(url, timeout=10)

    assert codes == [200, 200, 429]
    assert refused.headers["Retry-After"] == "1"
    assert again.status_code == 200


def test_the_rate_limit_is_off_by_default():
    with Simulator() as simulator:
        url = f"{simulator.base_url}v1/task_list/{INDEX}"
        codes = {httpx.get(url, timeout=10).status_code for _ in range(30)}

    assert codes == {200}


def test_a_job_finishes_against_a_rate_limited_simulator(poller):
    with Simulator(speed=50, rate_limit=4) as simulator:
        job = ingest(
            INDEX, (entry(f"s{n}") for n in range(60)), base_url=simulator.base_url,
            poller=poller, poll_interval=0.05, limits=Limits(batch_entries=5),
        )  # fmt: skip
        summary = job.wait(60)

    assert summary["entries"]["indexed"] == 60
    assert summary["batches"]["submitted"] == 12


def test_an_entry_the_service_refuses_is_reported_and_the_rest_indexed(poller):
    lenient = Limits(subject_bytes=2000)  # the client lets through what the service refuses
    entries = [entry(f"s{n}") for n in range(6)]
    entries[4] = entry("x" * 600)
    with Simulator(speed=50) as simulator:
        job = ingest(
            INDEX, entries, base_url=simulator.base_url, poller=poller, poll_interval=0.05,
            limits=lenient,
        )  # fmt: skip
        summary = job.wait(60)

    assert summary["entries"]["indexed"] == 5
    assert [f["position"] for f in job.failed] == [4]
    assert job.failed[0]["reason"].startswith("refused by Search (HTTP 400")
