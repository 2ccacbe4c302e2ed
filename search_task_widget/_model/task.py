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
    #: The document as the service sent it (fields added later included), within the
    #: caps of :func:`bounded_document`.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_document(cls, document: object) -> Task:
        """Build a Task from a decoded JSON document; raise ``ValueError`` if it is not one."""
        if not isinstance(document, Mapping):
            raise MalformedTaskError(
                f"expected a Task document (a JSON object), got {type(document).__name__}"
            )
        document = bounded_document(document)  # once, here: every later copy is bounded
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
            raw=document,  # a new dict of new containers: nothing shared with the caller
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


#: The most characters of a short field: ``task_id``, ``state``, ``task_type``,
#: ``index_id``, the dates, and every key (the service's are all under 40).
MAX_NAME_CHARS = 200
#: The most characters of any other string a document holds (``message``,
#: ``state_description``, strings nested in ``additional_details`` or unknown fields).
MAX_FIELD_TEXT = 64 * 1024
#: The most characters of JSON of ``additional_details``, and of each unknown field; a
#: larger one is replaced by a note and the beginning of its JSON.
MAX_FIELD_JSON = 64 * 1024
#: Fields outside :data:`FIELDS` kept per document (the rest are dropped).
MAX_EXTRA_FIELDS = 16
#: Levels of nesting kept inside a field; deeper values become a note.
MAX_FIELD_DEPTH = 32
#: Digits of an integer kept as a number (JavaScript's numbers are exact to 16 digits);
#: a longer one becomes a note: Python refuses to print ints of over 4300 digits.
MAX_INT_DIGITS = 40

_NAME_FIELDS = frozenset(
    {"task_id", "state", "task_type", "index_id", "creation_date", "completion_date"}
)


def bounded_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` as this package keeps it: every field, known or not, within a cap.

    The one place a Task document is bounded (:meth:`Task.from_document` calls it), so
    the task, its traits, rows, comm messages, saved documents and ``to_html()`` are all
    bounded too, whatever the service sent. Also JSON-safe: NaN and infinities become
    the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (strict JSON has no such
    numbers), and integers longer than :data:`MAX_INT_DIGITS` digits a note; bidi
    controls are written as escapes (:data:`BIDI_ESCAPES`).
    """
    bounded: dict[str, Any] = {}
    extras = 0
    for key, value in document.items():
        name = bounded_value(str(key), MAX_NAME_CHARS)  # a key is a name: the short cap
        if key in _NAME_FIELDS:
            bounded[name] = bounded_value(value, MAX_NAME_CHARS)
            continue
        if key not in FIELDS:
            extras += 1
            if extras > MAX_EXTRA_FIELDS:
                continue  # a document's own fields are nine: the rest is noise
        bounded[name] = _within_json(bounded_value(value, MAX_FIELD_TEXT), name)
    return bounded


#: The explicit bidi embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI,
#: RLI, FSI, PDI) -> their escapes. A service's text keeps none of them raw: an override
#: is invisible and reverses what a reader sees ("Trojan Source", CVE-2021-42574), in the
#: widget, a saved notebook or a document. Isolating the text (``<bdi>``, ``dir=auto``)
#: would keep it from spilling over but still reverse it inside; written as escapes, as
#: the terminal writes them, it shows what was sent. Arabic or Hebrew text needs none of
#: them: browsers order their letters by themselves.
BIDI_ESCAPES = {code: f"\\u{code:04x}" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def bounded_value(value: Any, text_limit: int, depth: int = 0) -> Any:
    """``value`` with each string cut at ``text_limit`` characters (keys at
    :data:`MAX_NAME_CHARS`), numbers JSON-safe, nesting cut at :data:`MAX_FIELD_DEPTH`."""
    if isinstance(value, str):
        return _cut(value.translate(BIDI_ESCAPES), text_limit)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return json_safe_number(value)
    if depth >= MAX_FIELD_DEPTH:
        return f"[nested deeper than {MAX_FIELD_DEPTH} levels: not kept]"
    if isinstance(value, Mapping):
        return {
            bounded_value(str(k), MAX_NAME_CHARS): bounded_value(v, text_limit, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [bounded_value(item, text_limit, depth + 1) for item in value]
    return _cut(str(value), text_limit)  # not JSON: shown as text


def json_safe_number(value: int | float) -> int | float | str:
    """``value``, or a string where JSON has no number for it (NaN, infinities, an
    integer too long to print: measured in bits, since printing it is what fails)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else json.dumps(value)
    # The digits of 2 ** (bits - 1): the value has these or one more.
    digits = int((abs(value).bit_length() - 1) * math.log10(2)) + 1
    return long_integer_note(digits) if digits > MAX_INT_DIGITS else int(value)


def long_integer_note(digits: int) -> str:
    """What stands for an integer of more than :data:`MAX_INT_DIGITS` digits."""
    return f"[an integer of at least {digits} digits: not kept]"


def _cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, the note included (so cutting again
    changes nothing)."""
    if len(text) <= limit:
        return text
    note = f"... [{len(text)} characters, cut to {limit}]"
    return text[: limit - len(note)] + note


def _within_json(value: Any, name: str) -> Any:
    """``value`` if its JSON is at most :data:`MAX_FIELD_JSON` characters, else a note
    and the beginning of that JSON (a million short strings pass every string cap)."""
    if not isinstance(value, (Mapping, list)):
        return value
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= MAX_FIELD_JSON:
        return value
    # Half: written as JSON again, the beginning at most doubles (only its quotes and
    # backslashes are escaped again), so the note itself is within the cap.
    kept = MAX_FIELD_JSON // 2 - 200
    return {
        "truncated": f"{name} is {len(text)} characters of JSON, more than the "
        f"{MAX_FIELD_JSON} kept; the first {kept} are below",
        "beginning": text[:kept],
    }


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
#: browser; longer ones are cut with a note (the text kept, up to :data:`MAX_FIELD_TEXT`, is in
#: ``widget.task``).
MAX_SHOWN_TEXT = 20_000
#: The most characters of ``additional_details``, as JSON, sent to the browser for one task
#: (:class:`TaskListWidget` rows: :data:`MAX_SHOWN_ROW_DETAILS`); larger ones are replaced
#: by a note and the beginning of their JSON (the document as kept, see
#: :func:`bounded_document`, stays in ``widget.task``).
MAX_SHOWN_DETAILS = 64 * 1024
#: Like :data:`MAX_SHOWN_DETAILS`, for each row of a :class:`TaskListWidget`.
MAX_SHOWN_ROW_DETAILS = 8 * 1024
#: Like :data:`MAX_SHOWN_TEXT`, for each row of a :class:`TaskListWidget`: a list of
#: hundreds of rows must stay a small comm message.
MAX_SHOWN_ROW_TEXT = 2000


def shown_text(text: str | None, limit: int = MAX_SHOWN_TEXT) -> str | None:
    """``text`` as sent to the browser: at most ``limit`` characters, then a note."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters; the text kept is in .task]"


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
        f"show; the first {limit} are below, and the document kept is in .task",
        "beginning": text[:limit],
    }
