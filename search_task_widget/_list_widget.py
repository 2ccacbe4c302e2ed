"""The TaskListWidget: many Search tasks, live in one view.

Each task is one :class:`~._poller.Watch` on the shared poller, with the same adaptive
interval policy and the same pooled client as :class:`~._widget.TaskWidget`, so tasks of
one index are polled through a single ``GET /v1/task_list/<index_id>``. A small listener
object per task forwards the poller's news to the list (held weakly, so a forgotten list
stops its watches).

Message economy: the poller may deliver hundreds of per-task updates per second. An update
only changes the row in memory and marks the list dirty; rows and aggregates go out together
(one comm message, ``hold_sync``) when the poller's round ends (``on_round_end``), so one
poll round, however many tasks it moved, is one message. An unchanged round sends nothing but
a ``last_checked`` stamp every :data:`~._schedule.STAMP_EVERY` seconds. User actions
(``start``, ``stop``, ``add`` while stopped) send at once.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import traitlets

from ._assets import front_end
from ._base import PolledWidget, checked_timeout, connection_settings
from ._document import list_document
from ._errors import PollingStoppedError, SearchTaskError, TaskAPIError, advice
from ._front_end import front_end_traits
from ._poller import Poller, Schedule, Watch
from ._reply import TaskReference, task_reference
from ._schedule import (
    STAMP_EVERY,
    AdaptiveInterval,
    epoch_ms,
)
from ._static import standalone_html
from ._task import (
    MAX_SHOWN_ROW_DETAILS,
    TERMINAL_STATES,
    Task,
    format_duration,
    normalize_task_id,
    parse_service_date,
    shown_details,
    shown_text,
)
from ._timeline_svg import observe_start, with_static_copy

log = logging.getLogger("search_task_widget")

#: Seconds of the poller's clock between two sends of the rows (changes in between coalesce).
#: The key of :attr:`TaskListWidget.counts` for tasks not checked yet.
UNCHECKED = "UNCHECKED"

# What to_html() freezes: every synced trait the list's front end reads.
_EXPORT_TRAITS = (
    "rows", "total", "done", "failed", "polling", "first_submitted", "last_completed",
    "error", "last_checked",
)  # fmt: skip

# Order of states in counts and in the text form: ends first, then what still runs.
_STATE_ORDER = ("SUCCESS", "FAILED", "CANCELLED", "PROGRESS", "PENDING", "CREATING")


class TaskListError(SearchTaskError):
    """:meth:`TaskListWidget.wait`: some tasks could not be watched to their end.

    Raised after every other task ended. ``http_status`` and ``code`` are those of the
    underlying errors when they all agree (e.g. 401 for an expired token), else None and
    ``"Several"``.

    Attributes:
        errors: task id -> the :class:`SearchTaskError` that stopped its watch (404, 403...).
        documents: the Task documents of the tasks that did end (FAILED ones included).
    """

    def __init__(
        self, errors: dict[str, SearchTaskError], documents: list[dict[str, Any]], total: int
    ) -> None:
        first = next(iter(errors.values()))
        same = all(
            (e.http_status, e.code) == (first.http_status, first.code) for e in errors.values()
        )
        shown = [f"task {tid}: {error}" for tid, error in list(errors.items())[:3]]
        if len(errors) > 3:
            shown.append(f"and {len(errors) - 3} more")
        super().__init__(
            f"{len(errors)} of {total} tasks: " + "; ".join(shown),
            http_status=first.http_status if same else None,
            code=first.code if same else "Several",
            request_id=first.request_id if len(errors) == 1 else None,
        )
        self.errors = errors
        self.documents = documents

    @property
    def summary(self) -> str:
        return "Some tasks could not be watched"


@dataclass(eq=False)
class _Entry:
    """One row: what is known about a task and the watch polling it (if any)."""

    task_id: str
    index_id: str | None
    row: dict[str, Any]
    task: Task | None = None
    fatal: SearchTaskError | None = None
    watch: Watch | None = None
    listener: _RowListener | None = None
    created: datetime | None = None
    completed: datetime | None = None

    @property
    def ended(self) -> bool:
        return self.task is not None and self.task.is_terminal


class _RowListener:
    """The poller's :class:`~._poller.Listener` for one task of a list: forwards to the list.

    The list holds this object; the watch holds it weakly and this holds the list weakly,
    so a list that is garbage-collected takes its watches' listeners with it and the poller
    drops the watches.
    """

    __slots__ = ("__weakref__", "_owner", "task_id")

    def __init__(self, owner: TaskListWidget, task_id: str) -> None:
        self._owner = weakref.ref(owner)
        self.task_id = task_id

    def on_task(self, task: Task, schedule: Schedule) -> None:
        owner = self._owner()
        if owner is not None:
            owner._on_row_task(self, task, schedule)

    def on_trouble(self, error: SearchTaskError, schedule: Schedule) -> None:
        owner = self._owner()
        if owner is not None:
            owner._on_row_trouble(self, error, schedule)

    def on_fatal(self, error: SearchTaskError) -> None:
        owner = self._owner()
        if owner is not None:
            owner._on_row_fatal(self, error)

    def on_round_end(self) -> None:
        owner = self._owner()
        if owner is not None:
            owner._on_round_end()


class TaskListWidget(PolledWidget):
    """A live view of many Globus Search tasks: aggregate progress, counts and one row each.

    Args:
        tasks: task ids (str or :class:`uuid.UUID`) or replies of ``SearchClient.ingest``
            / ``delete_by_query`` / ``batch_delete_by_subject``. Given such replies and no
            ``auth``, the list polls with the client that sent them (its sign-in and
            service URL), and each task's index is that of its request.
        auth: what :class:`~search_task_widget.TaskWidget` takes: a ``SearchClient``, a
            ``GlobusApp``, a ``GlobusAuthorizer``, an access token, or None (see there).
        client_id: the client id of the Globus native app to sign in with from the
            notebook (default ``$SEARCH_TASK_WIDGET_CLIENT_ID``); see "A client id for
            notebook sign-in" in the docs.
        base_url: the Search service; default that of a ``SearchClient`` passed as
            ``auth``, else as globus-sdk resolves it.
        poll_interval: seconds between the first checks of each task, and again right
            after it changed; grows while nothing changes, up to the latency target (as for
            :class:`~search_task_widget.TaskWidget`). At least 1 s against a non-loopback
            service; at most one day.
        max_poll_interval: the longest wait between two checks of a task (default 600 s,
            or ``10 * poll_interval`` if that is longer).
        index_id: the index the tasks were submitted to, if known: lets the poller batch
            them into one task-list request from the first poll.
        start: start polling now (else call :meth:`start`).
        poller: the :class:`~search_task_widget.Poller` to use (default: the kernel-wide one).
        notify: tell of the end in a browser notification if the list ran longer than
            30 s and all ended while the page was hidden (the widget's bell button sets it
            too, and asks the browser's permission; see :attr:`notify`).

    Raises:
        ValueError: a malformed task id or a bad interval, before any request.
        TypeError: ``auth`` or a task of a kind this package does not accept.

    """

    # Synced traits: what the front end and a saved notebook get (the #: comments are
    # their documentation in the API reference).
    #: One dict per task, in the order added, with ``task_id``, ``state``,
    #: ``state_description``, ``task_type``, ``message``, ``additional_details``,
    #: ``creation_date``, ``completion_date`` (as the service wrote them; ``state`` is
    #: ``""`` before the first answer), ``error`` and ``trouble`` (``""``, ``"retrying"``
    #: or ``"fatal"``: this task's polling problem), and ``started``: when the list first
    #: saw the task running (epoch ms; None if it never did). Synced.
    rows = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: How many tasks the list holds. Synced.
    total = traitlets.Int(0).tag(sync=True)
    #: How many tasks ended (FAILED and CANCELLED too). Synced.
    done = traitlets.Int(0).tag(sync=True)
    #: How many tasks ended FAILED. Synced.
    failed = traitlets.Int(0).tag(sync=True)
    #: Whether some task is being polled. Synced.
    polling = traitlets.Bool(False).tag(sync=True)
    #: The earliest ``creation_date``, or None. Synced.
    first_submitted = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: The latest ``completion_date`` once every task ended, else None. Synced.
    last_completed = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: What keeps tasks from being checked, for people (``""`` when nothing). Synced.
    error = traitlets.Unicode("").tag(sync=True)
    #: When the service last answered (epoch ms). Synced.
    last_checked = traitlets.Float(0.0).tag(sync=True)

    def __init__(
        self,
        tasks: Iterable[object] = (),
        *,
        auth: object = None,
        client_id: str | None = None,
        base_url: str | None = None,
        poll_interval: float = 1.0,
        max_poll_interval: float | None = None,
        index_id: str | None = None,
        start: bool = True,
        poller: Poller | None = None,
        notify: bool = False,
    ) -> None:
        if (
            isinstance(tasks, (str, bytes, Mapping))
            or hasattr(tasks, "data")  # one GlobusHTTPResponse
            or not isinstance(tasks, Iterable)
        ):
            raise TypeError(
                "tasks must be an iterable of task ids or ingest replies; for one task use "
                "TaskWidget or pass [task_id]"
            )
        # Refuse bad ids before any side effect.
        references = [task_reference(task, strict=True) for task in tasks]
        credentials, url, self._min_interval, self._max_interval = connection_settings(
            auth,
            base_url,
            poll_interval,
            max_poll_interval,
            client_id,
            origin=_origin(references),
            poller=poller,
        )
        self._index_hint = normalize_task_id(index_id, "index id") if index_id is not None else None
        self._index_limit: int | None = None  # for_index() before a sign-in: list on start()
        super().__init__(notify=bool(notify), **front_end_traits("list"))
        self._connect(url, credentials, poller, client_id)
        self._idle = threading.Event()  # set while no watch runs, for wait()
        self._idle.set()
        self._entries: dict[str, _Entry] = {}
        self._active = 0  # entries with a running watch
        self._dirty = False
        self._round_checked_at: float | None = None  # when this round's news was fetched
        self._stamp_sent = 0.0
        self._started = False
        with self._lock:
            for reference in references:
                self._put(reference.task_id, self._index_hint or reference.index_id)
            self._flush()
        if start:
            self.start()

    @classmethod
    def for_index(
        cls,
        index_id: str,
        *,
        auth: object = None,
        base_url: str | None = None,
        limit: int = 50,
        **kwargs: Any,
    ) -> TaskListWidget:
        """Watch the recent tasks of an index.

        One ``GET /v1/task_list/<index_id>`` gives the index's recent tasks; the ``limit``
        newest become rows, and those not yet terminal are watched (the others are shown
        as they ended). Other keyword arguments are those of :class:`TaskListWidget`.

        Until signed in (see the widget's sign-in panel), the list stays empty; the index
        is listed when the sign-in completes.

        Raises:
            SearchTaskError: the task list could not be read (e.g. 403 without a role on
                the index); nothing keeps running then.
        """
        if not isinstance(index_id, (str, uuid.UUID)):
            raise TypeError(f"index_id must be a str or uuid.UUID, not {type(index_id).__name__}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"limit must be a whole number of tasks above 0, got {limit!r}")
        start = kwargs.pop("start", True)
        widget = cls((), auth=auth, base_url=base_url, index_id=index_id, start=False, **kwargs)
        if widget._sign_in_error() is not None:
            # Listed once signed in (the panel's sign-in calls start()).
            widget._index_limit = limit
            return widget
        try:
            widget._add_index_tasks(limit)
        except BaseException:
            widget.close()
            raise
        if start:
            widget.start()
        return widget

    def _add_index_tasks(self, limit: int) -> None:
        """Add the ``limit`` newest tasks of the index as rows (main thread: a request)."""
        tasks = self._list_index()
        newest = sorted(tasks, key=_created_key, reverse=True)[:limit]
        with self._lock:
            for task in newest:
                try:
                    task_id = normalize_task_id(task.task_id)
                except ValueError:
                    log.debug("skipping task %r of %s: not a UUID", task.task_id, self._index_hint)
                    continue
                entry = self._put(task_id, self._index_hint)
                if entry is not None:
                    self._set_row(entry, task=task)
            self._flush()

    def _listed_index(self) -> bool:
        """List the index now if :meth:`for_index` had to wait for a sign-in; False (and
        the error shown) when that failed."""
        if self._index_limit is None:
            return True
        try:
            self._add_index_tasks(self._index_limit)
        except SearchTaskError as error:
            self.error = f"{error}. {advice(error, self._index_hint)}"
            return False
        self._index_limit = None
        return True

    def _list_index(self) -> list[Task]:
        blocker = self._sign_in_error()
        if blocker is not None:
            raise blocker
        if self._client is None or self._index_hint is None:
            raise PollingStoppedError("this widget was closed; create a new one")
        return self._client.get_task_list(self._index_hint)

    # -- public API -------------------------------------------------------------------

    def add(self, task: object, *, index_id: str | None = None) -> str:
        """Watch one more task (an id or an ingest reply); return its id.

        A task already in the list is ignored (its id is returned). While the list polls,
        the new task is polled at once.
        """
        reference = task_reference(task, strict=True)
        task_id = reference.task_id
        hint = (
            normalize_task_id(index_id, "index id")
            if index_id is not None
            else self._index_hint or reference.index_id
        )
        with self._lock:
            if self._closed:
                raise PollingStoppedError("this widget was closed; create a new one")
            entry = self._put(task_id, hint)
            if entry is None:
                return task_id
            self._become_live()  # a list that had ended shows the new task live
            watching = self._started
            if not watching:
                self._flush()
        if watching:
            # Polled at once: its first answer flushes the new row with the next batch,
            # so adding hundreds of tasks one by one does not send hundreds of row lists.
            self._watch([entry], flush=False)
        return task_id

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The last Task document of each task, in the order they were added (tasks not
        answered yet are left out)."""
        with self._lock:
            return [e.task.to_document() for e in self._entries.values() if e.task is not None]

    @property
    def counts(self) -> dict[str, int]:
        """How many tasks are in each state, ends first (``"UNCHECKED"`` for no answer yet)."""
        with self._lock:
            found: dict[str, int] = {}
            for entry in self._entries.values():
                state = entry.task.state if entry.task is not None else UNCHECKED
                found[state] = found.get(state, 0) + 1
        return dict(sorted(found.items(), key=lambda item: _state_rank(item[0])))

    def start(self) -> None:
        """Start (or resume) polling every task that has not ended.

        Tasks whose watch stopped on an error (404, 403, gave up...) are tried again.
        Until signed in, nothing is polled (the sign-in panel starts polling when done).
        """
        if self._closed:
            raise PollingStoppedError("this widget was closed; create a new one")
        if self._sign_in_error() is not None or not self._listed_index():
            return
        with self._lock:
            self._started = True
            todo = [e for e in self._entries.values() if not e.ended and e.watch is None]
            for entry in todo:
                entry.fatal = None
                self._set_row(entry, task=entry.task)
            if not todo and not self._documented:
                self._show_end()  # e.g. for_index() of an index whose tasks all ended
        self._watch(todo)

    def stop(self) -> None:
        """Stop polling; the view keeps the last known states. :meth:`start` resumes."""
        with self._lock:
            self._started = False
            for entry in self._entries.values():
                if entry.watch is not None:
                    self._poller.remove(entry.watch)
                    entry.watch = entry.listener = None
            self._active = 0
            self._flush()
            self._idle.set()

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until every task ended; return their Task documents in list order.

        FAILED (and CANCELLED) tasks are normal ends. Starts polling if it is not running.

        Raises:
            TimeoutError: after ``timeout`` seconds, saying how many tasks still run.
            TaskListError: some watches stopped on an error (404, 403, 401, gave up...);
                raised once all the other tasks ended, with ``errors`` (task id -> error)
                and ``documents`` (the tasks that did end). It is a :class:`SearchTaskError`.
            PollingStoppedError: polling was stopped (:meth:`stop`, :meth:`close`) while
                it waited; ``wait()`` after :meth:`stop` starts polling again.
        """
        timeout = checked_timeout(timeout)
        blocker = self._sign_in_error()
        if blocker is not None and not all(e.ended for e in self._entries.values()):
            raise blocker  # blocking here would keep the sign-in panel from working
        with self._lock:
            idle = not self._active and any(
                not e.ended and e.fatal is None for e in self._entries.values()
            )
        if idle and not self._closed:
            self.start()
        self._block_until(self._idle, timeout, self._still_running)
        return self._outcome()

    def __repr__(self) -> str:
        if not hasattr(self, "_entries"):  # __init__ refused its arguments
            return "<TaskListWidget (not set up)>"
        return f"<TaskListWidget {self.describe()}>"

    def _snapshot_html(self) -> str:
        with self._lock:
            rows = [dict(e.row) for e in self._entries.values()]
        state = self.get_state(("error", "first_submitted", "last_completed"))
        return list_document(self.describe(), rows, state)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A self-contained HTML page of the list as it is now (works offline).

        The page runs the list's own front end (timeline included) on a frozen copy of its
        state, and keeps the static document, timeline as SVG, for readers without
        scripts. Written to ``path`` when given.
        """
        page = with_static_copy(
            standalone_html(
                front_end("list", "js"),
                front_end("list", "css"),
                self.get_state(_EXPORT_TRAITS),
                title=f"Search tasks: {self.describe()}",
            ),
            self._snapshot_html(),
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def describe(self) -> str:
        """One line for people: how many tasks, by state, elapsed, and any error."""
        with self._lock:
            total = len(self._entries)
            text = f"{total} task{'' if total == 1 else 's'}"
            if self.sign_in and not self.error:
                text += " (sign-in needed)"
            if not total:
                return text
            counts = ", ".join(
                f"{n} {'not checked yet' if s == UNCHECKED else s}" for s, n in self.counts.items()
            )
            text += f": {counts}"
            elapsed = self._elapsed()
            if elapsed is not None:
                text += f"; elapsed {format_duration(elapsed)}"
            if self.error:
                text += f"; {self.error}"
            return text

    # -- Listener side: called on the poller thread -----------------------------------

    def _on_row_task(self, listener: _RowListener, task: Task, schedule: Schedule) -> None:
        with self._lock:
            entry = self._current(listener)
            if entry is None:
                return
            self._set_row(entry, task=task, checked_at=schedule.checked_at)
            ended = task.is_terminal
            if ended:
                self._end(entry)
            self._settle(schedule.checked_at, ended)

    def _on_row_trouble(
        self, listener: _RowListener, error: SearchTaskError, schedule: Schedule
    ) -> None:
        with self._lock:
            entry = self._current(listener)
            if entry is None:
                return
            # No countdown in the row: repeated trouble of one kind is no change.
            self._set_row(entry, task=entry.task, error=str(error), trouble="retrying")
            self._settle(schedule.checked_at, False)

    def _on_row_fatal(self, listener: _RowListener, error: SearchTaskError) -> None:
        with self._lock:
            entry = self._current(listener)
            if entry is None:
                return
            index = entry.index_id or (entry.task.index_id if entry.task else None) or ""
            if error.http_status == 401:
                expired = self._sign_in_expired(error)
                text = f"{error.summary}. {expired}"
                # Same kind and facts, with a message that says what to do (for wait()).
                error = TaskAPIError(
                    expired, http_status=401, code=error.code, request_id=error.request_id
                )
            else:
                text = f"{error}. {advice(error, index)}".strip()
            entry.fatal = error
            self._set_row(entry, task=entry.task, error=text, trouble="fatal")
            self._end(entry)
            self._settle(self._poller.clock.time(), True)

    # -- helpers (called with the lock held) ------------------------------------------

    def _put(self, task_id: str, index_id: str | None) -> _Entry | None:
        if task_id in self._entries:
            return None
        entry = _Entry(task_id, index_id, _row(task_id, None))
        self._entries[task_id] = entry
        self._dirty = True
        return entry

    def _watch(self, entries: list[_Entry], *, flush: bool = True) -> None:
        """Register a watch for each entry (outside the lock: the poller has its own)."""
        watches = []
        with self._lock:
            for entry in entries:
                if self._closed or entry.watch is not None or entry.ended:
                    continue
                listener = _RowListener(self, entry.task_id)
                entry.listener = listener
                entry.watch = Watch(
                    task_id=entry.task_id,
                    client=self._client,  # type: ignore[arg-type]
                    listener=weakref.ref(listener),
                    interval=AdaptiveInterval(self._min_interval, self._max_interval),
                    index_id=entry.index_id or (entry.task.index_id if entry.task else None),
                    last_task=entry.task,
                )
                watches.append(entry.watch)
                self._active += 1
            if watches:
                self._idle.clear()
            if flush:
                self._flush()
        try:
            self._poller.add_all(watches)
        except BaseException:  # e.g. the poller was shut down: leave nothing half-started
            self.stop()
            raise

    def _current(self, listener: _RowListener) -> _Entry | None:
        """The entry ``listener`` reports for, unless it was replaced or stopped since."""
        entry = self._entries.get(listener.task_id)
        if entry is None or entry.listener is not listener:
            return None
        return entry

    def _end(self, entry: _Entry) -> None:
        entry.watch = entry.listener = None
        self._active = max(0, self._active - 1)

    def _set_row(
        self,
        entry: _Entry,
        *,
        task: Task | None,
        error: str = "",
        trouble: str = "",
        checked_at: float | None = None,
    ) -> None:
        # issue #15: when the task was first seen running, for the timeline.
        seen = epoch_ms(checked_at) if checked_at is not None else None
        row = observe_start(entry.row, _row(entry.task_id, task, error, trouble), seen)
        entry.task = task
        if task is not None:
            entry.created = parse_service_date(task.creation_date)
            entry.completed = parse_service_date(task.completion_date)
        if row != entry.row:
            entry.row = row
            self._dirty = True

    def _settle(self, checked_at: float, ended: bool) -> None:
        """After one event: remember when it was fetched; the last end is sent at once."""
        self._round_checked_at = checked_at
        if not (ended and self._active == 0):
            return
        self._round_checked_at = None
        try:
            self._flush(checked_at)
        finally:  # even if sending failed, wait() must learn that every watch ended
            self._show_end()
            self._idle.set()

    def _show_end(self) -> None:
        """No watch runs: once every task ended the list becomes a document; otherwise
        (some watches stopped on errors) it stays live for start() or a sign-in."""
        if self._entries and all(e.ended for e in self._entries.values()):
            self._become_document()
        else:
            self._refresh_displays()

    def _on_round_end(self) -> None:
        """The poller's round is over: send what it changed as one message, or a stamp."""
        with self._lock:
            checked_at, self._round_checked_at = self._round_checked_at, None
            if checked_at is None:  # already sent, e.g. with the last end
                return
            if self._dirty:
                self._flush(checked_at)
            elif checked_at - self._stamp_sent >= STAMP_EVERY:
                self._stamp_sent = checked_at
                self.last_checked = epoch_ms(checked_at)  # one small message

    def _flush(self, checked_at: float | None = None) -> None:
        """Send rows and aggregates as one message (only what changed is sent)."""
        entries = list(self._entries.values())
        ended = [e.task for e in entries if e.task is not None and e.task.is_terminal]
        created = [(e.created, e.row["creation_date"]) for e in entries if e.created]
        completed = [(e.completed, e.row["completion_date"]) for e in entries if e.completed]
        all_ended = bool(entries) and len(ended) == len(entries)
        with self.hold_sync():
            if self._dirty:
                self.rows = [e.row for e in entries]
            self.total = len(entries)
            self.done = len(ended)
            self.failed = sum(1 for task in ended if task.state == "FAILED")
            self.polling = self._active > 0
            self.first_submitted = min(created)[1] if created else None
            self.last_completed = max(completed)[1] if all_ended and completed else None
            self.error = _overall_error(entries)
            if checked_at is not None:
                self._stamp_sent = checked_at
                self.last_checked = epoch_ms(checked_at)
        self._dirty = False

    def _elapsed(self) -> float | None:
        starts = [e.created for e in self._entries.values() if e.created is not None]
        if not starts:
            return None
        if all(e.ended for e in self._entries.values()):
            ends = [e.completed for e in self._entries.values() if e.completed is not None]
            end = max(ends) if ends else datetime.now(timezone.utc)
        else:
            end = datetime.now(timezone.utc)
        return max(0.0, (end - min(starts)).total_seconds())

    def _still_running(self, timeout: float) -> str:
        with self._lock:
            running = [e for e in self._entries.values() if not e.ended and e.fatal is None]
            states: dict[str, int] = {}
            for e in running:
                state = e.task.state if e.task is not None else "not checked yet"
                states[state] = states.get(state, 0) + 1
            detail = ", ".join(f"{n} {s}" for s, n in states.items())
            return (
                f"{len(running)} of {len(self._entries)} tasks still running after "
                f"{timeout:g} s ({detail})"
            )

    def _outcome(self) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._entries.values())
        documents = [e.task.to_document() for e in entries if e.task and e.task.is_terminal]
        if len(documents) == len(entries):
            return documents
        errors = {e.task_id: e.fatal for e in entries if e.fatal is not None and not e.ended}
        if errors:
            first = next(iter(errors.values()))
            raise TaskListError(errors, documents, len(entries)) from first
        unfinished = len(entries) - len(documents)
        raise PollingStoppedError(
            f"polling was stopped while {unfinished} of {len(entries)} tasks had not ended"
        )


def _row(task_id: str, task: Task | None, error: str = "", trouble: str = "") -> dict[str, Any]:
    """The synced form of one task (a fresh dict: rows are replaced, never changed)."""
    return {
        "task_id": task_id,
        "state": task.state if task else "",
        "state_description": (shown_text(task.state_description) or "") if task else "",
        "task_type": task.task_type if task else None,
        "message": shown_text(task.message) if task else None,
        # Capped per row: a list of many tasks is one comm message.
        "additional_details": (
            shown_details(task.additional_details, MAX_SHOWN_ROW_DETAILS) if task else None
        ),
        "creation_date": (task.creation_date or "") if task else "",
        "completion_date": task.completion_date if task else None,
        "error": error,
        "trouble": trouble,
    }


def _overall_error(entries: list[_Entry]) -> str:
    fatal = [e for e in entries if e.fatal is not None and not e.ended]
    retrying = [e for e in entries if e.row["trouble"] == "retrying"]
    parts = []
    if fatal:
        n = len(fatal)
        parts.append(
            f"{n} task{'' if n == 1 else 's'} could not be checked: {fatal[0].row['error']}"
        )
    if retrying:
        n = len(retrying)
        parts.append(f"Retrying {n} task{'' if n == 1 else 's'}: {retrying[0].row['error']}")
    return " ".join(parts)


def _state_rank(state: str) -> tuple[int, str]:
    if state in _STATE_ORDER:
        return _STATE_ORDER.index(state), state
    if state == UNCHECKED:
        return len(_STATE_ORDER) + 2, state
    return len(_STATE_ORDER) + (0 if state in TERMINAL_STATES else 1), state


def _created_key(task: Task) -> float:
    created = task.created_at
    return created.timestamp() if created is not None else float("-inf")


def _origin(references: list[TaskReference]) -> object:
    """The ``SearchClient`` that sent the replies among ``references`` (the first one's),
    or None; ValueError if they come from different Search services."""
    clients = [reference.client for reference in references if reference.client is not None]
    services = {client.base_url for client in clients}
    if len(services) > 1:
        raise ValueError(
            "these replies come from SearchClients of different services "
            f"({', '.join(sorted(services))}): make one list per service, or pass base_url="
        )
    return clients[0] if clients else None
