"""When a :class:`~.group.TaskGroup` tells its view: the policies a view chooses.

* :class:`PerAnswer`, for one task (:class:`~search_task_widget.TaskWidget`, the terminal
  watcher): each answer is told at once, with its next check; an unchanged answer moves the
  liveness stamp only every :data:`~.schedule.STAMP_EVERY` seconds, or when the next check
  moved clearly sooner.
* :class:`PerRound`, for many (:class:`~search_task_widget.TaskListWidget`): changes are
  told once per poll round, however many tasks the round moved, as rows
  (:func:`~.rows.row_of`); an unchanged round moves only the stamp, every
  :data:`~.schedule.STAMP_EVERY` seconds.

The last end is told at once by both. Every method runs with the group's lock held.
"""

from __future__ import annotations

from typing import Any

from .._model.vocabulary import NOT_CHECKED_YET
from .group import Entry, News, TaskGroup
from .poller import Schedule
from .rows import row_of
from .schedule import STAMP_EVERY

#: A next check this much earlier than the one shown is told at once (not with the next
#: liveness stamp). Larger than the young tasks' 1.8 s gap, so their checks stay silent.
NEXT_CHECK_SLACK = 2.0


class PerAnswer:
    """One task: each answer told at once, with when the next check is due."""

    def shown_changed(self, entry: Entry) -> bool:
        return True  # the view reads the entry itself: any change is news

    def answered(self, group: TaskGroup, schedule: Schedule, first: bool) -> None:
        if (
            schedule.changed
            or first
            or schedule.checked_at - group.stamp_sent >= STAMP_EVERY
            or _sooner(group, schedule)
        ):
            group.stamp_from(schedule)

    def retrying(self, group: TaskGroup, schedule: Schedule) -> None:
        group.expect_next(schedule.next_check)

    def ended(self, group: TaskGroup) -> None:
        group.expect_next(None)

    def settle(self, group: TaskGroup, news: News, checked_at: float, last: bool) -> None:
        group.tell(news)

    def round_end(self, group: TaskGroup) -> None:
        pass  # every answer was told already

    def still_running(self, entries: list[Entry], timeout: float) -> str:
        (entry,) = entries
        return f"task {entry.task_id} is still {entry.state or 'unknown'} after {timeout:g} s"

    def rows(self, entries: list[Entry]) -> list[dict[str, Any]]:
        return [row_of(entry) for entry in entries]  # a view of one reads the entry itself


def _sooner(group: TaskGroup, schedule: Schedule) -> bool:
    """Whether the next check moved clearly before the one told: another task of the index
    needs its list sooner (the told time would then be a promise not kept)."""
    told = group.stamp.next_check
    upcoming = schedule.next_check
    return bool(told) and upcoming is not None and upcoming < (told or 0) - NEXT_CHECK_SLACK


class PerRound:
    """Many tasks: a round's changes told together at its end, as rows."""

    def __init__(self) -> None:
        self._checked_at: float | None = None  # when this round's news was fetched
        #: Each task's row as last built (rows are replaced, never changed), to tell changes.
        self._rows: dict[str, dict[str, Any]] = {}

    def shown_changed(self, entry: Entry) -> bool:
        row = row_of(entry)
        if row == self._rows.get(entry.task_id):
            return False
        self._rows[entry.task_id] = row
        return True

    def rows(self, entries: list[Entry]) -> list[dict[str, Any]]:
        return [self._rows[entry.task_id] for entry in entries]

    def answered(self, group: TaskGroup, schedule: Schedule, first: bool) -> None:
        pass  # the stamp moves at the round's end

    def retrying(self, group: TaskGroup, schedule: Schedule) -> None:
        pass  # each row says its own trouble; the list shows no next check

    def ended(self, group: TaskGroup) -> None:
        pass

    def settle(self, group: TaskGroup, news: News, checked_at: float, last: bool) -> None:
        self._checked_at = None if last else checked_at
        if last:
            self._tell_round(group, checked_at)

    def round_end(self, group: TaskGroup) -> None:
        checked_at, self._checked_at = self._checked_at, None
        if checked_at is None:  # already told, e.g. with the last end
            return
        if group.dirty or checked_at - group.stamp_sent >= STAMP_EVERY:
            self._tell_round(group, checked_at)

    def _tell_round(self, group: TaskGroup, checked_at: float) -> None:
        group.stamp_at(checked_at)
        group.tell(News("round", rows_changed=group.dirty))

    def still_running(self, entries: list[Entry], timeout: float) -> str:
        running = [e for e in entries if not e.ended and e.fatal is None]
        states: dict[str, int] = {}
        for e in running:
            state = e.state or NOT_CHECKED_YET
            states[state] = states.get(state, 0) + 1
        detail = ", ".join(f"{n} {s}" for s, n in states.items())
        return (
            f"{len(running)} of {len(entries)} tasks still running after {timeout:g} s ({detail})"
        )
