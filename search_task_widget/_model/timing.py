"""How long a task queued, ran and took: one computation for every view.

The widget, its document, the list, its chart and the terminal all take a task's times from
:func:`phases`, and ``js/timing.js`` is the same computation for the front end; both are
held to ``tests/data/timing_cases.json``. Three boundaries are known: creation and
completion (the service's dates) and the start, which is when the poller first saw the task
in PROGRESS (accurate to about one polling interval). Each boundary is rounded down to whole
seconds after creation *before* the parts are taken, so queued + running == elapsed as shown.

A start the poller never saw (the task went from queued to done between two checks) leaves
the split unknown: queued and running are None, shown as :data:`NOT_SEEN`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: How an unknown part reads, everywhere (the chart's legend explains it).
NOT_SEEN = "not seen"


@dataclass(frozen=True)
class Phases:
    """Whole seconds queued, running and in all (None: unknown)."""

    queued: int | None
    running: int | None
    elapsed: int | None


def phases(
    created: float | None,
    started: float | None,
    ended: float | None,
    now: float | None = None,
    *,
    waiting: bool = False,
) -> Phases:
    """The phases of a task from epoch-ms boundaries: ``created``, ``started`` (first seen
    running, None if never), ``ended`` (None while it runs: measured to ``now``, if given).
    ``waiting``: the task is known to be still queued (CREATING or PENDING)."""
    end = ended if ended is not None else now
    if created is None or end is None:
        return Phases(None, None, None)
    elapsed = _seconds(end - created)
    if started is None:
        if waiting and ended is None:
            return Phases(elapsed, 0, elapsed)
        return Phases(None, None, elapsed)
    queued = min(_seconds(started - created), elapsed)
    return Phases(queued, elapsed - queued, elapsed)


def _seconds(ms: float) -> int:
    return max(0, math.floor(ms / 1000))
