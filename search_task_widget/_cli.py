"""The terminal watcher: ``python -m search_task_widget watch TASK_ID`` (or ``search-task-watch``).

It follows one Search task until it ends, through the same background :class:`~._poller.Poller`
as the notebook widget. The poller thread only records what it learns (a listener that puts
events in a queue); the main thread reads the queue and does all the printing.

Output:

* On a terminal, one live status line is rewritten in place (state, description, elapsed
  time ticking every second, any retry in progress).
* Otherwise (a pipe, a log file, CI), one line per change of state, e.g.
  ``2026-01-01T00:00:00Z PENDING Task is waiting to start``, plus one line per retry.
* At the end, ``--format text`` prints a summary like ``globus search task show``;
  ``--format json`` prints the final Task document on stdout and sends everything else to
  stderr, so stdout stays machine-readable.

Exit statuses (see :data:`EXIT_STATUSES`): 0 SUCCESS, 1 FAILED (or CANCELLED, or any other
final state that is not SUCCESS), 2 usage error or bad task id, 3 polling stopped on an error
(401, 403, 404, gave up after an outage), 124 timeout (``--timeout-exit-code``), 130 Ctrl-C.

The access token comes only from ``$SEARCH_TASK_WIDGET_TOKEN``: a token on the command line
would end up in shell history and process listings. It is never printed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import math
import os
import sys
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, NoReturn, TextIO

from ._auth import TOKEN_ENV_VAR, resolve_auth
from ._client import TaskClient, host_of, is_loopback, resolve_base_url
from ._errors import SearchTaskError
from ._hub import HUB_ENV_VAR
from ._login import CLIENT_ID_ENV_VAR
from ._poller import Poller, Schedule, Watch, default_poller
from ._schedule import (
    MAX_INTERVAL_FACTOR,
    AdaptiveInterval,
    Clock,
    SystemClock,
    polling_bounds,
)
from ._task import Task, format_duration, normalize_task_id

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_POLLING_ERROR = 3
#: Like coreutils ``timeout``; ``globus task wait`` uses 1, which here already means FAILED.
DEFAULT_TIMEOUT_EXIT_CODE = 124
EXIT_INTERRUPTED = 130

EXIT_STATUSES = (
    (EXIT_SUCCESS, "the task ended in SUCCESS"),
    (EXIT_FAILED, "the task ended in FAILED, CANCELLED or another state that is not SUCCESS"),
    (EXIT_USAGE, "usage error: bad option, bad task id, unknown scenario"),
    (EXIT_POLLING_ERROR, "polling stopped on an error (401, 403, 404, gave up after an outage)"),
    (DEFAULT_TIMEOUT_EXIT_CODE, "--timeout ran out (change it with --timeout-exit-code)"),
    (EXIT_INTERRUPTED, "interrupted with Ctrl-C (the task itself keeps running)"),
)

#: Back to the start of the line and erase it (a live status line on a terminal).
CLEAR_LINE = "\r\x1b[2K"


# -- command line ---------------------------------------------------------------------------


class _ParserExit(Exception):
    """argparse wanted to exit; main() returns ``status`` instead of exiting the process."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that writes to the given streams and never calls sys.exit()."""

    def __init__(self, *args: Any, out: TextIO, err: TextIO, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._out, self._err = out, err

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            _emit(self._out if file is sys.stdout else self._err, message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            _emit(self._err, message)
        raise _ParserExit(status)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def _exit_code(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to 255, got {text!r}"
        ) from None
    if not 0 <= value <= 255:
        raise argparse.ArgumentTypeError(f"must be from 0 to 255, got {value}")
    return value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def no_credentials_advice(url: str, environ: Mapping[str, str] | None = None) -> str:
    """What to do in a terminal when no credentials were found for ``url``: environment
    variables to set, and what was found but is not usable (never a token)."""
    env = os.environ if environ is None else environ
    lines = [f"no Globus credentials for {url}. This command never signs in; either:"]
    lines.append(
        f"  - put an access token (Search ingest or all scope) in ${TOKEN_ENV_VAR} without "
        f"typing it on the command line: read -rs {TOKEN_ENV_VAR} && export {TOKEN_ENV_VAR}"
    )
    client_id = env.get(CLIENT_ID_ENV_VAR, "").strip()
    if client_id:
        lines.append(
            f"  - sign in once from a notebook (stw.sign_in()) with the same "
            f"${CLIENT_ID_ENV_VAR}: none is stored yet for {client_id} under ~/.globus/app/"
        )
    else:
        lines.append(
            "  - sign in once from a notebook (stw.sign_in()), then export "
            f"{CLIENT_ID_ENV_VAR}=<that native app's client id> here so its stored tokens "
            "are found"
        )
    if env.get(HUB_ENV_VAR, "").strip():
        lines.append(
            f"${HUB_ENV_VAR} is set (JupyterHub) but holds no Search token: the hub admin "
            "must add a Search scope to GlobusOAuthenticator.scope and keep auth state; then "
            "log in to the hub again and restart your server"
        )
    return "\n".join(lines)


def _epilog() -> str:
    statuses = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_STATUSES)
    return (
        f"exit statuses:\n{statuses}\n\n"
        f"Credentials, in this order: an access token in ${TOKEN_ENV_VAR}, JupyterHub's\n"
        f"${HUB_ENV_VAR}, or the tokens a notebook sign-in stored (with ${CLIENT_ID_ENV_VAR}).\n"
        "The token needs the Search ingest or all scope, and the owner, admin or writer role\n"
        "on the task's index; there is no option for it on purpose. It is never printed.\n\n"
        "examples:\n"
        "  search-task-watch watch 05c1ec1b-2400-44e2-9797-922c29199042 --timeout 600\n"
        '  search-task-watch watch "$TASK_ID" --format json > task.json\n'
        "  python -m search_task_widget watch --demo failure"
    )


def _program_name() -> str:
    if os.path.basename(sys.argv[0] if sys.argv else "") == "__main__.py":
        return "python -m search_task_widget"
    return "search-task-watch"


def _parsers(out: TextIO, err: TextIO) -> tuple[_Parser, _Parser]:
    """The program's parser and its ``watch`` subcommand's (help and errors go to out/err)."""
    from ._version import __version__

    parser = _Parser(
        prog=_program_name(),
        description="Follow Globus Search tasks from a terminal, a script or CI.",
        out=out,
        err=err,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    watch = commands.add_parser(
        "watch",
        help="wait for a Search task to end, showing its progress",
        description=(
            "Wait for a Globus Search task (from ingest, delete_by_query, ...) to end, "
            "showing its state as it changes, then print a summary."
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        out=out,
        err=err,
    )
    watch.add_argument(
        "task_id",
        nargs="?",
        metavar="TASK_ID",
        help="the task to watch: the task_id of an ingest or delete reply (a UUID)",
    )
    watch.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="give up waiting after this many seconds (default: wait until the task ends)",
    )
    watch.add_argument(
        "--timeout-exit-code",
        type=_exit_code,
        default=DEFAULT_TIMEOUT_EXIT_CODE,
        metavar="N",
        help=(
            f"exit status when --timeout runs out (default {DEFAULT_TIMEOUT_EXIT_CODE}, like "
            "coreutils timeout; 'globus task wait' uses 1)"
        ),
    )
    watch.add_argument(
        "--polling-interval",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help=(
            "seconds between checks at first (default 1; at least 1 unless the service is on "
            "this machine); grows up to 10x while nothing changes, back on any change"
        ),
    )
    watch.add_argument(
        "--heartbeat",
        action="store_true",
        help=(
            "when the output is not a terminal, also print a line for each check that found "
            "no change (a terminal shows a live line anyway)"
        ),
    )
    watch.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help=(
            "text: a summary at the end (default); json: only the final Task document on "
            "stdout, progress on stderr"
        ),
    )
    watch.add_argument(
        "--base-url",
        metavar="URL",
        help=(
            "the Search service (default: as globus-sdk resolves it from "
            "$GLOBUS_SDK_SERVICE_URL_SEARCH or $GLOBUS_SDK_ENVIRONMENT, else "
            "https://search.api.globus.org/)"
        ),
    )
    watch.add_argument(
        "--demo",
        nargs="?",
        const="success",
        metavar="SCENARIO",
        help=(
            "watch a new task on the built-in simulator instead (no account, no network); "
            "SCENARIO: success (default), failure, slow-queue, outage, proxy-error, cancelled"
        ),
    )
    watch.add_argument(
        "--demo-speed",
        type=_speed,
        default=1.0,
        metavar="FACTOR",
        help="run the --demo timeline FACTOR times faster (default 1)",
    )
    watch.add_argument(  # issue #15
        "--bell",
        action="store_true",
        help="ring the terminal bell (on stderr) when the watching ends, however it ends",
    )
    return parser, watch


# -- what the poller thread reports ---------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    kind: str  # "task", "trouble" or "fatal"
    task: Task | None = None
    error: SearchTaskError | None = None
    schedule: Schedule | None = None


class _Recorder:
    """The poller's listener: records events for the main thread, never prints."""

    def __init__(self) -> None:
        self.ready = threading.Event()
        self._events: collections.deque[_Event] = collections.deque()

    def on_task(self, task: Task, schedule: Schedule) -> None:
        self._put(_Event("task", task=task, schedule=schedule))

    def on_trouble(self, error: SearchTaskError, schedule: Schedule) -> None:
        self._put(_Event("trouble", error=error, schedule=schedule))

    def on_fatal(self, error: SearchTaskError) -> None:
        self._put(_Event("fatal", error=error))

    def _put(self, event: _Event) -> None:
        self._events.append(event)  # deque appends and pops are thread safe
        self.ready.set()

    def drain(self) -> list[_Event]:
        events = []
        while True:
            try:
                events.append(self._events.popleft())
            except IndexError:
                return events


# -- rendering ------------------------------------------------------------------------------


def _emit(stream: TextIO, text: str) -> None:
    """Write ``text`` with every control or format character escaped (newlines kept)."""
    _emit_raw(stream, visible(text))


def _emit_raw(stream: TextIO, text: str) -> None:
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


def _utc_stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def format_summary(task: Task, now: datetime | None = None) -> str:
    """A Task as ``globus search task show`` lays it out, plus the elapsed time."""
    rows = [
        ("State", _state_text(task)),
        ("Task ID", task.task_id),
        ("Task Type", task.task_type),
        ("Index ID", task.index_id),
        ("Message", task.message),
        ("Creation Date", task.creation_date),
        ("Completion Date", task.completion_date),
        ("Elapsed", format_duration(task.elapsed(now))),
    ]
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{label + ':':<{width}}{'None' if value is None else value}" for label, value in rows]
    if task.additional_details:
        lines.append("Additional Details:")
        lines.append(json.dumps(task.additional_details, indent=2, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _hint(error: SearchTaskError) -> str:
    return {
        400: "Check the task id.",
        401: f"Set ${TOKEN_ENV_VAR} to a fresh access token with the Search ingest scope, "
        "or sign in again from a notebook.",
        403: "The token's identity needs the owner, admin or writer role on the task's index.",
        404: "Check the task id, and that --base-url (or $GLOBUS_SDK_ENVIRONMENT) points at "
        "the Search service where the task was created.",
    }.get(error.http_status or 0, "")


class _Watcher:
    """Runs one watch: owns the output, reads events, decides the exit status."""

    def __init__(
        self,
        *,
        task_id: str,
        client: TaskClient,
        poller: Poller,
        clock: Clock,
        stdout: TextIO,
        stderr: TextIO,
        output_format: str,
        timeout: float | None,
        timeout_exit_code: int,
        interval: float,
        heartbeat: bool,
    ) -> None:
        self.task_id = task_id
        self.client = client
        self.poller = poller
        self.clock = clock
        self.stdout, self.stderr = stdout, stderr
        self.json = output_format == "json"
        # Progress goes to stdout in text mode, to stderr when stdout carries the JSON.
        self.progress = stderr if self.json else stdout
        self.live = _is_tty(self.progress)
        self.timeout = timeout
        self.timeout_exit_code = timeout_exit_code
        self.heartbeat = heartbeat
        self.recorder = _Recorder()
        self.watch = Watch(
            task_id=task_id,
            client=client,
            listener=self.recorder,
            interval=AdaptiveInterval(interval, interval * MAX_INTERVAL_FACTOR),
        )
        self.task: Task | None = None
        self.trouble: tuple[SearchTaskError, Schedule] | None = None
        self._shown: tuple[str, str] | None = None  # (state, description) last printed
        self._line_drawn = False
        self._started = clock.monotonic()

    # -- the loop ---------------------------------------------------------------------------

    def run(self, header: str) -> int:
        self._line(header)
        deadline = None if self.timeout is None else self._started + self.timeout
        try:
            self.poller.add(self.watch)
            while True:
                for event in self.recorder.drain():
                    status = self._handle(event)
                    if status is not None:
                        return status
                now = self.clock.monotonic()
                if deadline is not None and now >= deadline:
                    return self._timed_out()
                if self.live:
                    self._draw()
                pause = 1.0 if deadline is None else min(1.0, deadline - now)
                self.clock.wait(self.recorder.ready, pause)
                self.recorder.ready.clear()  # events that came meanwhile are drained next
        except KeyboardInterrupt:
            self._clear()
            _emit(
                self.stderr,
                f"Interrupted: stopped watching task {self.task_id} "
                "(the task itself keeps running on the service).\n",
            )
            return EXIT_INTERRUPTED
        finally:
            self.poller.remove(self.watch)

    def _handle(self, event: _Event) -> int | None:
        if event.kind == "task" and event.task is not None and event.schedule is not None:
            return self._on_task(event.task, event.schedule)
        if event.kind == "trouble" and event.error is not None and event.schedule is not None:
            self.trouble = (event.error, event.schedule)
            if not self.live:
                wait = math.ceil(
                    max(0.0, (event.schedule.next_check or 0) - event.schedule.checked_at)
                )
                self._line(
                    f"{_utc_stamp(event.schedule.checked_at)} RETRYING in {wait} s "
                    f"(attempt {event.schedule.failures}): {event.error}"
                )
            return None
        if event.kind == "fatal" and event.error is not None:
            return self._fatal(event.error)
        return None

    def _on_task(self, task: Task, schedule: Schedule) -> int | None:
        self.task = task
        recovered, self.trouble = self.trouble is not None, None
        shown = (task.state, task.state_description)
        if not self.live:
            stamp = _utc_stamp(schedule.checked_at)
            if shown != self._shown or recovered:
                self._line(f"{stamp} {task.state} {task.state_description}".rstrip())
            elif self.heartbeat:
                elapsed = format_duration(task.elapsed(self._now()))
                self._line(f"{stamp} {task.state} still, elapsed {elapsed}")
        self._shown = shown
        if not task.is_terminal:
            return None
        self._clear()
        if self.json:
            _emit(self.stdout, json.dumps(task.to_document(), indent=2) + "\n")
        else:
            _emit(self.stdout, ("" if self.live else "\n") + format_summary(task))
        return EXIT_SUCCESS if task.state == "SUCCESS" else EXIT_FAILED

    def _fatal(self, error: SearchTaskError) -> int:
        self._clear()
        if not self.live:
            self._line(f"{_utc_stamp(self.clock.time())} STOPPED polling: {error.summary}")
        text = f"Error: {error}"
        if error.request_id:
            text += f" (request id {error.request_id})"
        hint = _hint(error)
        _emit(self.stderr, text + "\n" + (f"Hint: {hint}\n" if hint else ""))
        return EXIT_POLLING_ERROR

    def _timed_out(self) -> int:
        self._clear()
        where = f"still {_state_text(self.task)}" if self.task else "not answered yet"
        _emit(
            self.stderr,
            f"Timed out after {self.timeout:g} s: task {self.task_id} is {where}.\n",
        )
        if self.task is not None:
            # The last known document, so a script can still see how far the task got.
            if self.json:
                _emit(self.stdout, json.dumps(self.task.to_document(), indent=2) + "\n")
            else:
                _emit(
                    self.stdout,
                    ("" if self.live else "\n") + format_summary(self.task, self._now()),
                )
        return self.timeout_exit_code

    # -- output helpers ---------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), timezone.utc)

    def _line(self, text: str) -> None:
        """A permanent line of progress output."""
        self._clear()
        _emit(self.progress, text + "\n")

    def _clear(self) -> None:
        if self._line_drawn:
            _emit_raw(self.progress, CLEAR_LINE)
            self._line_drawn = False

    def _draw(self) -> None:
        """Rewrite the live status line (terminal only)."""
        if self.task is None:
            waited = format_duration(self.clock.monotonic() - self._started)
            text = f"Checking task {self.task_id}... ({waited})"
        else:
            elapsed = format_duration(self.task.elapsed(self._now()))
            text = f"{_state_text(self.task)} - elapsed {elapsed}"
        if self.trouble is not None:
            error, schedule = self.trouble
            left = math.ceil(max(0.0, (schedule.next_check or 0) - self.clock.time()))
            status = f" (HTTP {error.http_status})" if error.http_status else ""
            when = f"in {left} s" if left > 0 else "now"
            text += f" - retrying {when}: {error.summary}{status}"
        text = visible(text)[: _width(self.progress) - 1]
        _emit_raw(self.progress, CLEAR_LINE + text)
        self._line_drawn = True


# -- entry point ----------------------------------------------------------------------------


def main(
    argv: list[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    clock: Clock | None = None,
    poller: Poller | None = None,
) -> int:
    """Run the command line; return the exit status (see :data:`EXIT_STATUSES`).

    ``stdout``, ``stderr``, ``clock`` and ``poller`` are for tests (defaults: the process's
    streams, the real clock, the process-wide poller).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        return _main(argv, out, err, clock or SystemClock(), poller)
    except _ParserExit as stop:
        return stop.status
    except KeyboardInterrupt:
        _emit(err, "Interrupted.\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); say nothing more, and keep Python from
        # complaining when it flushes stdout at exit.
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _main(
    argv: list[str] | None, out: TextIO, err: TextIO, clock: Clock, poller: Poller | None
) -> int:
    parser, usage = _parsers(out, err)
    args = parser.parse_args(argv)

    simulator = None
    if args.demo is not None:
        from .simulator import SCENARIOS

        if args.task_id is not None:
            usage.error("--demo watches a new simulated task: give no TASK_ID with it")
        if args.base_url is not None:
            usage.error("--demo uses the built-in simulator: give no --base-url with it")
        if args.demo not in SCENARIOS:
            usage.error(
                f"unknown demo scenario {args.demo!r}; choose one of: {', '.join(SCENARIOS)}"
            )
    elif args.task_id is None:
        usage.error("the TASK_ID argument is required (or use --demo to try a simulated task)")

    try:
        task_id = normalize_task_id(args.task_id) if args.task_id is not None else ""
        base_url = resolve_base_url(args.base_url) if args.demo is None else ""
    except (TypeError, ValueError) as error:
        usage.error(str(error))
    if base_url:
        host = host_of(base_url)
        try:
            polling_bounds(args.polling_interval, None, loopback=is_loopback(host), host=host)
        except ValueError as error:
            usage.error(str(error).replace("poll_interval", "--polling-interval"))

    try:
        header = ""
        if args.demo is not None:
            from .simulator import Simulator

            simulator = Simulator(speed=args.demo_speed).start()
            base_url = simulator.base_url
            task_id = simulator.submit(args.demo)["task_id"]
            header = (
                f"Demo: scenario {args.demo!r} on the built-in simulator at {base_url} "
                "(no account, no network)\n"
            )
        try:
            url = resolve_base_url(base_url)
            credentials = resolve_auth(None, loopback=is_loopback(host_of(url)))
            if credentials.needs_sign_in:
                usage.error(no_credentials_advice(url))
            client = TaskClient(url, credentials.authorizer)
        except (TypeError, ValueError) as error:
            usage.error(str(error))
        poller = poller or default_poller()
        try:
            watcher = _Watcher(
                task_id=task_id,
                client=client,
                poller=poller,
                clock=clock,
                stdout=out,
                stderr=err,
                output_format=args.format,
                timeout=args.timeout,
                timeout_exit_code=args.timeout_exit_code,
                interval=args.polling_interval,
                heartbeat=args.heartbeat,
            )
            header += f"Watching task {task_id} on {base_url} (Ctrl-C stops watching)"
            status = watcher.run(header)
            if args.bell:  # issue #15: a word when a long task ends
                _emit_raw(err, "\a")
            return status
        finally:
            # Closed by the poller thread between requests: one may still be in flight.
            poller.retire(client)
    finally:
        if simulator is not None:
            simulator.stop()
