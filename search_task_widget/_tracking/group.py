"""The tracking core: a group of watched tasks, with no widget in it.

A :class:`TaskGroup` holds one :class:`Entry` per task and a :class:`~.poller.Watch` for each
task it polls, on a pooled client. It turns what the poller thread learns into state (the
last Task, its retry or fatal error and what to do about it, the times each state was first
seen) and tells its :class:`GroupView` when to draw it, as the view's :class:`NewsPolicy`
says (:mod:`.news`: :class:`~.news.PerAnswer` for one task, :class:`~.news.PerRound` for
many). The last end is told at once, then :meth:`GroupView._group_ended`. The group also owns
``wait()``'s side: blocking with a timeout, and the outcome (documents, or the error).

Layering: views (``_views``, ``_terminal``) -> this module -> ``poller`` -> ``_service`` ->
``_model``. Nothing here imports ipywidgets, anywidget or traitlets.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from .._model.errors import (
    RETRY_ADVICE,
    PollingStoppedError,
    SearchTaskError,
    TaskAPIError,
    TaskListError,
    advice,
)
from .._model.task import Task, format_duration, parse_service_date
from .._model.vocabulary import FAILED, count_states
from .._service.auth import Credentials
from .._service.client import TaskClient, shared_clients
from .poller import Poller, Schedule, Watch, default_poller
from .schedule import AdaptiveInterval, wait_slice

log = logging.getLogger("search_task_widget")


@dataclass(frozen=True)
class News:
    """What a group tells its view: one answer (a group of one) or one round (many).

    ``kind`` is ``"task"``, ``"trouble"`` or ``"fatal"`` (an answer, with the poller's
    ``task``, ``error`` and ``schedule`` as it reported them), ``"round"`` (a poll round's
    changes together) or ``"action"`` (start, stop, add). ``rows_changed`` says whether
    some task's shown fields changed since the view was last told.
    """

    kind: str
    task_id: str | None = None
    task: Task | None = None
    error: SearchTaskError | None = None
    schedule: Schedule | None = None
    rows_changed: bool = True


class GroupView(Protocol):
    """What draws a group: a widget, or the terminal. Called with the group's lock held,
    on the poller thread for answers and on the caller's thread for actions. (Private
    names: on a widget they must not join its public API.)"""

    def _render(self, news: News) -> None:
        """Draw the group's state (it changed, or a stamp is due)."""

    def _group_ended(self) -> None:
        """No watch runs any more: every task ended, or the rest stopped on errors."""

    def _credentials_expired(self, error: SearchTaskError) -> str:
        """A 401 that the credentials could not fix: what to do (e.g. offer to sign in)."""


class NewsPolicy(Protocol):
    """When a group tells its view, and what of an entry is news: chosen by the view
    (:mod:`.news`). Called with the group's lock held."""

    def shown_changed(self, entry: Entry) -> bool:
        """Refresh what the view shows of ``entry``; whether it changed."""

    def answered(self, group: TaskGroup, schedule: Schedule, first: bool) -> None:
        """A Task document was recorded (``first``: the entry's first)."""

    def retrying(self, group: TaskGroup, schedule: Schedule) -> None:
        """Transient trouble was recorded; the poller tries again at ``schedule.next_check``."""

    def ended(self, group: TaskGroup) -> None:
        """An entry ended (its last state, or a fatal error)."""

    def settle(self, group: TaskGroup, news: News, checked_at: float, last: bool) -> None:
        """After one answer: tell it now, or keep it (``last``: nothing polls any more)."""

    def round_end(self, group: TaskGroup) -> None:
        """The poller's round is over."""

    def still_running(self, entries: list[Entry], timeout: float) -> str:
        """What a timeout of ``wait()`` says about what has not ended yet."""

    def rows(self, entries: list[Entry]) -> list[dict[str, Any]]:
        """One row per entry (see :func:`.rows.row_of`)."""


