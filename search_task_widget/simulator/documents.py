"""What the simulator reads in the bodies it is sent, checked the way Search checks them.

* :func:`ingest_entries`: a GIngest document (``GMetaEntry`` or ``GMetaList``) becomes its
  list of entries, or :class:`Invalid` says what is wrong and where, as the service's 400
  answer does.
* :func:`delete_subjects` and :func:`delete_query`: the bodies of
  ``batch_delete_by_subject`` and ``delete_by_query``.
* :class:`FieldTypes`: Search's type detection. The first value of a field fixes its type
  for the index, and a later value that cannot be stored as that type (``"warm"`` in a
  field of integers) fails its entry *in the task*, after the ingest call said 200.
* Search's limits (:class:`~.limits.Limits`): an entry whose
  subject, ``visible_to``, field values, nesting or size break one is refused like a
  malformed one; a field that would take the index past its distinct fields fails its
  entry in the task.
* :func:`scenario_in`: the per-call scenario a teacher can write into a document, as a
  subject (or query) starting ``simulate:<scenario>:``.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from search_task_widget._model.limits import DEFAULT_LIMITS, Limits, content_values

#: A subject or query starting with this picks the scenario of its call.
SCENARIO_PREFIX = "simulate:"

_INGEST_TYPES = ("GMetaEntry", "GMetaList")
_REQUIRED_ENTRY_FIELDS = ("subject", "visible_to", "content")
_PRINCIPAL = re.compile(r"^urn:globus:(?:auth:identity|groups:id):(?P<id>[0-9a-fA-F-]{32,36})$")
# The date forms Search's type detection recognizes (its "Date Formatted Strings").
_DATE = re.compile(
    r"^\d{4}[-/]\d{2}[-/]\d{2}"
    r"(?:[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:\s?Z|\s?[+-]\d{2}:?\d{2})?)?$"
)
# Shown values are cut to this length: messages quote what was sent, not all of it.
_SHOWN = 60


class Invalid(ValueError):
    """A request body the service would refuse with 400 ``BadRequest.ValidationError``.

    ``location`` is where the first problem is (``ingest_data.gmeta[4].subject``);
    ``problems`` lists every problem found, each ``"<location>: <what>"``.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        location, what = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{location}: {what}{more}" if location else f"{what}{more}")
        self.location = location
        self.problems = [f"{where}: {text}" if where else text for where, text in problems]


def shown(value: object) -> str:
    """``value`` as a message quotes it: repr, cut short."""
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


# -- ingest ------------------------------------------------------------------------------


