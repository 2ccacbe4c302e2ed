"""Batches: valid entries grouped, in the catalogue's order, into GMetaList requests.

A batch closes before the entry that would take its request past
:attr:`~.limits.Limits.request_bytes`, or at :attr:`~.limits.Limits.batch_entries` entries.
Search applies one index's ingests in the order they arrive, and batches are sent one
after the other in the order they were made, so a later entry for a subject never
overtakes an earlier one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .._model.limits import Limits
from .validate import ENVELOPE, Item

#: A batch's states in the journal: made but not sent; being sent (its fate unknown
#: until an answer comes); sent (a task id, the task not ended); its task succeeded; its
#: task failed and its entries were mapped (failed, or resent in new batches).
PENDING, SENDING, SENT, SUCCEEDED, SPLIT = "pending", "sending", "sent", "succeeded", "split"


@dataclass(eq=False)
class Batch:
    """Entries sent in one request (``number`` is the journal's; ``parent`` the failed
    batch this one resends part of, if any)."""

    number: int
    items: list[Item]
    parent: int | None = None
    task_id: str | None = None
    state: str = PENDING
    resent: int = field(default=0)  # times sent again after no answer came

    @property
    def body(self) -> bytes:
        """The GIngest document, as sent."""
        head, tail = ENVELOPE
        return head + b",".join(item.data for item in self.items) + tail

    @functools.cached_property
    def size(self) -> int:
        """The bytes of its request (items are never changed once batched)."""
        return body_size(self.items)

    @property
    def first(self) -> int:
        return self.items[0].position

    @property
    def last(self) -> int:
        return self.items[-1].position

    def describe(self) -> str:
        span = (
            f"entry {self.first}" if len(self.items) == 1 else f"entries {self.first}-{self.last}"
        )
        return f"batch {self.number} ({len(self.items)} {span})"


def body_size(items: list[Item]) -> int:
    """The bytes of a request holding ``items``."""
    commas = max(0, len(items) - 1)
    return sum(len(part) for part in ENVELOPE) + commas + sum(len(i.data) for i in items)


def grouped(items: Iterable[Item], limits: Limits) -> Iterator[list[Item]]:
    """``items`` in order, as lists that each fit one request (every item fits alone:
    :mod:`.validate` refused the others)."""
    group: list[Item] = []
    size = sum(len(part) for part in ENVELOPE)
    for item in items:
        grown = size + len(item.data) + (1 if group else 0)
        if group and (grown > limits.request_bytes or len(group) >= limits.batch_entries):
            yield group
            group, grown = [], sum(len(part) for part in ENVELOPE) + len(item.data)
        group.append(item)
        size = grown
    if group:
        yield group


def halves(items: list[Item]) -> list[list[Item]]:
    """``items`` split in two, in order (bisection of a failed batch)."""
    middle = len(items) // 2
    return [items[:middle], items[middle:]]
