"""What the package says about a task's state, written once: the states as the service spells
them, the service's words for them, the order lists count them in, the progress stages, the
colour family (tone) of each and its palette, how dates are written for people, and the
words for a list with no task in it.

``tests/test_vocabulary.py`` fails when a state literal or a hex colour is written anywhere
else in the package, and when ``js/vocabulary.js`` (the front end's copy of these words)
disagrees with this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from types import MappingProxyType

# -- states -----------------------------------------------------------------------------

CREATING = "CREATING"
PENDING = "PENDING"
PROGRESS = "PROGRESS"
SUCCESS = "SUCCESS"
FAILED = "FAILED"
#: Outside the documented enum: Search moves the pending tasks of a deleted index there.
CANCELLED = "CANCELLED"

#: States the service documents, in lifecycle order.
KNOWN_STATES = (CREATING, PENDING, PROGRESS, SUCCESS, FAILED)

#: States in which the service is still working on a task.
ACTIVE_STATES = frozenset({CREATING, PENDING, PROGRESS})

#: Active states before the task runs: still in the queue.
QUEUED_STATES = frozenset({CREATING, PENDING})

#: States after which a task never changes again. ``CANCELLED`` is outside the documented
#: enum but Search moves pending tasks of a deleted index there, and they stay there.
TERMINAL_STATES = frozenset({SUCCESS, FAILED, CANCELLED})

#: The ``state_description`` Search writes with each state.
STATE_DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        CREATING: "Task is being created",
        PENDING: "Task is waiting to start",
        PROGRESS: "Task is running",
        SUCCESS: "Task succeeded",
        FAILED: "Task failed",
        CANCELLED: "Task cancelled because its index was deleted",
    }
)

#: How an ending is said after "the task" ("Task 1a2b3c4d succeeded", "300 succeeded").
OUTCOME_WORDS: Mapping[str, str] = MappingProxyType(
    {SUCCESS: "succeeded", FAILED: "failed", CANCELLED: "cancelled"}
)

# -- the calls that create a task ------------------------------------------------------

#: The Task API's calls that create a task: last part of ``/v1/index/<index_id>/...`` ->
#: (HTTP method, the ``task_type`` of the task it creates).
TASK_CALLS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "ingest": ("POST", "ingest"),
        "batch_delete_by_subject": ("POST", "delete-by-subject"),
        "delete_by_query": ("POST", "delete-by-query"),
        "subject": ("DELETE", "delete-by-subject"),
        "entry": ("DELETE", "delete-by-entry-id"),
    }
)

# -- counting ---------------------------------------------------------------------------

#: The key of a list's counts for tasks not checked yet.
UNCHECKED = "UNCHECKED"
#: How a task without an answer yet is called: in a badge, and in a sentence.
NOT_CHECKED = "not checked"
NOT_CHECKED_YET = "not checked yet"
#: A list without tasks (its summary; "No tasks yet." where it may still get some).
NO_TASKS = "No tasks"

#: The order of states in a list's counts and filter: ends first, then what still runs;
#: other states after these (ends first), tasks not checked yet last.
STATE_ORDER = (SUCCESS, FAILED, CANCELLED, PROGRESS, PENDING, CREATING)


def state_rank(state: str) -> tuple[int, str]:
    """Sort key of ``state`` (or :data:`UNCHECKED`) in :data:`STATE_ORDER`."""
    if state in STATE_ORDER:
        return STATE_ORDER.index(state), state
    if state == UNCHECKED:
        return len(STATE_ORDER) + 2, state
    return len(STATE_ORDER) + (0 if state in TERMINAL_STATES else 1), state


def count_states(states: Iterable[str]) -> dict[str, int]:
    """How many of ``states`` are in each state, in :data:`STATE_ORDER` (``""`` counts as
    :data:`UNCHECKED`)."""
    found: dict[str, int] = {}
    for state in states:
        key = state or UNCHECKED
        found[key] = found.get(key, 0) + 1
    return dict(sorted(found.items(), key=lambda item: state_rank(item[0])))


def count_word(state: str) -> str:
    """A key of :func:`count_states` as people read it ("3 not checked yet")."""
    return NOT_CHECKED_YET if state == UNCHECKED else state


# -- progress stages --------------------------------------------------------------------

#: The progress bar's segments, one per stage 1..4.
STAGES = ("Submitted", "Queued", "Running", "Done")
#: The stage each documented state reached.
STAGE_OF: Mapping[str, int] = MappingProxyType(
    {CREATING: 1, PENDING: 2, PROGRESS: 3, SUCCESS: 4, FAILED: 4}
)


def stage_of(state: str, seen: Iterable[str] = ()) -> int:
    """Stage 0..4 of ``state``; an unknown state keeps the furthest stage among ``seen``."""
    if state in STAGE_OF:
        return STAGE_OF[state]
    return max([0, *(STAGE_OF.get(name, 0) for name in seen)])


def stage_text(state: str, stage: int) -> str:
    """The progress bar's value for people (``aria-valuetext``), as ``stageText`` in js/."""
    if not state:
        return "Waiting for the first status check"
    if state in (SUCCESS, FAILED):
        return "Succeeded" if state == SUCCESS else "Failed"
    if state not in ACTIVE_STATES:
        return f"State {state}"
    return f"{STAGES[stage - 1]} (stage {stage} of 4)"


# -- tones and colours ------------------------------------------------------------------

#: A colour: JupyterLab's theme variable and the plain value used where it is unknown
#: (light theme values, which also read on dark backgrounds).
Colour = tuple[str, str]

#: The colour of each tone (see :func:`tone_of`); ``queue`` is the waiting part of a bar.
PALETTE: Mapping[str, Colour] = MappingProxyType(
    {
        "success": ("--jp-success-color1", "#388e3c"),
        "failed": ("--jp-error-color1", "#d32f2f"),
        "running": ("--jp-brand-color1", "#1976d2"),
        "unknown": ("--jp-ui-font-color2", "#757575"),
        "idle": ("--jp-ui-font-color2", "#757575"),
        "queue": ("--jp-ui-font-color2", "#757575"),
    }
)
#: An empty segment of a progress bar.
EMPTY_COLOUR: Colour = ("--jp-layout-color3", "#9e9e9e80")
#: The frame of a finished widget's document (grey at half strength: reads on any theme).
FRAME_COLOUR = "#8888"


def tone_of(state: str) -> str:
    """The colour family of a state: idle | running | success | failed | unknown."""
    if not state:
        return "idle"
    if state in ACTIVE_STATES:
        return "running"
    return {SUCCESS: "success", FAILED: "failed"}.get(state, "unknown")


# -- dates for people -------------------------------------------------------------------


def utc_text(moment: datetime | float) -> str:
    """``moment`` (aware, or epoch seconds) as "2026-05-04 13:02:03 UTC", as ``fmtUtc`` in
    js/ writes it: where the viewer's zone is not known (a saved document)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_stamp(epoch: float) -> str:
    """``epoch`` as an ISO 8601 UTC stamp, "2026-05-04T13:02:03Z": a terminal's log lines."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
