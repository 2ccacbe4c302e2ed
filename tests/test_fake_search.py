"""The test suite's scripted fake Search service behaves as its docstrings promise."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fake_search import (
    FAKE_INDEX_ID,
    FakeSearch,
    dropped,
    http_error,
    missing_fields,
    not_json,
    proxy_html,
    slow,
    task_doc,
    truncated_json,
)

SEARCH_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture
def http(fake_search: FakeSearch) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_search.base_url, timeout=5) as client:
        yield client


def test_task_doc_is_complete_and_realistic() -> None:
    doc = task_doc()
    assert set(doc) == {
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
    assert uuid.UUID(doc["task_id"])
    assert doc["state"] == "PENDING"
    assert doc["state_description"] == "Task is waiting to start"
    assert doc["completion_date"] is None
    assert SEARCH_DATE.match(doc["creation_date"])
    done = task_doc("t1", "FAILED", task_type="delete-by-query")
    assert done["task_id"] == "t1"
    assert done["task_type"] == "delete-by-query"
    assert SEARCH_DATE.match(done["completion_date"])
    assert done["message"]
    assert done["additional_details"]["errors"]


def test_put_task_serves_it_and_lists_it(fake_search: FakeSearch, http: httpx.Client) -> None:
    older = task_doc(creation_date="2024-01-01T00:00:00.000000")
    newer = task_doc(creation_date="2024-01-02T00:00:00.000000")
    elsewhere = task_doc(index_id=str(uuid.uuid4()))
    for doc in (older, newer, elsewhere):
        fake_search.put_task(doc)
    assert http.get(f"v1/task/{older['task_id']}").json() == older
    listed = http.get(f"v1/task_list/{FAKE_INDEX_ID}").json()
    assert listed["index_id"] == FAKE_INDEX_ID
    assert [t["task_id"] for t in listed["tasks"]] == [newer["task_id"], older["task_id"]]


def test_script_steps_then_last_document(fake_search: FakeSearch, http: httpx.Client) -> None:
    pending = task_doc("t1", "PENDING")
    success = task_doc("t1", "SUCCESS")
    fake_search.script("t1", [pending, http_error(503, retry_after=2), success, proxy_html()])
    first = http.get("v1/task/t1")
    outage = http.get("v1/task/t1")
    third = http.get("v1/task/t1")
    proxy = http.get("v1/task/t1")
    after = [http.get("v1/task/t1").json()["state"] for _ in range(2)]
    assert first.json()["state"] == "PENDING"
    assert outage.status_code == 503
    assert outage.headers["retry-after"] == "2"
    assert outage.json()["code"] == "ServiceUnavailable"
    assert third.json()["state"] == "SUCCESS"
    assert proxy.status_code == 502
    assert "<h1>502 Bad Gateway</h1>" in proxy.text
    assert after == ["SUCCESS", "SUCCESS"]


def test_script_list(fake_search: FakeSearch, http: httpx.Client) -> None:
    body = {"index_id": "i1", "tasks": [task_doc("t1", "PROGRESS")]}
    fake_search.script_list("i1", [http_error(500), body])
    assert http.get("v1/task_list/i1").status_code == 500
    assert http.get("v1/task_list/i1").json() == body
    assert http.get("v1/task_list/i1").json() == body


def test_body_faults(fake_search: FakeSearch, http: httpx.Client) -> None:
    fake_search.script("t1", [truncated_json(), not_json(), missing_fields(), dropped()])
    truncated = http.get("v1/task/t1")
    assert truncated.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        truncated.json()
    plain = http.get("v1/task/t1")
    assert (plain.status_code, plain.text, plain.headers["content-type"]) == (
        200,
        "OK",
        "text/plain",
    )
    partial = http.get("v1/task/t1").json()
    assert "task_id" not in partial
    assert "state" not in partial
    with pytest.raises(httpx.TransportError):
        http.get("v1/task/t1")


def test_slow_step_stores_its_document(fake_search: FakeSearch, http: httpx.Client) -> None:
    fake_search.script("t1", [slow(0.2, task_doc("t1", "SUCCESS"))])
    started = time.monotonic()
    assert http.get("v1/task/t1").json()["state"] == "SUCCESS"
    assert time.monotonic() - started >= 0.2
    assert http.get("v1/task/t1").json()["state"] == "SUCCESS"  # stored, served at once


def test_unknown_task_and_path_are_404_gerrors(http: httpx.Client) -> None:
    for path in ("v1/task/nope", "v1/nothing"):
        response = http.get(path)
        assert response.status_code == 404
        assert response.json()["@datatype"] == "GError"


def test_records_requests(fake_search: FakeSearch, http: httpx.Client) -> None:
    fake_search.put_task(task_doc("t1"))
    before = time.monotonic()
    http.get("v1/task/t1", headers={"Authorization": "Bearer abc"})
    http.get(f"v1/task_list/{FAKE_INDEX_ID}")
    (recorded,) = fake_search.requests_for("/task/t1")
    assert recorded.method == "GET"
    assert recorded.path == "/v1/task/t1"
    assert recorded.headers["authorization"] == "Bearer abc"
    assert recorded.at >= before
    assert len(fake_search.requests) == 2


def test_require_bearer(fake_search: FakeSearch, http: httpx.Client) -> None:
    fake_search.put_task(task_doc("t1"))
    fake_search.require_bearer = "good"
    assert http.get("v1/task/t1").status_code == 401
    assert http.get("v1/task/t1", headers={"Authorization": "Bearer bad"}).status_code == 401
    ok = http.get("v1/task/t1", headers={"Authorization": "Bearer good"})
    assert ok.status_code == 200
    assert len(fake_search.requests) == 3  # refused requests are recorded too