def ingest_entries(body: object, limits: Limits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    """The entries of a GIngest document; :class:`Invalid` if it is not one, or if an
    entry breaks one of ``limits``."""
    if not isinstance(body, dict):
        raise Invalid([("", f"the body must be a GIngest object, not {_json_type(body)}")])
    problems: list[tuple[str, str]] = []
    ingest_type = body.get("ingest_type")
    data = body.get("ingest_data")
    if "ingest_type" not in body:
        problems.append(("ingest_type", "is required ('GMetaEntry' or 'GMetaList')"))
    elif ingest_type not in _INGEST_TYPES:
        what = f"must be 'GMetaEntry' or 'GMetaList', not {shown(ingest_type)}"
        problems.append(("ingest_type", what))
    if "ingest_data" not in body:
        problems.append(("ingest_data", "is required"))
    elif not isinstance(data, dict):
        problems.append(("ingest_data", f"must be an object, not {_json_type(data)}"))
    if problems:
        raise Invalid(problems)
    assert isinstance(data, dict)  # checked above; for the type checker
    if ingest_type == "GMetaEntry":
        entries = [data]
        problems = list(_entry_problems(data, "ingest_data", limits))
    else:
        entries, problems = _gmeta_list(data, limits)
    if problems:
        raise Invalid(problems)
    return entries


def _gmeta_list(
    data: dict[str, Any], limits: Limits
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    gmeta = data.get("gmeta")
    if "gmeta" not in data:
        return [], [("ingest_data.gmeta", "is required (an array of GMetaEntry objects)")]
    if not isinstance(gmeta, list):
        return [], [("ingest_data.gmeta", f"must be an array, not {_json_type(gmeta)}")]
    problems: list[tuple[str, str]] = []
    for number, entry in enumerate(gmeta):
        problems.extend(_entry_problems(entry, f"ingest_data.gmeta[{number}]", limits))
    return gmeta, problems


def _entry_problems(entry: object, where: str, limits: Limits) -> Iterator[tuple[str, str]]:
    """What is wrong with one GMetaEntry at ``where`` (its shape, then the limits)."""
    if not isinstance(entry, dict):
        yield where, f"a GMetaEntry must be an object, not {_json_type(entry)}"
        return
    for name in _REQUIRED_ENTRY_FIELDS:
        if name not in entry:
            yield f"{where}.{name}", "is a required property"
    subject = entry.get("subject")
    if "subject" in entry and not (isinstance(subject, str) and subject):
        yield f"{where}.subject", f"must be a non-empty string, not {shown(subject)}"
    if "visible_to" in entry:
        yield from _visible_to_problems(entry["visible_to"], f"{where}.visible_to")
    content = entry.get("content")
    if "content" in entry and not isinstance(content, dict):
        yield f"{where}.content", f"must be an object, not {_json_type(content)}"
    entry_id = entry.get("id")
    if entry_id is not None and not isinstance(entry_id, str):
        yield f"{where}.id", f"must be a string or null, not {_json_type(entry_id)}"
    yield from _limit_problems(entry, where, limits)


def _limit_problems(entry: dict[str, Any], where: str, limits: Limits) -> Iterator[tuple[str, str]]:
    """Which of Search's limits one entry breaks (its Limits page's words)."""
    subject = entry.get("subject")
    if isinstance(subject, str) and len(subject.encode("utf-8", "replace")) > limits.subject_bytes:
        yield f"{where}.subject", f"is longer than {limits.subject_bytes} bytes"
    visible_to = entry.get("visible_to")
    if isinstance(visible_to, list) and len(visible_to) > limits.visible_to:
        yield f"{where}.visible_to", f"lists more than {limits.visible_to} principals"
    content = entry.get("content")
    if isinstance(content, dict):
        for path, value, depth in content_values(content):
            if depth > limits.depth:
                yield f"{where}.content.{path}", f"is nested deeper than {limits.depth} levels"
                break
            if (
                isinstance(value, str)
                and len(value.encode("utf-8", "replace")) > limits.field_bytes
            ):
                yield f"{where}.content.{path}", f"is longer than {limits.field_bytes} bytes"
                break
    size = len(json.dumps(entry, ensure_ascii=False).encode("utf-8", "replace"))
    if size > limits.entry_bytes:
        yield where, f"is larger than {limits.entry_bytes} bytes"


def _visible_to_problems(value: object, where: str) -> Iterator[tuple[str, str]]:
    if not isinstance(value, list):
        yield where, f"must be an array, not {_json_type(value)}"
        return
    if not value:
        yield where, "must name at least one principal ('public' or a Globus URN)"
    for number, principal in enumerate(value):
        if principal == "public":
            continue
        match = _PRINCIPAL.match(principal) if isinstance(principal, str) else None
        if match is None or not _is_uuid(match.group("id")):
            yield (
                f"{where}[{number}]",
                f"{shown(principal)} is not 'public' or a principal URN such as "
                "'urn:globus:auth:identity:<uuid>' or 'urn:globus:groups:id:<uuid>'",
            )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# -- deletes -----------------------------------------------------------------------------


def delete_subjects(body: object) -> list[str]:
    """The subjects of a ``batch_delete_by_subject`` body; :class:`Invalid` otherwise."""
    if not isinstance(body, dict):
        raise Invalid([("", f"the body must be an object, not {_json_type(body)}")])
    subjects = body.get("subjects")
    if "subjects" not in body:
        raise Invalid([("subjects", "is required (an array of subject strings)")])
    if not isinstance(subjects, list) or not subjects:
        raise Invalid([("subjects", "must be a non-empty array of strings")])
    problems = [
        (f"subjects[{n}]", f"must be a non-empty string, not {shown(s)}")
        for n, s in enumerate(subjects)
        if not (isinstance(s, str) and s)
    ]
    if problems:
        raise Invalid(problems)
    return subjects


def delete_query(body: object) -> str:
    """The ``q`` of a ``delete_by_query`` body (may be ""); :class:`Invalid` otherwise."""
    if not isinstance(body, dict):
        raise Invalid([("", f"the body must be a query object, not {_json_type(body)}")])
    query = body.get("q", "")
    filters = body.get("filters", [])
    problems = []
    if not isinstance(query, str):
        problems.append(("q", f"must be a string, not {_json_type(query)}"))
    if not isinstance(filters, list):
        problems.append(("filters", f"must be an array, not {_json_type(filters)}"))
    if not problems and not query and not filters:
        problems.append(("q", "is required unless filters are given"))
    if problems:
        raise Invalid(problems)
    return str(query)


# -- per-call scenarios --------------------------------------------------------------------


def scenario_in(text: object) -> str | None:
    """The scenario named by ``simulate:<scenario>:...`` at the start of ``text``."""
    if not isinstance(text, str) or not text.startswith(SCENARIO_PREFIX):
        return None
    name = text[len(SCENARIO_PREFIX) :].split(":", 1)[0].split(" ", 1)[0]
    return name or None


# -- type detection -----------------------------------------------------------------------


def _detected_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "date" if _DATE.match(value) else "string"
    return "object" if isinstance(value, dict) else "null"


# Which detected types a field of each type stores (Search widens integers to floats and
# anything to strings; it never narrows, e.g. floats to integers).
_STORES = {
    "string": {"string", "date", "integer", "float", "boolean"},
    "float": {"float", "integer"},
    "integer": {"integer"},
    "boolean": {"boolean"},
    "date": {"date"},
    "object": {"object"},
}


def _leaves(content: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, object]]:
    """(dotted field name, value) for every value in ``content``; arrays give each item."""
    for key, value in content.items():
        name = f"{prefix}{key}"
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                yield name, item
                yield from _leaves(item, f"{name}.")
            elif item is not None:
                yield name, item


@dataclass
class FieldTypes:
    """The types an index has detected so far, by dotted field name."""

    types: dict[str, str] = field(default_factory=dict)

    def conflict(self, content: dict[str, Any], most_fields: int = 1000) -> str | None:
        """Why ``content`` cannot be stored, or None; stores its new fields' types. An
        index holds at most ``most_fields`` distinct fields."""
        found: dict[str, str] = {}
        for name, value in _leaves(content):
            kind = _detected_type(value)
            known = self.types.get(name) or found.get(name)
            if known is None:
                found[name] = kind
            elif kind not in _STORES[known]:
                return (
                    f"field '{name}' holds {known} values in this index; {shown(value)} "
                    f"is {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
                )
        if len(self.types) + len(found) > most_fields:
            return f"the index would hold more than {most_fields} distinct fields"
        self.types.update(found)  # a refused entry adds no field types
        return None
