"""The terminal view of a :class:`~.group.TaskGroup` of one task (the command line's output).

The core watches the task on the poller; its news arrives here on the poller thread and is
only recorded (a queue); the main thread reads the queue and does all the printing:

* One line per change of state, e.g. ``2026-01-01T00:00:00Z PENDING Task is waiting to
  start``, so the history stays on screen (and in a log) once the summary prints.
* On a terminal, below them, one live status line rewritten in place (state, description,
  elapsed time ticking every second, any retry in progress), cut at a word to the
  terminal's width.
* Otherwise (a pipe, a log file, CI), one more line per retry instead.
* At the end, the ``text`` format prints a summary like ``globus search task show``; the
  ``json`` format prints the final Task document on stdout and sends everything else to
  stderr, so stdout stays machine-readable.

Service text is never trusted: control and format characters are written as escapes.

Why not ``rich``: the live line is one ``\r`` + erase-line write per second, which the
standard library does in a few lines; ``rich`` would add a dependency (and its own markup,
which service text would have to be escaped from) to every notebook install for it.
"""

from __future__ import annotations

import collections
import io
import json
import math
import os
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

from .._model.errors import TERMINAL_EXPIRED_ADVICE, SearchTaskError
from .._model.task import Task, format_duration
from .._model.timing import NOT_SEEN, Phases, phases
from .._model.vocabulary import PROGRESS, QUEUED_STATES, SUCCESS, utc_stamp
from .._tracking.group import Entry, News, TaskGroup
from .._tracking.poller import Schedule
from .._tracking.schedule import Clock

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_POLLING_ERROR = 3
EXIT_INTERRUPTED = 130

#: Back to the start of the line and erase it (a live status line on a terminal).
CLEAR_LINE = "\r\x1b[2K"


# -- safe output ----------------------------------------------------------------------------


def emit(stream: TextIO, text: str) -> None:
    """Write ``text`` with every control or format character escaped (newlines kept)."""
    emit_raw(stream, visible(text))


def emit_raw(stream: TextIO, text: str) -> None:
    """Write ``text`` as it is (our own control sequences) and flush."""
    stream.write(text)
    stream.flush()


# Control (Cc), format (Cf: bidi overrides, zero-width), surrogates, private use and the
# line/paragraph separators: what could move the cursor, rewrite the clipboard (OSC 52) or
# reorder text on a terminal.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def visible(text: str) -> str:
    """``text`` safe for a terminal: such characters written as escapes (``\\x1b``,
    ``\\u202e``), as ``repr`` does; newlines kept."""
    if text.isprintable():
        return text
    return "".join(
        char
        if char == "\n" or unicodedata.category(char) not in _HIDDEN_CATEGORIES
        else repr(char)[1:-1]
        for char in text
    )


def _date_text(moment: datetime | None, as_sent: str | None) -> str | None:
    """A task's date as the progress lines write theirs (UTC, ``Z``); as the service sent it
    if it could not be read."""
    return as_sent if moment is None else utc_stamp(moment.timestamp())


#: Where a live line was cut (ASCII: a terminal's encoding may have no "…").
ELLIPSIS = "..."


