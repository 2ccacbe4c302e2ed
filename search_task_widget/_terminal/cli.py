"""The terminal watcher: ``python -m search_task_widget watch TASK_ID`` (or ``search-task-watch``).

``watch`` takes one task id or many (arguments, ``--from-file F``, ``-`` for stdin: many are
watched together, see :mod:`.many`); the word ``watch`` may be left out. ``ingest INDEX_ID
FILE...`` ingests a catalogue (see :mod:`.._ingest`).

It follows one Search task until it ends: the task is a :class:`~.group.TaskGroup` of one,
on the same pooled client and background :class:`~.poller.Poller` as the notebook widgets,
and :mod:`._terminal` draws it (a live line on a terminal, one line per change otherwise,
then a summary or the JSON document). This module reads the command line.

Exit statuses (see :data:`EXIT_STATUSES`): 0 SUCCESS, 1 FAILED (or CANCELLED, or any other
final state that is not SUCCESS), 2 usage error or bad task id, 3 polling stopped on an error
(401, 403, 404, gave up after an outage), 124 timeout (``--timeout-exit-code``), 130 Ctrl-C.

The access token comes only from ``$SEARCH_TASK_WIDGET_TOKEN``: a token on the command line
would end up in shell history and process listings. It is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import sys
from collections.abc import Iterator, Mapping
from typing import TextIO

from .._model.config import HUB_ENV_VAR, environment
from .._model.errors import SearchTaskError
from .._model.errors import no_credentials_advice as credentials_advice
from .._model.task import normalize_task_id
from .._service.auth import TOKEN_ENV_VAR, resolve_auth
from .._service.client import host_of, is_loopback, resolve_base_url
from .._service.login import CLIENT_ID_ENV_VAR
from .._tracking.group import GroupView, NewsPolicy, TaskGroup
from .._tracking.news import PerAnswer, PerRound
from .._tracking.poller import Poller
from .._tracking.schedule import MAX_INTERVAL_FACTOR, Clock, SystemClock, polling_bounds
from .view import (
    CLEAR_LINE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_POLLING_ERROR,
    EXIT_SUCCESS,
    Output,
    TerminalView,
    emit,
    format_summary,
    visible,
)

__all__ = [
    "CLEAR_LINE",
    "DEFAULT_TIMEOUT_EXIT_CODE",
    "EXIT_STATUSES",
    "format_summary",
    "main",
    "no_credentials_advice",
    "visible",
]

EXIT_USAGE = 2
#: Like coreutils ``timeout``; ``globus task wait`` uses 1, which here already means FAILED.
DEFAULT_TIMEOUT_EXIT_CODE = 124

EXIT_STATUSES = (
    (EXIT_SUCCESS, "the task ended in SUCCESS (several tasks: every one of them)"),
    (EXIT_FAILED, "a task ended in FAILED, CANCELLED or another state that is not SUCCESS"),
    (EXIT_USAGE, "usage error: bad option, bad task id, unknown scenario"),
    (EXIT_POLLING_ERROR, "polling stopped on an error (401, 403, 404, gave up after an outage)"),
    (DEFAULT_TIMEOUT_EXIT_CODE, "--timeout ran out (change it with --timeout-exit-code)"),
    (EXIT_INTERRUPTED, "interrupted with Ctrl-C (the task itself keeps running)"),
)

# -- command line ---------------------------------------------------------------------------


class _ParserExit(Exception):
    """argparse wanted to exit; main() returns ``status`` instead of exiting the process."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@contextlib.contextmanager
def _argparse_output(out: TextIO, err: TextIO) -> Iterator[None]:
    """Around argparse: what it prints (help, version, usage, errors) goes to ``out`` and
    ``err``, escaped (an argument can hold control characters), and its exit becomes
    :class:`_ParserExit`, so :func:`main` returns the status instead of exiting."""
    printed, complained = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(complained):
            yield
    except SystemExit as stop:
        code = stop.code
        raise _ParserExit(code if isinstance(code, int) else EXIT_USAGE) from None
    finally:
        if printed.getvalue():
            emit(out, printed.getvalue())
        if complained.getvalue():
            emit(err, complained.getvalue())


