"""The Search Task document: parsing, states and dates.

The Task API (``GET /v1/task/<task_id>``) answers with a small JSON document. This module
turns it into a :class:`Task`, tolerating what real payloads do (absent ``task_type`` in
older documents, ``null`` messages, dates with or without microseconds) and refusing what
is unusable (no ``task_id`` or ``state``). It knows nothing about HTTP or widgets.
"""

from __future__ import annotations

import copy
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .vocabulary import TERMINAL_STATES

#: The fields of a Task document, in the order the service sends them.
FIELDS = (
    "task_id",
    "state",
    "task_type",
    "state_description",
    "index_id",
    "message",
    "additional_details",
    "creation_date",
    "completion_date",
)


_FRACTION = re.compile(r"\.(\d+)(?=$|[+-])")


class MalformedTaskError(ValueError):
    """A Task document that lacks what every Task document has (``task_id``, ``state``)."""


def normalize_task_id(value: object, what: str = "task id") -> str:
    """Return ``value`` as a canonical task id (lower-case, hyphenated UUID).

    ``what`` names the value in error messages (index ids are UUIDs too).

    Accepts a :class:`uuid.UUID` or a string in any form :class:`uuid.UUID` reads.
    Raises :class:`ValueError` for anything else, before any request is made.
    """
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"a {what} must be a str or uuid.UUID, not {type(value).__name__}")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise ValueError(
            f"{shown!r} is not a valid Search {what}: Search ids are UUIDs such as "
            "'05c1ec1b-2400-44e2-9797-922c29199042'"
        ) from None


def parse_service_date(value: object) -> datetime | None:
    """Parse a date as Search writes it (ISO 8601, no timezone, meaning UTC).

    Returns an aware UTC datetime, or None for null/empty/unparseable values: a bad date
    must never stop a task from being shown.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python 3.10's fromisoformat takes only 3 or 6 fractional digits: pad or trim to 6.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _optional_str(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Task:
    """One Task document, as the service sent it.

    The fields are the document's, named as the service names them: ``task_id``,
    ``state`` (as written, also outside :data:`KNOWN_STATES`), ``task_type``,
    ``state_description``, ``index_id``, ``message``, ``additional_details``,
    ``creation_date`` and ``completion_date`` (the service's UTC strings, without a zone
    suffix; :attr:`created_at` and :attr:`completed_at` parse them).
    """

    task_id: str
    state: str
    task_type: str | None = None
    state_description: str = ""
    index_id: str | None = None
    message: str | None = None
    additional_details: dict[str, Any] | None = None
    creation_date: str | None = None
    completion_date: str | None = None
    #: The document exactly as the service sent it (fields added later included).
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_document(cls, document: object) -> Task:
        """Build a Task from a decoded JSON document; raise ``ValueError`` if it is not one."""
        if not isinstance(document, Mapping):
            raise MalformedTaskError(
                f"expected a Task document (a JSON object), got {type(document).__name__}"
            )
        task_id, state = document.get("task_id"), document.get("state")
        if not isinstance(task_id, str) or not task_id:
            raise MalformedTaskError("the Task document has no 'task_id'")
        if not isinstance(state, str) or not state.strip():
            raise MalformedTaskError("the Task document has no 'state'")
        details = document.get("additional_details")
        return cls(
            task_id=task_id,
            state=state.strip(),  # shown as the service wrote it
            task_type=_optional_str(document, "task_type"),
            state_description=_optional_str(document, "state_description") or "",
            index_id=_optional_str(document, "index_id"),
            message=_optional_str(document, "message"),
            additional_details=dict(details) if isinstance(details, Mapping) else None,
            creation_date=_optional_str(document, "creation_date"),
            completion_date=_optional_str(document, "completion_date"),
            raw=copy.deepcopy(dict(document)),
        )

    @property
    def is_terminal(self) -> bool:
        """True once the task can no longer change (SUCCESS, FAILED, CANCELLED)."""
        return self.state in TERMINAL_STATES

    @property
    def created_at(self) -> datetime | None:
        """``creation_date`` as an aware UTC datetime, or None."""
        return parse_service_date(self.creation_date)

    @property
    def completed_at(self) -> datetime | None:
        """``completion_date`` as an aware UTC datetime, or None while the task runs."""
        return parse_service_date(self.completion_date)

    def elapsed(self, now: datetime | None = None) -> float | None:
        """Seconds from creation to completion (or to ``now`` while the task runs)."""
        start = self.created_at
        if start is None:
            return None
        end = self.completed_at or now or datetime.now(timezone.utc)
        return max(0.0, (end - start).total_seconds())

    def to_document(self) -> dict[str, Any]:
        """The document as the service sent it, with every documented field present."""
        document = {name: getattr(self, name) for name in FIELDS}
        document.update(copy.deepcopy(dict(self.raw)))
        return document


def format_duration(seconds: float | None) -> str:
    """Render a duration the way people read it: '7 s', '4 min 05 s', '1 h 02 min 03 s',
    '2 d 03 h 04 min 05 s'.

    Exactly as the front end writes it (``fmtDuration`` in ``js/``): whole seconds,
    rounded down, and 0 s for a negative duration; ``tests/data/duration_cases.json``
    holds the cases both sides are tested with. None (or NaN, infinity) reads "unknown".
    """
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    total = max(0, math.floor(seconds))
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours:02d} h {minutes:02d} min {secs:02d} s"
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


#: The most characters of a text field (``message``, ``state_description``) sent to the
#: browser; longer ones are cut with a note (the whole text stays in ``widget.task``).
MAX_SHOWN_TEXT = 20_000
#: The most characters of ``additional_details``, as JSON, sent to the browser for one task
#: (:class:`TaskListWidget` rows: :data:`MAX_SHOWN_ROW_DETAILS`); larger ones are replaced
#: by a note and the beginning of their JSON (the whole document stays in ``widget.task``).
MAX_SHOWN_DETAILS = 64 * 1024
#: Like :data:`MAX_SHOWN_DETAILS`, for each row of a :class:`TaskListWidget`.
MAX_SHOWN_ROW_DETAILS = 8 * 1024


def shown_text(text: str | None, limit: int = MAX_SHOWN_TEXT) -> str | None:
    """``text`` as sent to the browser: at most ``limit`` characters, then a note."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters; the full text is in .task]"


def shown_details(
    details: dict[str, Any] | None, limit: int = MAX_SHOWN_DETAILS
) -> dict[str, Any] | None:
    """``additional_details`` as sent to the browser: as they are when their JSON is at
    most ``limit`` characters, else a note and the beginning of that JSON."""
    if details is None:
        return None
    text = json.dumps(details, ensure_ascii=False, default=str)
    if len(text) <= limit:
        return details
    return {
        "truncated": f"additional_details is {len(text)} characters of JSON, too large to "
        f"show; the first {limit} are below, and the full document is in .task",
        "beginning": text[:limit],
    }