def fit(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns: whole, or cut after its last whole word that
    fits, with :data:`ELLIPSIS` (mid-word only when a single word is that long)."""
    if len(text) <= width:
        return text
    room = max(0, width - len(ELLIPSIS))
    cut = text[: room + 1]  # one more: a space there means the last word fits whole
    head = cut[: cut.rfind(" ")] if " " in cut else text[:room]
    return head.rstrip(" -:,;(") + ELLIPSIS


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _width(stream: TextIO) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return 80
    return max(20, columns) if columns > 0 else 80  # 0: the terminal did not say


def _state_text(task: Task) -> str:
    if task.state_description:
        return f"{task.state} ({task.state_description})"
    return task.state


def format_summary(task: Task, now: datetime | None = None, started: float | None = None) -> str:
    """A Task as ``globus search task show`` lays it out, plus how long it took, queued
    and ran (``started``: when it was first seen running, epoch seconds) as the widget says
    it (one timing truth, :mod:`.._model.timing`); a field the document leaves empty (a
    success's message, a running task's completion) is left out."""
    spans = _phases(task, now, started)
    rows = [
        ("State", _state_text(task)),
        ("Task ID", task.task_id),
        ("Task Type", task.task_type),
        ("Index ID", task.index_id),
        ("Message", task.message),
        ("Creation Date", _date_text(task.created_at, task.creation_date)),
        ("Completion Date", _date_text(task.completed_at, task.completion_date)),
        ("Elapsed", format_duration(spans.elapsed)),
        ("Queued", _part(spans.queued, spans.elapsed)),
        ("Running", _part(spans.running, spans.elapsed)),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{label + ':':<{width}}{value}" for label, value in rows if value is not None]
    if task.additional_details:
        lines.append("Additional Details:")
        lines.append(json.dumps(task.additional_details, indent=2, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _phases(task: Task, now: datetime | None, started: float | None) -> Phases:
    created, completed = task.created_at, task.completed_at
    clock = now or datetime.now(timezone.utc)
    return phases(
        created.timestamp() * 1000 if created else None,
        started * 1000 if started is not None else None,
        completed.timestamp() * 1000 if completed else None,
        clock.timestamp() * 1000,
        waiting=task.state in QUEUED_STATES,
    )


def _part(seconds: int | None, elapsed: int | None) -> str | None:
    if seconds is not None:
        return format_duration(seconds)
    return NOT_SEEN if elapsed is not None else None


# -- the view -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """Where and how the terminal view writes."""

    stdout: TextIO
    stderr: TextIO
    json: bool = False  # the final document as JSON on stdout, progress on stderr
    heartbeat: bool = False  # off a terminal, a line for each check that changed nothing
    bell: bool = False  # ring the terminal bell (on stderr) when the watching ends


class TerminalView:
    """Draws a group of one task in a terminal, a pipe or a log; decides the exit status.

    The group calls :meth:`_render` on the poller thread, which only queues the news;
    :meth:`run` (main thread) prints.
    """

    def __init__(self, output: Output, clock: Clock, timeout: float | None) -> None:
        self.out = output
        # Progress goes to stdout in text mode, to stderr when stdout carries the JSON.
        self.progress = output.stderr if output.json else output.stdout
        self.live = _is_tty(self.progress)
        self.clock = clock
        self.timeout = timeout
        self.ready = threading.Event()
        self._news: collections.deque[News] = collections.deque()
        self.task: Task | None = None
        self._seen_running: float | None = None  # when the task was first seen running
        self.trouble: tuple[SearchTaskError, Schedule] | None = None
        self._shown: tuple[str, str] | None = None  # (state, description) last printed
        self._line_drawn = False
        self._started = clock.monotonic()

    # -- what the core calls (poller thread: record only, never print) ----------------------

    def _render(self, news: News) -> None:
        if news.kind in ("task", "trouble", "fatal"):
            self._news.append(news)  # deque appends and pops are thread safe
            self.ready.set()

    def _group_ended(self) -> None:
        """Nothing to do: the last news says how it ended."""

    def _credentials_expired(self, error: SearchTaskError) -> str:
        return TERMINAL_EXPIRED_ADVICE

    # -- the loop (main thread) -------------------------------------------------------------

    def run(self, group: TaskGroup, header: str) -> int | None:
        """Watch the group's task until it ends; return the exit status, or None when the
        timeout ran out (after saying so)."""
        (entry,) = group.entries
        self._line(header)
        deadline = None if self.timeout is None else self._started + self.timeout
        try:
            group.start()
            while True:
                for news in self._drain():
                    status = self._handle(news, entry)
                    if status is not None:
                        return status
                now = self.clock.monotonic()
                if deadline is not None and now >= deadline:
                    self._timed_out(entry.task_id)
                    return None
                if self.live:
                    self._draw(entry.task_id)
                pause = 1.0 if deadline is None else min(1.0, deadline - now)
                self.clock.wait(self.ready, pause)
                self.ready.clear()  # news that came meanwhile is drained next
        except KeyboardInterrupt:
            self._clear()
            emit(
                self.out.stderr,
                f"Interrupted: stopped watching task {entry.task_id} "
                "(the task itself keeps running on the service).\n",
            )
            return EXIT_INTERRUPTED
        finally:
            group.stop()
            if self.out.bell:  # however it ended: the person wanted to know it did
                emit_raw(self.out.stderr, "\a")

    def _drain(self) -> list[News]:
        found = []
        while True:
            try:
                found.append(self._news.popleft())
            except IndexError:
                return found

    def _handle(self, news: News, entry: Entry) -> int | None:
        self._seen_running = entry.stage_times.get(PROGRESS)
        if news.kind == "task" and news.task is not None and news.schedule is not None:
            return self._on_task(news.task, news.schedule)
        if news.kind == "trouble" and news.error is not None and news.schedule is not None:
            self.trouble = (news.error, news.schedule)
            if not self.live:
                schedule = news.schedule
                wait = math.ceil(max(0.0, (schedule.next_check or 0) - schedule.checked_at))
                self._line(
                    f"{utc_stamp(schedule.checked_at)} RETRYING in {wait} s "
                    f"(attempt {schedule.failures}): {news.error}"
                )
            return None
        if news.kind == "fatal" and news.error is not None:
            return self._fatal(news.error, entry.fatal_advice)
        return None

    def _on_task(self, task: Task, schedule: Schedule) -> int | None:
        self.task = task
        recovered, self.trouble = self.trouble is not None, None
        shown = (task.state, task.state_description)
        stamp = utc_stamp(schedule.checked_at)
        # A terminal keeps the history of states above its live line, which shows retries.
        if shown != self._shown or (recovered and not self.live):
            self._line(f"{stamp} {task.state} {task.state_description}".rstrip())
        elif not self.live and self.out.heartbeat:
            elapsed = format_duration(task.elapsed(self._now()))
            self._line(f"{stamp} {task.state} still, elapsed {elapsed}")
        self._shown = shown
        if not task.is_terminal:
            return None
        self._clear()
        self._report(task)
        return EXIT_SUCCESS if task.state == SUCCESS else EXIT_FAILED

    def _fatal(self, error: SearchTaskError, hint: str) -> int:
        self._clear()
        if not self.live:
            self._line(f"{utc_stamp(self.clock.time())} STOPPED polling: {error.summary}")
        text = f"Error: {error}"
        if error.request_id:
            text += f" (request id {error.request_id})"
        emit(self.out.stderr, text + "\n" + (f"Hint: {hint}\n" if hint else ""))
        return EXIT_POLLING_ERROR

    def _timed_out(self, task_id: str) -> None:
        self._clear()
        where = f"still {_state_text(self.task)}" if self.task else "not answered yet"
        emit(self.out.stderr, f"Timed out after {self.timeout:g} s: task {task_id} is {where}.\n")
        if self.task is not None:
            # The last known document, so a script can still see how far the task got.
            self._report(self.task, self._now())

    def _report(self, task: Task, now: datetime | None = None) -> None:
        """The final (or last known) document: JSON, or the summary."""
        if self.out.json:
            # Strict JSON (JSON.parse refuses NaN): the document was made JSON-safe where
            # it was read (bounded_document), so allow_nan=False only states it.
            document = task.to_document()
            emit(self.out.stdout, json.dumps(document, indent=2, allow_nan=False) + "\n")
        else:
            emit(self.out.stdout, "\n" + format_summary(task, now, self._seen_running))

    # -- output helpers ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), timezone.utc)

    def _line(self, text: str) -> None:
        """A permanent line of progress output."""
        self._clear()
        emit(self.progress, text + "\n")

    def _clear(self) -> None:
        if self._line_drawn:
            emit_raw(self.progress, CLEAR_LINE)
            self._line_drawn = False

    def _draw(self, task_id: str) -> None:
        """Rewrite the live status line (terminal only)."""
        if self.task is None:
            waited = format_duration(self.clock.monotonic() - self._started)
            text = f"Checking task {task_id}... ({waited})"
        else:
            elapsed = format_duration(self.task.elapsed(self._now()))
            text = f"{_state_text(self.task)} - elapsed {elapsed}"
        if self.trouble is not None:
            error, schedule = self.trouble
            left = math.ceil(max(0.0, (schedule.next_check or 0) - self.clock.time()))
            status = f" (HTTP {error.http_status})" if error.http_status else ""
            when = f"in {left} s" if left > 0 else "now"
            text += f" - retrying {when}: {error.summary}{status}"
        text = fit(visible(text), _width(self.progress) - 1)  # the last column would wrap
        emit_raw(self.progress, CLEAR_LINE + text)
        self._line_drawn = True
