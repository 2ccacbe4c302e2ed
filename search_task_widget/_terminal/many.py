"""The terminal's views of many tasks: ``watch`` with several task ids, and ``ingest``.

Both keep one live status line on a terminal (a line every :data:`LOG_EVERY` seconds
otherwise: a log or CI gets progress without a flood), then print a summary (``text``) or
a JSON document (``json``, progress on stderr). Both decide the exit status:
0 when everything succeeded, 1 when something failed (a task FAILED, an entry failed or
was invalid), 3 when watching stopped on an error, the timeout's code when time ran out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from .._ingest.job import IngestJob
from .._model.errors import TERMINAL_EXPIRED_ADVICE, SearchTaskError
from .._model.task import format_duration
from .._model.vocabulary import NOT_CHECKED_YET, SUCCESS, UNCHECKED
from .._tracking.group import News, TaskGroup
from .._tracking.schedule import Clock
from .view import (
    CLEAR_LINE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_POLLING_ERROR,
    EXIT_SUCCESS,
    Output,
    emit,
    emit_raw,
    visible,
)

#: Seconds between two progress lines when the output is not a terminal.
LOG_EVERY = 10.0


class _Progress:
    """One live line (a terminal) or a line now and then (anything else)."""

    def __init__(self, output: Output, clock: Clock) -> None:
        self.out = output
        self.stream = output.stderr if output.json else output.stdout
        self.live = _is_tty(self.stream)
        self.clock = clock
        self.started = clock.monotonic()
        self._logged: str | None = None
        self._logged_at = -LOG_EVERY
        self._drawn = False

    def show(self, text: str) -> None:
        if self.live:
            emit_raw(self.stream, CLEAR_LINE + visible(text)[:200])
            self._drawn = True
            return
        now = self.clock.monotonic()
        if text != self._logged and now - self._logged_at >= LOG_EVERY:
            emit(self.stream, text + "\n")
            self._logged, self._logged_at = text, now

    def clear(self) -> None:
        if self._drawn:
            emit_raw(self.stream, CLEAR_LINE)
            self._drawn = False

    def line(self, text: str) -> None:
        self.clear()
        emit(self.stream, text + "\n")

    @property
    def elapsed(self) -> str:
        return format_duration(self.clock.monotonic() - self.started)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _loop(
    progress: _Progress,
    ready: threading.Event,
    finished: Callable[[], bool],
    line: Callable[[], str],
    timeout: float | None,
) -> bool:
    """Redraw ``line()`` (at least once) until ``finished()``; False when ``timeout`` ran
    out first."""
    deadline = None if timeout is None else progress.started + timeout
    while True:
        progress.show(line())
        if finished():
            return True
        now = progress.clock.monotonic()
        if deadline is not None and now >= deadline:
            return False
        pause = 1.0 if deadline is None else min(1.0, deadline - now)
        progress.clock.wait(ready, pause)
        ready.clear()


# -- many tasks -------------------------------------------------------------------------------


class ManyTasksView:
    """Draws a group of many tasks (the group calls the underscored methods on the poller
    thread; they only wake the main thread)."""

    def __init__(self, output: Output, clock: Clock, timeout: float | None) -> None:
        self.progress = _Progress(output, clock)
        self.out = output
        self.timeout = timeout
        self.ready = threading.Event()

    def _render(self, news: News) -> None:
        self.ready.set()

    def _group_ended(self) -> None:
        self.ready.set()

    def _credentials_expired(self, error: SearchTaskError) -> str:
        return TERMINAL_EXPIRED_ADVICE

    def run(self, group: TaskGroup, header: str) -> int | None:
        """Watch every task of ``group`` until all ended (or stopped on errors); the exit
        status, or None when the timeout ran out."""
        self.progress.line(header)
        group.start()
        try:
            ended = _loop(
                self.progress,
                self.ready,
                lambda: not group.polling,
                lambda: self._line(group),
                self.timeout,
            )
        except KeyboardInterrupt:
            self.progress.line("Interrupted: stopped watching (the tasks keep running).")
            return EXIT_INTERRUPTED
        finally:
            group.stop()
            if self.out.bell:
                emit_raw(self.out.stderr, "\a")
        self.progress.clear()
        self._report(group, ended)
        return self._status(group) if ended else None

    def _line(self, group: TaskGroup) -> str:
        counts = ", ".join(
            f"{n} {NOT_CHECKED_YET if s == UNCHECKED else s}" for s, n in group.counts().items()
        )
        return f"{len(group.entries)} tasks: {counts} - elapsed {self.progress.elapsed}"

    def _report(self, group: TaskGroup, ended: bool) -> None:
        entries = group.entries
        if self.out.json:
            rows = [
                e.task.to_document() if e.task else {"task_id": e.task_id, "state": None}
                for e in entries
            ]
            for row, e in zip(rows, entries, strict=True):
                if e.fatal is not None:
                    row["error"] = e.fatal_text
            emit(self.out.stdout, json.dumps(rows, indent=2) + "\n")
            return
        if not ended:
            emit(self.out.stderr, f"Timed out after {self.timeout:g} s.\n")
        for e in entries:
            state = e.state or "not checked"
            note = e.fatal_text or (e.task.message if e.task and e.task.message else "")
            emit(self.out.stdout, f"{e.task_id}  {state:<9} {note}".rstrip() + "\n")
        emit(self.out.stdout, self._line(group) + "\n")

    @staticmethod
    def _status(group: TaskGroup) -> int:
        entries = group.entries
        if any(e.fatal is not None and not e.ended for e in entries):
            return EXIT_POLLING_ERROR
        if all(e.state == SUCCESS for e in entries):
            return EXIT_SUCCESS
        return EXIT_FAILED


# -- ingest -----------------------------------------------------------------------------------


def run_ingest(job: IngestJob, output: Output, clock: Clock, timeout: float | None) -> int | None:
    """Follow ``job`` to its end; the exit status (None: ``timeout`` ran out; the job was
    stopped, and the journal resumes it)."""
    progress = _Progress(output, clock)
    ready = threading.Event()
    job.on_change(ready.set)
    progress.line(f"Ingesting {job.describe_source()} into {job.index_id} on {job.url}")
    try:
        ended = _loop(progress, ready, lambda: job.ended, job.status_line, timeout)
    except KeyboardInterrupt:
        job.stop()
        progress.line("Interrupted: stopped sending." + _resume_hint(job))
        return EXIT_INTERRUPTED
    if not ended:
        job.stop()
    progress.clear()
    summary = job.summary()
    if output.json:
        emit(output.stdout, json.dumps({**summary, "failed": job.failed}, indent=2) + "\n")
    else:
        emit(output.stdout, job.describe() + "\n")
    if job.error is not None:
        emit(output.stderr, f"Error: {job.error}.{_resume_hint(job)}\n")
        return EXIT_POLLING_ERROR
    if not ended:
        emit(output.stderr, f"Timed out after {timeout:g} s.{_resume_hint(job)}\n")
        return None
    entries = summary["entries"]
    return EXIT_FAILED if entries["failed"] or entries["invalid"] else EXIT_SUCCESS


def _resume_hint(job: IngestJob) -> str:
    if job.journal.path is None:
        return " (with --journal FILE, running the same command again would resume)"
    return f" Run the same command again to resume from {job.journal.path}."
