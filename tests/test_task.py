"""The Task document model: parsing, ids, dates, durations."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from search_task_widget import KNOWN_STATES, TERMINAL_STATES, Task
from search_task_widget._model.task import (
    MalformedTaskError,
    format_duration,
    normalize_task_id,
    parse_service_date,
)
from search_task_widget._model.vocabulary import ACTIVE_STATES, CANCELLED, STATE_DESCRIPTIONS

FULL = {
    "task_id": "05c1ec1b-2400-44e2-9797-922c29199042",
    "state": "SUCCESS",
    "task_type": "ingest",
    "state_description": "Task succeeded",
    "index_id": "696af25c-8c24-469a-b5e0-67d3e4b71df7",
    "message": None,
    "creation_date": "2018-12-13T18:08:42.746911",
    "completion_date": "2018-12-13T18:08:44.539611",
    "additional_details": None,
}


def test_full_document_round_trips():
    task = Task.from_document(FULL)
    assert task.state == "SUCCESS"
    assert task.is_terminal
    assert task.to_document() == FULL
    assert task.elapsed() == pytest.approx(1.7927, abs=1e-4)


def test_optional_fields_may_be_absent():
    task = Task.from_document({"task_id": FULL["task_id"], "state": "PENDING"})
    assert task.task_type is None
    assert task.state_description == ""
    assert task.message is None
    assert task.additional_details is None
    assert task.created_at is None
    assert task.elapsed() is None
    assert not task.is_terminal


def test_failed_document_keeps_message_and_details():
    details = {"errors": [{"error_type": "ValidationError", "message": "bad subject"}]}
    task = Task.from_document(
        {**FULL, "state": "FAILED", "message": "1 failed", "additional_details": details}
    )
    assert task.is_terminal
    assert task.message == "1 failed"
    assert task.additional_details == details


@pytest.mark.parametrize("state", ["CANCELLED", "SOMETHING_NEW", "paused"])
def test_unknown_states_are_kept_as_sent(state):
    task = Task.from_document({**FULL, "state": state, "completion_date": None})
    assert task.state == state


def test_only_documented_end_states_are_terminal():
    assert Task.from_document({**FULL, "state": "CANCELLED"}).is_terminal
    assert not Task.from_document({**FULL, "state": "SOMETHING_NEW"}).is_terminal
    assert not Task.from_document({**FULL, "state": "PROGRESS"}).is_terminal


@pytest.mark.parametrize(
    "document",
    [
        {"state": "PENDING"},
        {"task_id": FULL["task_id"]},
        {"task_id": FULL["task_id"], "state": ""},
        {"task_id": 42, "state": "PENDING"},
        ["not", "an", "object"],
        None,
    ],
)
def test_documents_without_id_or_state_are_refused(document):
    with pytest.raises(MalformedTaskError):
        Task.from_document(document)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-12-13T18:08:42.746911", datetime(2018, 12, 13, 18, 8, 42, 746911, timezone.utc)),
        ("2021-10-05T18:42:49", datetime(2021, 10, 5, 18, 42, 49, tzinfo=timezone.utc)),
        ("2021-10-05T18:42:49Z", datetime(2021, 10, 5, 18, 42, 49, tzinfo=timezone.utc)),
        ("2021-10-05T20:42:49+02:00", datetime(2021, 10, 5, 18, 42, 49, tzinfo=timezone.utc)),
    ],
)
def test_service_dates_are_utc(text, expected):
    parsed = parse_service_date(text)
    assert parsed == expected
    assert parsed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("text", [None, "", "yesterday", 12345])
def test_unparseable_dates_are_none(text):
    assert parse_service_date(text) is None


def test_task_ids_are_normalized():
    canonical = "05c1ec1b-2400-44e2-9797-922c29199042"
    assert normalize_task_id(canonical.upper()) == canonical
    assert normalize_task_id(f"  {canonical}\n") == canonical
    assert normalize_task_id(canonical.replace("-", "")) == canonical
    assert normalize_task_id(uuid.UUID(canonical)) == canonical


@pytest.mark.parametrize("bad", ["", "not-a-task", "05c1ec1b-2400-44e2-9797", None, 42, "x" * 500])
def test_malformed_task_ids_raise_value_error(bad):
    with pytest.raises(ValueError, match="task id"):
        normalize_task_id(bad)


#: Durations as both the Python side and the front end (js/, its node tests) write them:
#: [[seconds, text], ...]; the front end is given milliseconds (seconds * 1000).
DURATION_CASES = json.loads(
    (Path(__file__).parent / "data" / "duration_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(("seconds", "text"), DURATION_CASES)
def test_durations_read_like_people_write_them_and_as_the_front_end_does(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [None, float("nan"), float("inf")])
def test_an_unknown_duration_says_so(seconds):
    assert format_duration(seconds) == "unknown"


def test_the_state_vocabulary_is_consistent():
    assert set(KNOWN_STATES) | {CANCELLED} == ACTIVE_STATES | TERMINAL_STATES
    assert not ACTIVE_STATES & TERMINAL_STATES
    assert set(STATE_DESCRIPTIONS) == ACTIVE_STATES | TERMINAL_STATES
    assert KNOWN_STATES[: len(ACTIVE_STATES)] == ("CREATING", "PENDING", "PROGRESS")


def test_fields_the_service_adds_later_are_kept():
    task = Task.from_document({**FULL, "entry_count": 3, "state": "SUCCESS"})
    assert task.to_document()["entry_count"] == 3
    assert task == Task.from_document(FULL)  # extra fields are not a change of the task


@pytest.mark.parametrize(
    ("text", "micro"),
    [("2021-10-05T18:42:49.5", 500000), ("2021-10-05T18:42:49.1234567", 123456)],
)
def test_any_number_of_fraction_digits(text, micro):
    assert parse_service_date(text).microsecond == micro