def _positive(text: str, what: str) -> float:
    """``text`` as a finite number above 0 (``what`` names it in the complaint)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be {what} above 0, got {text!r}")
    return value


def _seconds(text: str) -> float:
    return _positive(text, "a number of seconds")


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
    return _positive(text, "a number")


def no_credentials_advice(url: str, environ: Mapping[str, str] | None = None) -> str:
    """What to do in a terminal when no credentials were found for ``url`` (the sentences
    are :func:`~.._model.errors.no_credentials_advice`'s; the environment says which)."""
    env = environment(environ)
    return credentials_advice(
        url,
        client_id=env.get(CLIENT_ID_ENV_VAR, "").strip(),
        on_hub=bool(env.get(HUB_ENV_VAR, "").strip()),
    )


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
        "  search-task-watch watch --from-file tonight.txt   # many: one line, then a summary\n"
        '  search-task-watch watch "$TASK_ID" --format json > task.json\n'
        "  python -m search_task_widget watch --demo failure"
    )


def _program_name() -> str:
    if os.path.basename(sys.argv[0] if sys.argv else "") == "__main__.py":
        return "python -m search_task_widget"
    return "search-task-watch"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Names the simulator's scenarios where an option's help says ``{scenarios}``: read
    from the simulator only when help is shown (watching a real task never loads it)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if text is None or "{scenarios}" not in text:
            return text
        from ..simulator import SCENARIOS

        names = [f"{name} (default)" if name == action.const else name for name in SCENARIOS]
        return text.replace("{scenarios}", ", ".join(names))


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The program's parser and its ``watch`` subcommand's."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog=_program_name(),
        description="Follow Globus Search tasks from a terminal, a script or CI.",
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
        formatter_class=_HelpFormatter,
    )
    _watch_options(watch)
    ingest = commands.add_parser(
        "ingest",
        help="ingest a catalogue of entries into an index, and wait for it to be indexed",
        description=(
            "Validate entries against Search's limits, send them in order in batches within "
            "the request budget, watch each batch's task, and report every entry that was "
            "invalid or failed. With --journal, running the same command again after a "
            "crash goes on where it stopped."
        ),
        epilog=_ingest_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _ingest_options(ingest)
    ingest.set_defaults(usage=ingest)  # so that its errors show its own usage
    return parser, watch


INGEST_EXIT_STATUSES = (
    (EXIT_SUCCESS, "every entry was indexed"),
    (EXIT_FAILED, "some entries were invalid or failed (they are listed)"),
    (EXIT_USAGE, "usage error: bad option, bad index id, a file that is not there"),
    (
        EXIT_POLLING_ERROR,
        "stopped on an error (401, 403, an outage, a journal another run holds); --journal "
        "resumes it",
    ),
    (DEFAULT_TIMEOUT_EXIT_CODE, "--timeout ran out (--journal resumes it)"),
    (EXIT_INTERRUPTED, "interrupted with Ctrl-C (--journal resumes it)"),
)


def _ingest_epilog() -> str:
    statuses = "\n".join(f"  {code:>3}  {meaning}" for code, meaning in INGEST_EXIT_STATUSES)
    return (
        f"exit statuses:\n{statuses}\n\n"
        f"The access token comes from ${TOKEN_ENV_VAR} (as for watch).\n\n"
        "example:\n  search-task-watch ingest $INDEX_ID part-*.jsonl --journal load.sqlite"
    )


def _ingest_options(ingest: argparse.ArgumentParser) -> None:
    ingest.add_argument("index_id", metavar="INDEX_ID", help="the index to ingest into (a UUID)")
    ingest.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="catalogue files: .jsonl (one entry a line) or .json (a GIngest or a list)",
    )
    ingest.add_argument(
        "--journal", metavar="FILE", help="record progress here; run again to resume"
    )
    ingest.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a summary (default); json: the summary and failed entries on stdout",
    )
    ingest.add_argument("--base-url", metavar="URL", help="the Search service (as for watch)")
    ingest.add_argument(
        "--batch-entries",
        type=int,
        default=None,
        metavar="N",
        help="at most N entries per request (default 1000)",
    )
    ingest.add_argument(
        "--timeout", type=_seconds, metavar="SECONDS", help="stop after this many seconds"
    )


