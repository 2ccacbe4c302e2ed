"""What a view shows of a tracked task: the Task document's fields with long values capped,
and a list's row. Presentation only: :mod:`.group` tracks, this says what is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._model.task import (
    MAX_SHOWN_DETAILS,
    MAX_SHOWN_ROW_DETAILS,
    MAX_SHOWN_ROW_TEXT,
    MAX_SHOWN_TEXT,
    Task,
    shown_details,
    shown_text,
)
from .._model.vocabulary import PROGRESS
from .schedule import epoch_ms

if TYPE_CHECKING:
    from .group import Entry


def shown_fields(
    task: Task | None,
    details_limit: int = MAX_SHOWN_DETAILS,
    text_limit: int = MAX_SHOWN_TEXT,
) -> dict[str, Any]:
    """The Task document's fields as shown: long texts and details capped, so a comm
    message (and a saved notebook) never carries megabytes. (The short fields are
    already bounded, by :func:`bounded_document`.)"""
    return {
        "state": task.state if task else "",
        "state_description": (shown_text(task.state_description, text_limit) or "") if task else "",
        "task_type": task.task_type if task else None,
        "message": shown_text(task.message, text_limit) if task else None,
        "additional_details": shown_details(task.additional_details, details_limit)
        if task
        else None,
        "creation_date": (task.creation_date or "") if task else "",
        "completion_date": task.completion_date if task else None,
    }


def row_of(entry: Entry) -> dict[str, Any]:
    """One row of a group of many (a fresh dict: rows are replaced, never changed).

    The row's error carries no countdown: repeated trouble of one kind is no change.
    """
    error = entry.fatal_text if entry.fatal is not None else str(entry.trouble or "")
    return {
        "task_id": entry.task_id,
        **shown_fields(entry.task, MAX_SHOWN_ROW_DETAILS, MAX_SHOWN_ROW_TEXT),
        "error": error,
        "trouble": entry.trouble_kind,
        "retried": entry.retried_text,
        "started": _started_ms(entry),
    }


def _started_ms(entry: Entry) -> float | None:
    """When the task was first seen running (epoch ms), for the list's timeline; None if
    no check found it in PROGRESS (e.g. it was queued, then done, between two checks)."""
    seen = entry.stage_times.get(PROGRESS)
    return None if seen is None else epoch_ms(seen)