@dataclass(frozen=True)
class Stamp:
    """The liveness stamp as last told: when the service answered, when the next check is
    due (epoch seconds; None when nothing is due) and the current interval."""

    checked_at: float | None = None
    next_check: float | None = None
    interval: float = 1.0


@dataclass(eq=False)
class Entry:
    """One task of a group: what is known about it and the watch polling it (if any)."""

    task_id: str
    index_id: str | None
    task: Task | None = None
    #: The error that stopped its watch (a 401 re-worded to say what to do), what a person
    #: can do about it, and both as one text for people.
    fatal: SearchTaskError | None = None
    fatal_advice: str = ""
    fatal_text: str = ""
    #: The transient trouble being retried, and the schedule the poller gave with it.
    trouble: SearchTaskError | None = None
    trouble_schedule: Schedule | None = None
    #: State -> when it was first seen (epoch seconds).
    stage_times: dict[str, float] = field(default_factory=dict)
    #: Transient failures retried, when the current run of them began (epoch s), how long
    #: the ones that ended lasted, and what the last one was: kept after recovery.
    retries: int = 0
    outage_began: float | None = None
    outage_seconds: float = 0.0
    outage_summary: str = ""
    created: datetime | None = None
    completed: datetime | None = None
    watch: Watch | None = None
    listener: _EntryListener | None = None

    @property
    def ended(self) -> bool:
        """Whether the task reached a terminal state."""
        return self.task is not None and self.task.is_terminal

    @property
    def state(self) -> str:
        """The last state seen, ``""`` before the first answer."""
        return self.task.state if self.task is not None else ""

    @property
    def known_index(self) -> str | None:
        """The task's index: the hint given, else the one the service reported."""
        return self.index_id or (self.task.index_id if self.task is not None else None)

    @property
    def error_text(self) -> str:
        """What keeps this task from being checked, for people (``""`` when nothing)."""
        if self.fatal is not None:
            return self.fatal_text
        if self.trouble is not None and self.trouble_schedule is not None:
            schedule = self.trouble_schedule
            due = schedule.next_check or schedule.checked_at
            wait = max(0, math.ceil(due - schedule.checked_at))
            return f"Retrying in {wait} s: {self.trouble}"
        return ""

    @property
    def retried_text(self) -> str:
        """A line that stays once the checks went through again: how many failed checks
        were retried, over how long, and why (``""`` if none, or while still retrying)."""
        if not self.retries or self.outage_began is not None:
            return ""
        times = "once" if self.retries == 1 else f"{self.retries} times"
        took = format_duration(self.outage_seconds)
        return f"Checks failed and were retried {times} over {took} ({self.outage_summary})"

    @property
    def trouble_kind(self) -> str:
        """``""``, ``"retrying"`` (transient trouble) or ``"fatal"`` (polling stopped)."""
        if self.fatal is not None:
            return "fatal"
        return "retrying" if self.trouble is not None else ""


class _EntryListener:
    """The poller's :class:`~.poller.Listener` for one entry: forwards to the group.

    The entry holds this object; the watch holds it weakly and this holds the group weakly,
    so a group (and its view) that is garbage-collected takes its listeners with it and the
    poller drops the watches. A listener replaced by a restart (or stopped) is stale: what
    it reports late is ignored.
    """

    __slots__ = ("__weakref__", "_group", "task_id")

    def __init__(self, group: TaskGroup, task_id: str) -> None:
        self._group = weakref.ref(group)
        self.task_id = task_id

    def _entry(self) -> tuple[TaskGroup, Entry] | None:
        group = self._group()
        if group is None:
            return None
        entry = group.get(self.task_id)
        if entry is None or entry.listener is not self:
            return None
        return group, entry

    def on_task(self, task: Task, schedule: Schedule) -> None:
        found = self._entry()
        if found is not None:
            found[0].task_seen(found[1], task, schedule, listener=self)

    def on_trouble(self, error: SearchTaskError, schedule: Schedule) -> None:
        found = self._entry()
        if found is not None:
            found[0].trouble_seen(found[1], error, schedule, listener=self)

    def on_fatal(self, error: SearchTaskError) -> None:
        found = self._entry()
        if found is not None:
            found[0].fatal_seen(found[1], error, listener=self)

    def on_round_end(self) -> None:
        group = self._group()
        if group is not None:
            group.round_end()


