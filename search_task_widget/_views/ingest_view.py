"""``stw.ingest``: an :class:`~.._ingest.job.IngestJob` that shows itself live in a notebook.

Displayed, a job is two views: a header (entries read / invalid / sent / indexed / failed,
batches, throughput and time left, the first failed subjects with their reasons, and what
the job had to say, e.g. a resend after no answer), plain HTML updated in place, and a
:class:`~.list_widget.TaskListWidget` of its batches' tasks, whose timeline shows them
queue, run and end. The list polls on the same pooled client and poller as the job, so
its watches share the job's ``task_list`` requests and request budget. Without a browser,
the job's ``repr`` says the same in text.
"""

from __future__ import annotations

import contextlib
import functools
import html
import threading
import time
import uuid
from typing import Any

from .._ingest.job import IngestJob, connect
from .._model.errors import SearchTaskError
from .._tracking.cells import after_next_execution, follow_executions, in_current_execution
from .list_widget import TaskListWidget

#: Seconds between two redraws of the header (the end is always drawn).
REDRAW_EVERY = 0.5
#: Failed entries the header lists (all of them are in ``job.failed``).
SHOWN_FAILURES = 10


class NotebookIngestJob(IngestJob):
    """An :class:`IngestJob` with a live notebook view (see the module docstring).

    The header is a plain HTML display (no widget model) brought up to date in place, so
    a saved notebook keeps its last state; the batches are a
    :class:`~.list_widget.TaskListWidget`, which becomes a static document once its
    tasks ended, as every list does.
    """

    def __init__(self, *args: Any, auth: object = None, **kwargs: Any) -> None:
        self._auth = auth
        self._display_ids: list[str] = []
        self._batches_view: TaskListWidget | None = None
        self._view_lock = threading.RLock()
        self._drawn_at = 0.0
        self._listed = 0  # batches' tasks already in the list view
        super().__init__(*args, **kwargs)
        self.on_change(self._redraw)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        follow_executions()  # later updates go out with the cell that runs then
        with self._view_lock:
            if self._batches_view is None:
                self._batches_view = TaskListWidget(
                    auth=self._auth, base_url=self.url, index_id=self.index_id,
                    poller=self._poller, poll_interval=self.group.min_interval, start=True,
                )  # fmt: skip
            display_id = uuid.uuid4().hex
            self._display_ids.append(display_id)
            display(self._bundle(), raw=True, display_id=display_id)
            self._add_new_batches()
            display(self._batches_view)
        if not self.ended:
            after_next_execution(self._redraw_at_the_end)

    def _repr_html_(self) -> str:
        """The header alone, for front ends that show HTML but not IPython displays."""
        return self._header_html()

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """As :meth:`IngestJob.wait`; the views show the end before it returns."""
        summary = super().wait(timeout)
        self._redraw(force=True)
        if self._batches_view is not None:
            # Its tasks ended: one more check at most. The view's own trouble (closed by
            # the user, say) is no reason to fail the job's wait().
            with contextlib.suppress(SearchTaskError, TimeoutError):
                self._batches_view.wait(timeout)
        return summary

    def _redraw_at_the_end(self) -> None:
        """After an execution: draw again if the job ended, else ask after the next one
        (an end between two executions would be dropped by headless executors)."""
        self._redraw(force=True)
        if not self.ended:
            after_next_execution(self._redraw_at_the_end)

    def _redraw(self, force: bool = False) -> None:
        """Bring the views up to date (at most every :data:`REDRAW_EVERY` seconds, and at
        the end). Called on the job's thread and the main thread."""
        now = time.monotonic()
        if not (force or self.ended or now - self._drawn_at >= REDRAW_EVERY):
            return
        from IPython.display import update_display

        with self._view_lock:
            if not self._display_ids:
                return
            self._drawn_at = now
            self._add_new_batches()
            bundle = self._bundle()
            for display_id in self._display_ids:
                in_current_execution(
                    functools.partial(update_display, bundle, raw=True, display_id=display_id)
                )

    def _add_new_batches(self) -> None:
        if self._batches_view is None:
            return
        for entry in self.group.entries[self._listed :]:
            self._batches_view.add(entry.task_id)
            self._listed += 1

    def _bundle(self) -> dict[str, str]:
        return {"text/html": self._header_html(), "text/plain": repr(self)}

    def _header_html(self) -> str:
        lines = self.describe().splitlines()
        shown = [f"<b>{html.escape(lines[0])}</b>"]
        shown += [html.escape(line) for line in lines[1:2]]
        failures = self.journal.failed_rows(limit=SHOWN_FAILURES)
        if failures:
            items = "".join(
                f"<li><code>{html.escape(f['subject'][:120] or '(no subject)')}</code>: "
                f"{html.escape(f['reason'])}</li>"
                for f in failures
            )
            where = "all of them in <code>job.failed</code>"
            shown.append(f"Failed or invalid entries ({where}):<ul>{items}</ul>")
        shown += [html.escape(note) for note in self.notes[-3:]]
        if self.error is not None:
            shown.append(f"<b>Stopped:</b> {html.escape(str(self.error))}")
        return "<div class='stw-ingest'>" + "<br>".join(shown) + "</div>"


def ingest(
    index_id: str,
    entries: object,
    auth: object = None,
    base_url: str | None = None,
    journal: object = None,
    **options: Any,
) -> NotebookIngestJob:
    """Ingest a catalogue into an index: validated against Search's limits, batched in
    order under the request size limit, sent within the request budget the poller uses,
    each batch's task watched, failures mapped back to entries, all in a journal.

    Args:
        index_id: the index (a UUID).
        entries: GMetaEntry dicts (any iterable: a generator is streamed), a GIngest
            dict, or paths of ``.json`` / ``.jsonl`` files (or a list mixing these).
        auth: what :class:`~search_task_widget.TaskWidget` accepts (a ``SearchClient``,
            with its service URL, a ``GlobusApp``, an authorizer, an access token, or None).
        base_url: the Search service (default: that of ``auth``, else globus-sdk's).
        journal: a file path: the job is recorded there, and calling ``ingest`` again with
            it (after a kernel restart, say) goes on where it stopped, sending nothing that
            succeeded. None: no journal (in memory).
        options: ``limits`` (a :class:`Limits`), ``poller``, ``poll_interval``,
            ``give_up_after``, ``window_bytes``, ``window_batches``.

    Returns the running job: display it (last line of a cell) for the live view;
    ``job.wait()`` blocks until it ends and returns ``job.summary()``; ``job.failed`` lists
    invalid and failed entries with the reason; ``job.retry_failed()`` sends the failed
    ones again.
    """
    credentials, url = connect(auth, base_url)
    return NotebookIngestJob(
        index_id, entries, credentials=credentials, url=url, journal=journal, auth=auth, **options
    )
