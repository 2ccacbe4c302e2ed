"""Search's published limits, as configuration with the documented values as defaults.

The numbers come from Search's "Limits" page (whose versions differ: the request size
was 50 MB once, the rate 5 per second). A deployment with other limits passes its own
:class:`Limits`; every check and the batching read them from here, nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

MB = 1000 * 1000
KB = 1000


@dataclass(frozen=True)
class Limits:
    """What one ingest request and one entry may hold.

    Attributes:
        request_bytes: one HTTP request body (the whole GIngest document).
        entry_bytes: one GMetaEntry, as JSON.
        field_bytes: one value in an entry's content (a string, as UTF-8).
        subject_bytes: a subject, as UTF-8.
        visible_to: principals in one entry's ``visible_to``.
        depth: levels of nested objects in an entry's content.
        fields_per_index: distinct field names (dotted paths) in the index; only the
            fields this job sends are counted.
        ids_per_subject: entries (distinct ``id`` values) under one subject; only the
            entries with an ``id`` that this job sends are counted.
        batch_entries: the most entries one request carries (not one of Search's limits:
            a failed batch whose task names no entry is bisected, which costs requests in
            proportion to the log of its size).

    Search's rate (5 to 10 requests a second per client) is not here: it is the poller's
    budget (:class:`~search_task_widget.Poller` ``rate=``), which submissions and polls
    share.
    """

    request_bytes: int = 10 * MB
    entry_bytes: int = 10 * MB
    field_bytes: int = 32 * KB
    subject_bytes: int = 500
    visible_to: int = 100
    depth: int = 20
    fields_per_index: int = 1000
    ids_per_subject: int = 10
    batch_entries: int = 1000

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{item.name} must be a number above 0, got {value!r}")


#: The limits of Search's Limits page.
DEFAULT_LIMITS = Limits()


def content_values(content: dict[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """(dotted path, value, depth) of every value in an entry's ``content``, as the limits
    count them: depth 1 at the top, each nested object one more, list items sharing their
    field's path and depth. Iterative: a hostile document cannot exhaust the stack."""
    pending: list[tuple[str, Any, int]] = [(key, value, 1) for key, value in content.items()]
    while pending:
        path, value, depth = pending.pop()
        if isinstance(value, list):
            pending.extend((path, item, depth) for item in value)
            continue
        yield path, value, depth
        if isinstance(value, dict):
            pending.extend((f"{path}.{key}", item, depth + 1) for key, item in value.items())