def _watch_options(watch: argparse.ArgumentParser) -> None:
    """The ``watch`` subcommand's options (one ``add_argument`` each: add new ones here)."""
    watch.add_argument(
        "task_ids",
        nargs="*",
        metavar="TASK_ID",
        help=(
            "the task to watch: the task_id of an ingest or delete reply (a UUID); several "
            "are watched together ('-' reads more from stdin, one a line)"
        ),
    )
    watch.add_argument(
        "--from-file",
        metavar="FILE",
        help="read task ids from FILE, one a line ('#' starts a comment; '-' is stdin)",
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
            "SCENARIO: {scenarios}"
        ),
    )
    watch.add_argument(
        "--demo-speed",
        type=_speed,
        default=1.0,
        metavar="FACTOR",
        help="run the --demo timeline FACTOR times faster (default 1)",
    )
    watch.add_argument(
        "--bell",
        action="store_true",
        help="ring the terminal bell (on stderr) when the watching ends, however it ends",
    )


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
        return _main(_with_command(argv), out, err, clock or SystemClock(), poller)
    except _ParserExit as stop:
        return stop.status
    except KeyboardInterrupt:
        emit(err, "Interrupted.\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); say nothing more, and keep Python from
        # complaining when it flushes stdout at exit.
        if out is sys.stdout:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


#: The subcommands (and the main parser's own options): anything else starts a ``watch``.
_COMMANDS = ("watch", "ingest", "-h", "--help", "--version")


def _with_command(argv: list[str] | None) -> list[str]:
    """``argv`` with ``watch`` inserted when it names no subcommand (``search-task-watch
    TASK_ID`` is what newcomers type first)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] not in _COMMANDS:
        args.insert(0, "watch")
    return args


def _main(
    argv: list[str] | None, out: TextIO, err: TextIO, clock: Clock, poller: Poller | None
) -> int:
    if argv and argv[0] == "ingest":
        return _ingest(argv, out, err, clock, poller)
    usage, args = _parse(argv, out, err)
    if len(args.task_ids) > 1:
        return _watch_many(usage, args, out, err, clock, poller)
    simulator = None
    try:
        header, task_id, base_url = "", args.task_id, args.base_url
        if args.demo is not None:
            from ..simulator import Simulator

            simulator = Simulator(speed=args.demo_speed).start()
            base_url = simulator.base_url
            task_id = simulator.submit(args.demo)["task_id"]
            header = (
                f"Demo: scenario {args.demo!r} on the built-in simulator at {base_url} "
                "(no account, no network)\n"
            )
        view = TerminalView(
            Output(out, err, json=args.format == "json", heartbeat=args.heartbeat, bell=args.bell),
            clock,
            args.timeout,
        )
        with _argparse_output(out, err):
            group = _group(
                usage, view, base_url, [task_id], args.polling_interval, poller, PerAnswer()
            )
        try:
            header += f"Watching task {task_id} on {base_url} (Ctrl-C stops watching)"
            status = view.run(group, header)
            return args.timeout_exit_code if status is None else status
        finally:
            # Back to the pool; the poller closes it between requests if it was the last.
            group.close()
    finally:
        if simulator is not None:
            simulator.stop()


def _parse(
    argv: list[str] | None, out: TextIO, err: TextIO
) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The ``watch`` parser and the checked arguments (``task_id`` normalized and
    ``base_url`` resolved unless ``--demo``); usage errors raise :class:`_ParserExit`."""
    parser, usage = _parsers()
    with _argparse_output(out, err):
        args = parser.parse_args(argv)
        args.task_ids = _task_ids(usage, args.task_ids, args.from_file)
        args.task_id = args.task_ids[0] if len(args.task_ids) == 1 else None
        if args.demo is not None:
            from ..simulator import SCENARIOS

            if args.task_ids:
                usage.error("--demo watches a new simulated task: give no TASK_ID with it")
            if args.base_url is not None:
                usage.error("--demo uses the built-in simulator: give no --base-url with it")
            if args.demo not in SCENARIOS:
                usage.error(
                    f"unknown demo scenario {args.demo!r}; choose one of: {', '.join(SCENARIOS)}"
                )
            return usage, args
        if not args.task_ids:
            usage.error("the TASK_ID argument is required (or use --demo to try a simulated task)")
        try:
            args.task_ids = list(dict.fromkeys(normalize_task_id(t) for t in args.task_ids))
            args.task_id = args.task_ids[0]
            args.base_url = resolve_base_url(args.base_url)
            host = host_of(args.base_url)
            polling_bounds(
                args.polling_interval,
                None,
                loopback=is_loopback(host),
                host=host,
                name="--polling-interval",
            )
        except (TypeError, ValueError) as error:
            usage.error(str(error))
    return usage, args


def _group(
    usage: argparse.ArgumentParser,
    view: GroupView,
    base_url: str,
    task_ids: list[str],
    interval: float,
    poller: Poller | None,
    news: NewsPolicy,
) -> TaskGroup:
    """The tasks as a group told its news by ``news``, on a pooled client with the
    credentials found."""
    try:
        url = resolve_base_url(base_url)
        credentials = resolve_auth(None, loopback=is_loopback(host_of(url)))
        if credentials.needs_sign_in:
            # The command line was right: the advice alone, without argparse's usage block.
            usage.exit(EXIT_USAGE, f"{usage.prog}: error: {no_credentials_advice(url)}\n")
        group = TaskGroup(
            url,
            credentials,
            view=view,
            poller=poller,
            intervals=(interval, interval * MAX_INTERVAL_FACTOR),
            news=news,
            otherwise="",  # no start() to call in a terminal
        )
    except (TypeError, ValueError) as error:
        usage.error(str(error))
    for task_id in task_ids:
        group.add(task_id)
    return group


# -- many tasks, and ingest ---------------------------------------------------------------


def _task_ids(usage: argparse.ArgumentParser, given: list[str], from_file: str | None) -> list[str]:
    """The task ids of the arguments, ``-`` (stdin) and ``--from-file`` (one a line; blank
    lines and ``#`` comments skipped), in order."""
    found: list[str] = []
    sources = [*given, *(["@" + from_file] if from_file else [])]
    for item in sources:
        if item not in ("-", "@-") and not item.startswith("@"):
            found.append(item)
            continue
        name = item.lstrip("@") if item.startswith("@") else "-"
        try:
            if name == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(name, encoding="utf-8") as stream:
                    lines = stream.read().splitlines()
        except OSError as error:
            usage.error(f"cannot read task ids from {name}: {error.strerror}")
        found += [line.split("#", 1)[0].strip() for line in lines]
    return [task_id for task_id in found if task_id]


def _watch_many(
    usage: argparse.ArgumentParser,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    clock: Clock,
    poller: Poller | None,
) -> int:
    from .many import ManyTasksView

    view = ManyTasksView(
        Output(out, err, json=args.format == "json", bell=args.bell), clock, args.timeout
    )
    with _argparse_output(out, err):
        group = _group(
            usage, view, args.base_url, args.task_ids, args.polling_interval, poller, PerRound()
        )
    url = group.url
    try:
        header = f"Watching {len(args.task_ids)} tasks on {url} (Ctrl-C stops watching)"
        status = view.run(group, header)
        return args.timeout_exit_code if status is None else status
    finally:
        group.close()


def _ingest(argv: list[str], out: TextIO, err: TextIO, clock: Clock, poller: Poller | None) -> int:
    from .._ingest.job import IngestJob, connect
    from .._model.limits import Limits
    from .many import run_ingest

    parser, _watch = _parsers()
    with _argparse_output(out, err):
        args = parser.parse_args(argv)
        usage = args.usage
        try:
            index_id = normalize_task_id(args.index_id, "index id")
            credentials, url = connect(None, resolve_base_url(args.base_url))
            limits = Limits(batch_entries=args.batch_entries) if args.batch_entries else None
        except (TypeError, ValueError) as error:
            usage.error(str(error))
        if credentials.needs_sign_in:
            usage.error(no_credentials_advice(url))
        try:
            job = IngestJob(
                index_id, args.files, credentials=credentials, url=url,
                journal=args.journal, limits=limits, poller=poller, clock=clock,
            )  # fmt: skip
        except SearchTaskError as error:  # e.g. the journal is held by a run still going
            emit(err, f"Error: {error}\n")
            return EXIT_POLLING_ERROR
        except (OSError, ValueError) as error:
            usage.error(str(error))
    try:
        output = Output(out, err, json=args.format == "json")
        status = run_ingest(job, output, clock, args.timeout)
        return DEFAULT_TIMEOUT_EXIT_CODE if status is None else status
    finally:
        job.close()