class TaskGroup:
    """Tasks watched together on one service with one set of credentials.

    Args:
        url: the Search service.
        credentials: how to authenticate (no client until they are usable).
        view: what draws the group (held weakly: a forgotten view ends the watching).
        poller: the poller (default: the kernel-wide one).
        intervals: the (starting, largest) polling interval of each task, in seconds.
        news: when the view is told (:class:`~.news.PerAnswer`, :class:`~.news.PerRound`).
        otherwise: the advice for a fatal error without a specific one.
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials,
        *,
        view: GroupView,
        poller: Poller | None = None,
        intervals: tuple[float, float] = (1.0, 600.0),
        news: NewsPolicy,
        otherwise: str = RETRY_ADVICE,
    ) -> None:
        self.url = url
        self.news = news
        self.poller = poller or default_poller()
        self.min_interval, self.max_interval = intervals
        self.otherwise = otherwise
        #: One writer at a time, for the group and for what its view draws.
        self.lock = threading.RLock()
        self.closed = False
        self.stamp = Stamp(interval=self.min_interval)
        self._view = weakref.ref(view)
        self._client = self._acquire(credentials)
        self._entries: dict[str, Entry] = {}
        self._active = 0  # entries with a running watch
        self._idle = threading.Event()  # set while no watch runs, for wait()
        self._idle.set()
        self._dirty = False  # something shown changed since the view was last told
        self.stamp_sent = 0.0  # when the stamp was last moved

    # -- the connection -----------------------------------------------------------------

    @property
    def client(self) -> TaskClient | None:
        """The pooled client, or None until signed in (and once closed)."""
        return self._client

    def _acquire(self, credentials: Credentials) -> TaskClient | None:
        if credentials.needs_sign_in:
            return None
        return shared_clients.acquire(self.url, credentials.authorizer, credentials.key)

    def _release(self, client: TaskClient | None) -> None:
        if client is not None and shared_clients.release(client):
            self.poller._retire(client)  # closed between its requests

    def use(self, credentials: Credentials) -> None:
        """Poll with ``credentials`` from now on (stops polling; :meth:`start` resumes)."""
        if self.closed:
            return
        self.stop()
        with self.lock:
            old, self._client = self._client, self._acquire(credentials)
            self._release(old)

    def close(self) -> None:
        """Stop polling and give the client back to the pool."""
        self.stop()
        with self.lock:
            if not self.closed:
                self.closed = True
                self._release(self._client)
                self._client = None

    # -- entries ------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """The entries, in the order added."""
        with self.lock:
            return list(self._entries.values())

    def get(self, task_id: str) -> Entry | None:
        """The entry of ``task_id``, if any."""
        return self._entries.get(task_id)

    def add(self, task_id: str, index_id: str | None = None) -> Entry | None:
        """A new entry (not polled yet), or None when ``task_id`` is already there."""
        with self.lock:
            if task_id in self._entries:
                return None
            entry = Entry(task_id, index_id)
            self.news.shown_changed(entry)
            self._entries[task_id] = entry
            self._dirty = True
            return entry

    def set_task(self, entry: Entry, task: Task) -> None:
        """Record ``task`` as known without polling (e.g. from an index's task list)."""
        with self.lock:
            self._record(entry, task, None)

    @property
    def polling(self) -> bool:
        """Whether some task is being polled."""
        return self._active > 0

    @property
    def all_ended(self) -> bool:
        """Whether the group has tasks and every one of them ended."""
        with self.lock:
            return bool(self._entries) and all(e.ended for e in self._entries.values())

    def needs_start(self) -> bool:
        """Nothing polls although some task can still end: ``wait()`` starts polling."""
        with self.lock:
            return not self._active and any(
                not e.ended and e.fatal is None for e in self._entries.values()
            )

    # -- polling ------------------------------------------------------------------------

    def start(self, entries: list[Entry] | None = None, *, tell: bool = True) -> int:
        """Poll ``entries`` (default: every entry that has not ended), retrying those that
        stopped on an error; return how many watches were added. Nothing is polled while
        there is no client (until signed in)."""
        with self.lock:
            if self.closed or self._client is None:
                return 0
            todo = [
                e
                for e in (self._entries.values() if entries is None else entries)
                if not e.ended and e.watch is None
            ]
            watches = [self._watch(entry, self._client) for entry in todo]
            if watches:
                self._idle.clear()
            if tell:
                self._tell_action()
            try:
                # Under the lock, so a concurrent stop() finds the watches registered. (The
                # poller never takes a group's lock while holding its own: no deadlock.)
                self.poller._add_all(watches)
            except BaseException:  # e.g. the poller was shut down: nothing half-started
                self.stop()
                raise
            return len(watches)

    def _watch(self, entry: Entry, client: TaskClient) -> Watch:
        entry.fatal, entry.fatal_advice, entry.fatal_text = None, "", ""
        entry.trouble = entry.trouble_schedule = None
        self._changed(entry)
        # The watch holds its listener weakly (see _EntryListener); the entry holds it.
        entry.listener = _EntryListener(self, entry.task_id)
        entry.watch = Watch(
            task_id=entry.task_id,
            client=client,
            listener=weakref.ref(entry.listener),
            interval=AdaptiveInterval(self.min_interval, self.max_interval),
            index_id=entry.known_index,
            last_task=entry.task,
        )
        self._active += 1
        return entry.watch

    def stop(self) -> None:
        """Stop every watch; what is known stays."""
        with self.lock:
            for entry in self._entries.values():
                if entry.watch is not None:
                    self.poller._remove(entry.watch)
                    entry.watch = entry.listener = None
            self._active = 0
            self.expect_next(None)
            try:
                self._tell_action()
            finally:
                self._idle.set()

    # -- what the poller reports (poller thread; or a test playing the poller) -----------

    def task_seen(
        self, entry: Entry, task: Task, schedule: Schedule, *, listener: object = None
    ) -> None:
        """A Task document was fetched for ``entry``."""
        with self.lock:
            if listener is not None and entry.listener is not listener:
                return  # stopped or restarted meanwhile
            first = entry.task is None
            entry.trouble = entry.trouble_schedule = None
            if entry.outage_began is not None:  # recovered: the outage is history now
                entry.outage_seconds += max(0.0, schedule.checked_at - entry.outage_began)
                entry.outage_began = None
            self._record(entry, task, schedule.checked_at)  # the row, once
            self.news.answered(self, schedule, first)
            ended = task.is_terminal
            if ended:
                self._end(entry)
            news = News("task", entry.task_id, task, None, schedule)
            self._settle(news, schedule.checked_at, ended)

    def trouble_seen(
        self, entry: Entry, error: SearchTaskError, schedule: Schedule, *, listener: object = None
    ) -> None:
        """A transient failure for ``entry``; polling goes on at ``schedule.next_check``."""
        with self.lock:
            if listener is not None and entry.listener is not listener:
                return
            entry.trouble, entry.trouble_schedule = error, schedule
            entry.retries += 1
            entry.outage_summary = error.summary
            if entry.outage_began is None:
                entry.outage_began = schedule.checked_at
            self._changed(entry)
            self.news.retrying(self, schedule)
            news = News("trouble", entry.task_id, entry.task, error, schedule)
            self._settle(news, schedule.checked_at, False)

    def fatal_seen(self, entry: Entry, error: SearchTaskError, *, listener: object = None) -> None:
        """Polling of ``entry`` stopped for good on ``error``."""
        with self.lock:
            if listener is not None and entry.listener is not listener:
                return
            entry.fatal, entry.fatal_advice, entry.fatal_text = self._explained(entry, error)
            entry.trouble = entry.trouble_schedule = None
            self._changed(entry)
            self._end(entry)
            news = News("fatal", entry.task_id, entry.task, error)
            self._settle(news, self.poller.clock.time(), True)

    def round_end(self) -> None:
        """The poller's round is over (a group of many tells its changes now)."""
        with self.lock:
            self.news.round_end(self)

    # -- outcome ------------------------------------------------------------------------

    def wait_idle(self, timeout: float | None) -> None:
        """Block until no watch runs; TimeoutError after ``timeout`` seconds (saying what
        still runs). Short waits keep Ctrl-C responsive; Ctrl-C stops polling first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not self._idle.wait(wait_slice(deadline)):
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(self.still_running(timeout or 0.0))
                self._ensure_polled()
        except KeyboardInterrupt:
            self.stop()
            raise

    def _ensure_polled(self) -> None:
        """Every running watch of this group has a live poller thread (after a fork, the
        child's poller starts one when it is waited for)."""
        with self.lock:
            watches = [e.watch for e in self._entries.values() if e.watch is not None]
        if watches and self.poller.threaded:
            self.poller._ensure_polling(watches)

    def still_running(self, timeout: float) -> str:
        """What a timeout says: what has not ended yet."""
        with self.lock:
            return self.news.still_running(list(self._entries.values()), timeout)

    def document(self) -> dict[str, Any]:
        """A group of one: its Task document once ended, else the error that stopped it
        (or :class:`PollingStoppedError`)."""
        (entry,) = self.entries
        if entry.task is not None and entry.ended:
            return entry.task.to_document()
        if entry.fatal is not None:
            raise entry.fatal
        raise PollingStoppedError(
            f"polling of task {entry.task_id} was stopped while it was {entry.state or 'unknown'}"
        )

    def documents(self) -> list[dict[str, Any]]:
        """Every Task document once all ended, else :class:`TaskListError` (some watches
        stopped on errors) or :class:`PollingStoppedError` (polling was stopped)."""
        entries = self.entries
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

    # -- aggregates ---------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many tasks are in each state, ends first (:data:`UNCHECKED`: no answer yet)."""
        with self.lock:
            return count_states(entry.state for entry in self._entries.values())

    def rows(self) -> list[dict[str, Any]]:
        """One row per task (see :func:`.rows.row_of`), in the order added."""
        with self.lock:
            return self.news.rows(list(self._entries.values()))

    def totals(self) -> dict[str, Any]:
        """What a view of many shows above its rows: ``total``, ``done``, ``failed``,
        ``polling``, ``first_submitted``, ``last_completed`` (once all ended) and ``error``."""
        with self.lock:
            entries = list(self._entries.values())
            ended = [e.task for e in entries if e.task is not None and e.task.is_terminal]
            created = [(e.created, e.task.creation_date) for e in entries if e.created and e.task]
            completed = [
                (e.completed, e.task.completion_date) for e in entries if e.completed and e.task
            ]
            all_ended = bool(entries) and len(ended) == len(entries)
            return {
                "total": len(entries),
                "done": len(ended),
                "failed": sum(1 for task in ended if task.state == FAILED),
                "polling": self._active > 0,
                "first_submitted": min(created)[1] if created else None,
                "last_completed": max(completed)[1] if all_ended and completed else None,
                "error": _overall_error(entries),
            }

    def elapsed(self) -> float | None:
        """Seconds from the first submission to the last end (or now), or None."""
        with self.lock:
            entries = list(self._entries.values())
        starts = [e.created for e in entries if e.created is not None]
        if not starts:
            return None
        ends = [e.completed for e in entries if e.completed is not None]
        done = all(e.ended for e in entries) and ends
        end = max(ends) if done else datetime.now(timezone.utc)
        return max(0.0, (end - min(starts)).total_seconds())

    # -- internals (lock held) ----------------------------------------------------------

    def _record(self, entry: Entry, task: Task, seen_at: float | None) -> None:
        entry.task = task
        entry.created = parse_service_date(task.creation_date)
        entry.completed = parse_service_date(task.completion_date)
        if seen_at is not None and task.state not in entry.stage_times:
            entry.stage_times[task.state] = seen_at
        self._changed(entry)

    def _changed(self, entry: Entry) -> None:
        """Mark the group dirty if what its view shows of ``entry`` changed."""
        if self.news.shown_changed(entry):
            self._dirty = True

    @property
    def dirty(self) -> bool:
        """Whether something shown changed since the view was last told."""
        return self._dirty

    def _explained(self, entry: Entry, error: SearchTaskError) -> tuple[SearchTaskError, str, str]:
        """The error ``wait()`` raises, the advice, and the text for people."""
        if error.http_status == 401:
            view = self._view()
            text = view._credentials_expired(error) if view is not None else advice(error)
            # Same kind and facts, with a message that says what to do.
            reworded = TaskAPIError(
                text, http_status=401, code=error.code, request_id=error.request_id
            )
            return reworded, text, f"{error.summary}. {text}"
        hint = self.advice(error, entry.known_index)
        return error, hint, f"{error}. {hint}".strip()

    def advice(self, error: SearchTaskError, index_id: str | None = None) -> str:
        """What a person can do about ``error`` (``otherwise`` when nothing specific)."""
        return advice(error, index_id, otherwise=self.otherwise)

    def _end(self, entry: Entry) -> None:
        if entry.watch is not None:  # else never polled (a test playing the poller)
            self._active = max(0, self._active - 1)
        entry.watch = entry.listener = None
        self.news.ended(self)

    def stamp_from(self, schedule: Schedule) -> None:
        """Move the liveness stamp to ``schedule``: checked, next check and interval."""
        self.stamp_sent = schedule.checked_at
        self.stamp = Stamp(schedule.checked_at, schedule.next_check, schedule.interval)

    def stamp_at(self, checked_at: float) -> None:
        """Move the liveness stamp's check time only."""
        self.stamp_sent = checked_at
        self.stamp = Stamp(checked_at, self.stamp.next_check, self.stamp.interval)

    def expect_next(self, next_check: float | None) -> None:
        """Say when the next check is due (None: nothing is due)."""
        self.stamp = Stamp(self.stamp.checked_at, next_check, self.stamp.interval)

    def _settle(self, news: News, checked_at: float, ended: bool) -> None:
        """After one answer: tell it (a group of one) or keep it for the round's end; the
        last end is told at once, then the view learns that nothing runs any more."""
        last = ended and self._active == 0
        try:
            self.news.settle(self, news, checked_at, last)
        finally:  # even if telling failed, wait() must learn that every watch ended
            if last:
                try:
                    view = self._view()
                    if view is not None:
                        view._group_ended()
                finally:
                    self._idle.set()

    def refresh(self) -> None:
        """Tell the view now (after entries were added or set outside polling)."""
        with self.lock:
            self._tell_action()

    def _tell_action(self) -> None:
        self.tell(News("action", rows_changed=self._dirty))

    def tell(self, news: News) -> None:
        """Have the view draw the group now (lock held)."""
        view = self._view()
        try:
            if view is not None:
                view._render(news)
        finally:
            self._dirty = False


def _overall_error(entries: list[Entry]) -> str:
    fatal = [e for e in entries if e.fatal is not None and not e.ended]
    retrying = [e for e in entries if e.trouble is not None and e.fatal is None]
    parts = []
    if fatal:
        n = len(fatal)
        parts.append(f"{n} task{'' if n == 1 else 's'} could not be checked: {fatal[0].fatal_text}")
    if retrying:
        n = len(retrying)
        parts.append(f"Retrying {n} task{'' if n == 1 else 's'}: {retrying[0].trouble}")
    return " ".join(parts)
