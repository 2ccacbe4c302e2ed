"""Mapping a failed batch back to its entries.

Search does not document what a FAILED ingest task's ``additional_details`` hold, so this
looks for subjects anywhere in them: objects with a ``subject`` (and a ``message`` or
``error_type``, kept as the reason) and lists of subject strings. Only subjects of the
batch count. A service refusal (400) naming ``gmeta[N]`` names the N-th entry.

When nothing is named, the batch is bisected (:func:`~.batches.halves`): both halves are
sent again; a half that fails is split again, down to single entries, which then failed.
For a batch of ``n`` entries of which ``k`` fail, that costs at most
``2 * k * ceil(log2(n))`` extra requests (each level of the split has at most ``k`` failing
parts, each resent as two); when the details name subjects it costs one request (the rest
of the batch sent again), or a few more if the service names only part of them.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: How deep into the details to look (they are a few levels deep at most).
_MAX_DEPTH = 8
_GMETA_INDEX = re.compile(r"gmeta\[(\d+)\]")


def named_subjects(details: Any, subjects: set[str]) -> dict[str, str]:
    """Subjects of ``subjects`` that ``details`` name, each with the reason given
    (``""`` when none)."""
    found: dict[str, str] = {}
    pending: list[tuple[Any, int]] = [(details, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > _MAX_DEPTH:
            continue
        if isinstance(value, dict):
            subject = value.get("subject")
            if isinstance(subject, str) and subject in subjects:
                reason = value.get("message") or value.get("error_type") or ""
                found.setdefault(subject, str(reason)[:500])
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str) and item in subjects:
                    found.setdefault(item, "")
                else:
                    pending.append((item, depth + 1))
    return found


def named_positions(message: str, count: int) -> set[int]:
    """Indexes (within a batch of ``count`` entries) that a refusal's message names."""
    return {int(n) for n in _GMETA_INDEX.findall(message) if int(n) < count}


def bisection_bound(entries: int, failing: int) -> int:
    """The most extra requests bisection needs for ``failing`` of ``entries`` entries."""
    if entries <= 1 or failing <= 0:
        return 0
    return 2 * failing * math.ceil(math.log2(entries))
