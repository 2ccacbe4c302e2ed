"""The TaskListWidget: many Search tasks, live in one view.

The widget draws a :class:`~.group.TaskGroup` of many tasks: each task is one watch on the
shared poller, with the same adaptive interval policy and the same pooled client as
:class:`~.widget.TaskWidget`, so tasks of one index are polled through a single
``GET /v1/task_list/<index_id>``.

Message economy: the poller may deliver hundreds of per-task updates per second. The core
changes rows in memory and tells the widget once per poll round, so rows and aggregates go
out together (one comm message, ``hold_sync``), however many tasks the round moved. An
unchanged round sends nothing but a ``last_checked`` stamp every
:data:`~.schedule.STAMP_EVERY` seconds. User actions (``start``, ``stop``, ``add`` while
stopped) send at once.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import traitlets

from .._documents.document import list_document
from .._documents.static import standalone_html
from .._documents.timeline_svg import with_static_copy
from .._model.errors import PollingStoppedError, SearchTaskError, TaskListError
from .._model.task import Task, format_duration, normalize_task_id
from .._model.vocabulary import count_word
from .._service.reply import TaskReference, task_reference
from .._tracking.group import Entry, News
from .._tracking.news import PerRound
from .._tracking.poller import Poller
from .._tracking.schedule import epoch_ms
from .assets import front_end
from .base import POLL_INTERVAL, PolledWidget, checked_timeout, connection_settings
from .front_end import front_end_traits

__all__ = ["TaskListError", "TaskListWidget"]

log = logging.getLogger("search_task_widget")


class TaskListWidget(PolledWidget):
    """A live view of many Globus Search tasks: aggregate progress, counts and one row each.

    Args:
        tasks: task ids (str or :class:`uuid.UUID`), replies of ``SearchClient.ingest``
            / ``delete_by_query`` / ``batch_delete_by_subject``, or
            :class:`~search_task_widget.Task` objects. Given such replies and no
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
        poll_interval: float = POLL_INTERVAL,
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
        self._connect(
            url,
            credentials,
            poller,
            client_id,
            intervals=(self._min_interval, self._max_interval),
            news=PerRound(),
        )
        self._started = False
        with self._lock:
            for reference in references:
                self._group.add(reference.task_id, self._index_hint or reference.index_id)
            self._group.refresh()
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
                entry = self._group.add(task_id, self._index_hint)
                if entry is not None:
                    self._group.set_task(entry, task)
            self._group.refresh()

    def _listed_index(self) -> bool:
        """List the index now if :meth:`for_index` had to wait for a sign-in; False (and
        the error shown) when that failed."""
        if self._index_limit is None:
            return True
        try:
            self._add_index_tasks(self._index_limit)
        except SearchTaskError as error:
            self.error = f"{error}. {self._group.advice(error, self._index_hint)}"
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
        """Watch one more task (an id, an ingest reply or a :class:`Task`); return its id.

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
            entry = self._group.add(task_id, hint)
            if entry is None:
                return task_id
            self._become_live()  # a list that had ended shows the new task live
            watching = self._started
            if not watching:
                self._group.refresh()
        if watching:
            # Polled at once: its first answer sends the new row with the next round, so
            # adding hundreds of tasks one by one does not send hundreds of row lists.
            self._group.start([entry], tell=False)
        return task_id

    @property
    def tasks(self) -> list[dict[str, Any]]:
        """The last Task document of each task, in the order they were added (tasks not
        answered yet are left out)."""
        return [e.task.to_document() for e in self._group.entries if e.task is not None]

    @property
    def counts(self) -> dict[str, int]:
        """How many tasks are in each state, ends first (``"UNCHECKED"`` for no answer yet)."""
        return self._group.counts()

    @property
    def _entries(self) -> dict[str, Entry]:
        return {entry.task_id: entry for entry in self._group.entries}

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
            todo = [e for e in self._group.entries if not e.ended and e.watch is None]
            if not todo and not self._documented:
                self._group_ended()  # e.g. for_index() of an index whose tasks all ended
            self._group.start(todo)

    def stop(self) -> None:
        """Stop polling; the view keeps the last known states. :meth:`start` resumes."""
        with self._lock:
            self._started = False
            self._group.stop()

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
        if blocker is not None and not all(e.ended for e in self._group.entries):
            raise blocker  # blocking here would keep the sign-in panel from working
        if self._group.needs_start() and not self._closed:
            self.start()
        self._block_until(timeout)
        return self._group.documents()

    def __repr__(self) -> str:
        if not hasattr(self, "_group"):  # __init__ refused its arguments
            return "<TaskListWidget (not set up)>"
        return f"<TaskListWidget {self.describe()}>"

    def _snapshot_html(self) -> str:
        rows = [dict(row) for row in self._group.rows()]
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
                self._view_state(),
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
            total = len(self._group.entries)
            text = f"{total} task{'' if total == 1 else 's'}"
            if self.sign_in and not self.error:
                text += " (sign-in needed)"
            if not total:
                return text
            counts = ", ".join(f"{n} {count_word(s)}" for s, n in self.counts.items())
            text += f": {counts}"
            elapsed = self._group.elapsed()
            if elapsed is not None:
                text += f"; elapsed {format_duration(elapsed)}"
            if self.error:
                text += f"; {self.error}"
            return text

    # -- drawing (the core calls this, lock held) ----------------------------------------

    def _render(self, news: News) -> None:
        """Rows (when some changed), aggregates and the stamp, as one message."""
        with self.hold_sync():
            if news.rows_changed:
                self.rows = self._group.rows()
            for name, value in self._group.totals().items():
                setattr(self, name, value)
            self.last_checked = epoch_ms(self._group.stamp.checked_at)


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
