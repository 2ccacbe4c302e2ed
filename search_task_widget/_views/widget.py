"""The TaskWidget: one Search task, live in a notebook cell.

The widget draws a :class:`~.group.TaskGroup` of one task: the core watches it on the
poller and decides what is shown and when; :meth:`TaskWidget._render` writes the synced
traits. Writes are grouped with ``hold_sync`` so one poll produces at most one comm
message, and an unchanged poll produces nothing but a liveness stamp every
``STAMP_EVERY`` seconds, so a page of hundreds of widgets stays quiet.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import traitlets

from .._documents.document import task_document
from .._documents.static import standalone_html
from .._model.errors import PollingStoppedError
from .._model.task import format_duration, normalize_task_id
from .._model.vocabulary import NOT_CHECKED_YET
from .._service.reply import task_reference
from .._tracking.group import News
from .._tracking.news import PerAnswer
from .._tracking.poller import Poller
from .._tracking.rows import shown_fields
from .._tracking.schedule import epoch_ms
from .assets import front_end
from .base import POLL_INTERVAL, PolledWidget, checked_timeout, connection_settings
from .front_end import front_end_traits

log = logging.getLogger("search_task_widget")


class TaskWidget(PolledWidget):
    """A live view of one Globus Search task.

    Args:
        task_id: the task's id (a UUID, as a str or :class:`uuid.UUID`), or the reply of
            ``SearchClient.ingest`` / ``delete_by_query`` / ``batch_delete_by_subject`` /
            ``get_task``, or a :class:`~search_task_widget.Task` (its index is used too).
            Given such a reply and no ``auth``, the widget polls with the
            client that sent it (its sign-in and service URL, as ``auth=`` that client)
            and takes the index id from the request.
        auth: a ``globus_sdk.SearchClient`` (its service URL is used too), a
            ``GlobusApp``, a ``GlobusAuthorizer``, an access token (str), or None:
            ``$SEARCH_TASK_WIDGET_TOKEN``, then JupyterHub's ``$GLOBUS_DATA``, then a
            stored notebook sign-in, else the notebook sign-in panel (no token against
            a loopback service such as the simulator). See "Signing in" in the docs.
        client_id: the client id of the Globus native app to sign in with from the
            notebook (default ``$SEARCH_TASK_WIDGET_CLIENT_ID``); see "A client id for
            notebook sign-in" in the docs.
        base_url: the Search service; default that of a ``SearchClient`` passed as
            ``auth`` (or of a ``GlobusApp``'s environment), else as globus-sdk resolves it
            (``GLOBUS_SDK_SERVICE_URL_SEARCH``, then ``GLOBUS_SDK_ENVIRONMENT``).
        poll_interval: seconds between the first checks, and again right after a change;
            the interval grows by 25 % of the time nothing changed, but never past the
            latency target (1.8 s for a task's first 5 minutes, then + 5 % of its further
            age) and never below ``poll_interval``. At least 1 s against a non-loopback
            service, at most one day (86 400 s). See "How often tasks are checked" in the
            docs.
        max_poll_interval: the longest wait between two checks, whatever the task's age
            (default 600 s, or ``10 * poll_interval`` if that is longer).
        index_id: the task's index, if known (lets the poller batch from the first poll).
        start: start polling now (else call :meth:`start`).
        poller: the :class:`~search_task_widget.Poller` to use (default: the kernel-wide one).
        notify: tell of the end in a browser notification if the task ran longer than
            30 s and ended while the page was hidden (the widget's bell button sets it
            too, and asks the browser's permission; see :attr:`notify`).

    Raises:
        ValueError: a malformed task id or a bad interval, before any request.
        TypeError: ``auth`` of a kind this package does not accept.
    """

    # Synced traits, named exactly like the Task document's fields (the #: comments are
    # their documentation in the API reference).
    #: The task's id (canonical UUID form). Synced.
    task_id = traitlets.Unicode("").tag(sync=True)
    #: The task's state as the service wrote it (``""`` before the first answer). Synced.
    state = traitlets.Unicode("").tag(sync=True)
    #: ``"ingest"``, ``"delete_by_query"``... as the service wrote it. Synced.
    task_type = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: The service's description of the state, e.g. ``"Task succeeded"``. Synced.
    state_description = traitlets.Unicode("").tag(sync=True)
    #: The task's index (``""`` until known). Synced.
    index_id = traitlets.Unicode("").tag(sync=True)
    #: The service's message about the outcome (on failure, why it failed). Synced.
    message = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    #: Structured details of the outcome, e.g. the documents that failed. Synced.
    additional_details = traitlets.Dict(None, allow_none=True).tag(sync=True)
    #: When the task was submitted (the service's UTC string, no zone suffix). Synced.
    creation_date = traitlets.Unicode("").tag(sync=True)
    #: When the task ended (the service's UTC string), or None. Synced.
    completion_date = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    # About polling, for people and for the front end.
    #: What keeps the task from being checked, for people (``""`` when all is well). Synced.
    error = traitlets.Unicode("").tag(sync=True)
    #: ``""``, ``"retrying"`` (transient trouble) or ``"fatal"`` (polling stopped). Synced.
    trouble = traitlets.Enum(("", "retrying", "fatal"), default_value="").tag(sync=True)
    #: Once checks that failed went through again: how many were retried, over how long
    #: and why (kept, so a saved notebook says the task went through an outage). Synced.
    retried = traitlets.Unicode("").tag(sync=True)
    #: Whether the widget is polling now. Synced.
    polling = traitlets.Bool(False).tag(sync=True)
    #: State -> when it was first seen (epoch ms), for the timing panel. Synced.
    stage_times = traitlets.Dict().tag(sync=True)
    #: When the service last answered (epoch ms). Synced.
    last_checked = traitlets.Float(0.0).tag(sync=True)
    #: When the next check is due (epoch ms). Synced.
    next_check = traitlets.Float(0.0).tag(sync=True)
    #: The current interval between checks, in seconds. Synced.
    poll_interval = traitlets.Float(POLL_INTERVAL).tag(sync=True)

    def __init__(
        self,
        task_id: object,
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
        reference = task_reference(task_id)
        normalized_id = reference.task_id
        # Refuse bad settings (and a bad auth) before any widget state exists.
        credentials, url, self._min_interval, self._max_interval = connection_settings(
            auth,
            base_url,
            poll_interval,
            max_poll_interval,
            client_id,
            origin=reference.client,
            poller=poller,
        )
        hint = (
            normalize_task_id(index_id, "index id")
            if index_id is not None
            else reference.index_id or ""
        )
        # polling=start in the opening state: start() then changes nothing, so creating a
        # widget costs no update message of its own.
        super().__init__(
            task_id=normalized_id,
            index_id=hint,
            poll_interval=self._min_interval,
            polling=bool(start) and not credentials.needs_sign_in,
            notify=bool(notify),
            **front_end_traits("widget"),
        )
        self._connect(
            url,
            credentials,
            poller,
            client_id,
            intervals=(self._min_interval, self._max_interval),
            news=PerAnswer(),
        )
        entry = self._group.add(normalized_id, hint or None)
        assert entry is not None  # a new group holds nothing else
        self._entry = entry
        if start:
            self.start()

    # -- public API -------------------------------------------------------------------

    @property
    def task(self) -> dict[str, Any] | None:
        """The last Task document seen (all fields), or None before the first answer."""
        task = self._entry.task
        return task.to_document() if task else None

    @property
    def done(self) -> bool:
        """True once the task reached a terminal state (SUCCESS, FAILED, CANCELLED)."""
        return self._entry.ended

    def start(self) -> None:
        """Start (or resume) polling. No-op while polling, after the task ended, and
        until signed in (the widget's sign-in panel starts polling when done)."""
        with self._lock:
            if self.done:  # a task that ended never changes again
                return
            if self._closed:
                raise PollingStoppedError("this widget was closed; create a new one")
            if self._group.polling or self._sign_in_error():
                return
            self._group.start()

    def stop(self) -> None:
        """Stop polling; the view keeps the last known state. :meth:`start` resumes."""
        self._group.stop()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the task ends; return its Task document (a FAILED task too).

        Starts polling if it is not running (so ``wait()`` after :meth:`stop` polls
        again). Raises :class:`TimeoutError` after ``timeout`` seconds, the polling error
        (a :class:`SearchTaskError` with ``http_status``, ``code`` and ``message``) if
        polling stopped on a fatal answer, and :class:`PollingStoppedError` if polling is
        stopped while it waits (:meth:`stop` from a callback or another thread, or
        :meth:`close`). Ctrl-C stops polling too.
        """
        timeout = checked_timeout(timeout)
        blocker = self._sign_in_error()
        if blocker is not None and not self.done:
            raise blocker  # blocking here would keep the sign-in panel from working
        if self._group.needs_start():
            self.start()
        self._block_until(timeout)
        return self._group.document()

    def __repr__(self) -> str:
        return f"<TaskWidget {self.describe()}>"

    def _snapshot_html(self) -> str:
        return task_document(self._view_state())

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A self-contained HTML page of the widget as it is now (works offline).

        The page runs the widget's own front end on a frozen copy of its state; no
        notebook, kernel or CDN is needed to view it. Written to ``path`` when given.
        """
        page = standalone_html(
            front_end("widget", "js"),
            front_end("widget", "css"),
            self._view_state(),
            title=f"Search task {self.task_id}",
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def describe(self) -> str:
        """One line for people: id, state, description, elapsed, and any error."""
        text = f"task {self.task_id}: {self.state or NOT_CHECKED_YET}"
        if self.state_description:
            text += f" ({self.state_description})"
        task = self._entry.task
        if task is not None and task.elapsed() is not None:
            text += f", elapsed {format_duration(task.elapsed())}"
        if self.error:
            text += f"; {self.error}"
        elif self.sign_in:
            text += "; sign-in needed"
        return text

    # -- drawing (the core calls this, lock held) ----------------------------------------

    def _render(self, news: News) -> None:
        """One message at most: what changed among the shown fields, the trouble and the
        liveness stamp (which the core moves only when it is due)."""
        entry = self._entry
        stamp = self._group.stamp
        with self.hold_sync():
            task = entry.task
            if task is not None:
                for name, value in shown_fields(task).items():
                    setattr(self, name, value)
                self.index_id = task.index_id or self.index_id
                self.stage_times = {s: epoch_ms(t) for s, t in entry.stage_times.items()}
            self.error, self.trouble = entry.error_text, entry.trouble_kind
            self.retried = entry.retried_text
            self.polling = self._group.polling
            self.last_checked = epoch_ms(stamp.checked_at)
            self.next_check = epoch_ms(stamp.next_check)
            self.poll_interval = stamp.interval
