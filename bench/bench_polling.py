"""Benchmark: one thread per task (what users write today) against the shared poller.

Both modes watch the same scripted tasks on an in-process loopback fake of the Search Task
API (``127.0.0.1`` only, configurable per-request latency). Every task goes PENDING ->
PROGRESS -> SUCCESS at known, staggered times; the fake logs the arrival time of every
request, so request rates are measured on the server side and detection latency is
"client saw the new state" minus "the state changed", both on ``time.monotonic()``.

Modes:

``naive``
    One thread per task running ``while get_task(id)["state"] not in ("SUCCESS",
    "FAILED"): sleep(1)`` with its own ``httpx.Client``, as users write it with
    ``SearchClient`` (the sleep is an ``Event.wait`` so a capped run can stop it).
``poller``
    One ``TaskWidget(task_id, base_url=..., poll_interval=1.0, poller=Poller())`` per task,
    no index hints (the realistic case: users pass the task id they got from ``ingest``).
    No kernel runs, so ipywidgets uses a dummy comm; each widget's ``_send`` is replaced by
    a counter to count comm messages.
``poller-hints``
    The same with ``index_id=`` given to every widget (opt in with ``--modes``).

``--fault KIND`` (poller modes): a second loopback service misbehaves the whole run, and
``--bad-tasks`` widgets on the same Poller watch tasks there; the table still measures the
healthy tasks, so it shows what a misbehaving service costs the others. Kinds: ``trickle``
(1 byte a second, never done), ``endless`` (a chunked body that never ends), ``silent``
(accepts, never answers), ``retry-after`` (429 with ``Retry-After: 1e12``), ``gzip-bomb``
(64 KB inflating to 64 MB), ``huge-details`` (a valid document with 20 MB of
``additional_details``).

Run ``python bench/bench_polling.py --help``; see bench/README.md for how to read the table.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shlex
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

import httpx

if find_spec("search_task_widget") is None:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from search_task_widget import Poller, TaskWidget
from search_task_widget._model.task import TERMINAL_STATES
from search_task_widget.simulator import scenarios as engine
from search_task_widget.simulator.loopback import Request, Response

MODES = ("naive", "poller", "poller-hints")
FAULTS = ("none", "trickle", "endless", "silent", "retry-after", "gzip-bomb", "huge-details")
DEFAULT_MODES = ("naive", "poller")
DEFAULT_TASKS = (1, 10, 100, 500)
ORDER = ("PENDING", "PROGRESS", "SUCCESS")
#: The shortest PENDING or PROGRESS phase (seconds), so a 1 s poll can see most phases.
MIN_PHASE = 1.0
#: Threads the loopback server starts for each connection carry this in their name.
SERVER_THREAD_SUFFIX = "(process_request_thread)"

# -- the scripted tasks ------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedTask:
    """A task's script: PENDING from t0, PROGRESS and SUCCESS at these seconds after t0."""

    task_id: str
    index_id: str
    progress_at: float
    success_at: float

    @property
    def scenario(self) -> engine.Scenario:
        """The task's timeline in the scenario engine."""
        return engine.planned(self.progress_at, self.success_at)

    def state_at(self, elapsed: float) -> str:
        return self.scenario.phase_at(elapsed).state

    @property
    def changes(self) -> dict[str, float]:
        """State -> seconds after t0 at which the task entered it."""
        return {"PROGRESS": self.progress_at, "SUCCESS": self.success_at}


def plan_tasks(
    n: int,
    *,
    indexes: int = 3,
    duration: float = 8.0,
    seed: int = 1,
    min_phase: float = MIN_PHASE,
) -> list[PlannedTask]:
    """``n`` tasks spread round-robin over ``indexes`` indexes, all over by ``duration`` s.

    Each phase (PENDING, then PROGRESS) lasts between ``min_phase`` and ``duration / 2``
    seconds, drawn from a seeded generator, so the same arguments give the same script.
    """
    if n < 1 or indexes < 1 or duration <= 0:
        raise ValueError("need n >= 1, indexes >= 1 and duration > 0")
    rng = random.Random(seed)
    index_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(indexes)]
    half = duration / 2
    low = min(min_phase, half)
    tasks = []
    for i in range(n):
        progress_at = rng.uniform(low, half)
        success_at = progress_at + rng.uniform(low, half)
        task_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        tasks.append(PlannedTask(task_id, index_ids[i % indexes], progress_at, success_at))
    return tasks


# -- the fake service --------------------------------------------------------------------


# What ``--fault`` names, as the scenario engine's faults (the same for every request).
_FAULTS = {
    "trickle": engine.Fault(kind="trickle"),
    "endless": engine.Fault(kind="endless"),
    "silent": engine.Fault(kind="silent"),
    "retry-after": engine.Fault(kind="too-many-requests", retry_after="1e12"),
    "gzip-bomb": engine.Fault(kind="gzip-bomb"),
    "huge-details": engine.Fault(kind="huge-details"),
}


def fault_answer(kind: str, task_id: str) -> Response:
    """What the misbehaving service answers to every task request."""
    if kind not in _FAULTS:
        raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULTS)}")
    return _FAULTS[kind].answer(task_id=task_id)


class FakeTaskService:
    """The Task API on a loopback server: state by time since t0, every request logged.

    ``log`` holds ``(arrival monotonic time, "task" | "task_list")`` for each GET. Answers
    are decided on arrival and sent ``latency`` seconds later. ``server_cpu()`` estimates
    the CPU time spent in the server's connection threads (so the client's share can be
    told apart: the server runs in this process).
    """

    def __init__(self, tasks: Sequence[PlannedTask], latency: float = 0.05) -> None:
        self.tasks = list(tasks)
        self.latency = latency
        self.t0 = time.monotonic()
        self._wall0 = time.time()
        # The engine's clock runs on time.monotonic() from t0, which detection latencies
        # are measured on, and shows wall-clock dates.
        self.book = engine.TaskBook(clock=lambda: self._wall0 + time.monotonic() - self.t0)
        self.log: list[tuple[float, str]] = []
        self._cpu_cells: list[list[float]] = []
        self._local = threading.local()
        self.server = engine.serve(self.handle)
        self.start_clock()

    def start_clock(self) -> float:
        """Start every task's timeline now; returns t0 (monotonic)."""
        self.t0, self._wall0 = time.monotonic(), time.time()
        book = engine.TaskBook(clock=self.book.clock)
        for task in self.tasks:  # in order: the last added is the newest
            book.add(task.index_id, task.scenario, task_id=task.task_id, created=self._wall0)
        self.book = book
        return self.t0

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def __enter__(self) -> FakeTaskService:
        self.server.start()  # LoopbackServer listens with a backlog of 1024
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    def server_cpu(self) -> float:
        return sum(cell[0] for cell in self._cpu_cells)

    def handle(self, request: Request) -> Response:
        arrival = time.monotonic()
        self._note_cpu()
        route = engine.route_of(request.path)
        if request.method != "GET" or route is None or route.kind == "index":
            return engine.http_error(404, "NotFound.Generic", "no such route")
        self.log.append((arrival, route.kind))
        if route.kind == "task":
            response = self.book.answer_task(route.key)
        else:
            response = self.book.answer_list(route.key)
        response.delay = self.latency
        return response

    def _note_cpu(self) -> None:
        # CPU of this connection thread so far; the last value per thread is its total
        # (minus the tail of its last answer).
        cell = getattr(self._local, "cell", None)
        if cell is None:
            cell = self._local.cell = [0.0]
            self._cpu_cells.append(cell)
        cell[0] = time.thread_time()


# -- measuring -----------------------------------------------------------------------------


class ThreadSampler:
    """Samples every ``period`` s how many threads were started since :meth:`start`; keeps
    the maxima (all, client-only). Threads already running at the start are left out by
    identity, not subtracted as a count: one of an earlier run that ends meanwhile would
    otherwise hide a new one."""

    def __init__(self, period: float = 0.05) -> None:
        self.period = period
        self.max_all = 0
        self.max_client = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)
        self._before: set[threading.Thread] = set()

    def count(self) -> tuple[int, int]:
        """Threads started since :meth:`start` (this sampler aside): all, and client-only."""
        threads = [t for t in threading.enumerate() if t not in self._before]
        server = sum(1 for t in threads if t.name.endswith(SERVER_THREAD_SUFFIX))
        return len(threads), len(threads) - server

    def start(self) -> None:
        """Start sampling."""
        self._before = {*threading.enumerate(), self._thread}
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.sample()

    def sample(self) -> None:
        total, client = self.count()
        self.max_all = max(self.max_all, total)
        self.max_client = max(self.max_client, client)

    def stop(self) -> None:
        self.sample()
        self._stop.set()
        self._thread.join(5.0)


@dataclass
class Result:
    """One row of the table: one mode at one number of tasks."""

    mode: str
    n: int
    finished: int
    setup_s: float
    wall_s: float
    requests: int
    list_requests: int
    loop_requests: int  # a loop checking every task once a second, computed from the script
    share_of_loop: float
    req_per_task_min: float
    peak_rps: int
    detect_p50: float | None
    detect_p95: float | None
    detect_max: float | None
    missed: int
    threads_added: int
    client_threads_added: int
    cpu_s: float
    client_cpu_s: float
    errors: int
    comm_msgs: int | None = None
    unchanged_polls: int | None = None
    msgs_per_unchanged_poll: float | None = None
    msgs_per_changed_poll: float | None = None
    latencies: list = field(default_factory=list, repr=False)


def peak_per_second(times: Sequence[float], window: float = 1.0) -> int:
    """Most events in any half-open window [t, t + window) (sliding, starting at an event)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def loop_requests(tasks: Sequence[PlannedTask], interval: float = 1.0) -> int:
    """Requests of a loop that checks every task every ``interval`` s until it sees it end,
    had nothing slowed it down: one at t0, then one per interval up to the end."""
    return sum(math.ceil(task.success_at / interval) + 1 for task in tasks)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def detections(
    task: PlannedTask, seen: Sequence[tuple[float, str]], t0: float
) -> tuple[list[float], int]:
    """Latencies of the task's state changes as the client saw them, and changes missed.

    A change to state X is detected by the first observation of X or a later state; it
    counts as missed when X itself was never observed (skipped, or not seen at all).
    """
    latencies, missed = [], 0
    rank = {state: i for i, state in enumerate(ORDER)}
    for state, at in task.changes.items():
        changed = t0 + at
        first = next((t for t, s in seen if rank.get(s, -1) >= rank[state]), None)
        if first is not None:
            latencies.append(first - changed)
        if all(s != state for _, s in seen):
            missed += 1
    return latencies, missed


# -- the two ways of watching ------------------------------------------------------------


@dataclass
class Outcome:
    """What one mode's run saw: observations per task id, on ``time.monotonic()``."""

    t0: float  # the tasks' timeline started (every watcher was ready)
    end: float  # the last watcher finished, or the run was capped
    setup_s: float  # creating the watchers (threads and clients, or widgets)
    seen: dict[str, list[tuple[float, str]]]
    errors: list[str]
    counters: list[WidgetCounters] | None = None


def _naive_worker(base_url, task_id, interval, ready, go, stop, seen, errors, timeout) -> None:
    """What users write: a blocking loop on get_task, one HTTP client per loop."""
    try:
        with httpx.Client(base_url=base_url, timeout=timeout) as client:

            def get_task(tid):
                response = client.get(f"v1/task/{tid}")
                response.raise_for_status()
                return response.json()

            ready.release()
            go.wait()  # every loop starts together, when the tasks' timeline starts
            if stop.is_set():
                return
            while True:
                state = get_task(task_id)["state"]
                seen.append((time.monotonic(), state))
                if state in TERMINAL_STATES:
                    return
                if stop.wait(interval):  # time.sleep(interval), but a capped run can end it
                    return
    except Exception as error:  # the user's loop would die here too
        errors.append(repr(error))
        ready.release()


def run_naive(service, tasks, *, interval, run_for, request_timeout=30.0) -> Outcome:
    """One thread (and httpx client) per task; the timeline starts once all are ready."""
    ready, go, stop = threading.Semaphore(0), threading.Event(), threading.Event()
    seen: dict[str, list] = {task.task_id: [] for task in tasks}
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_naive_worker,
            args=(
                service.base_url,
                task.task_id,
                interval,
                ready,
                go,
                stop,
                seen[task.task_id],
                errors,
                request_timeout,
            ),
            name=f"naive-{i}",
            daemon=True,
        )
        for i, task in enumerate(tasks)
    ]
    began = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for _ in threads:
            ready.acquire(timeout=60.0)
        t0 = service.start_clock()
        go.set()
        deadline = t0 + run_for
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    finally:
        end = time.monotonic()
        stop.set()
        go.set()
        limit = time.monotonic() + 10.0
        for thread in threads:
            thread.join(max(0.0, limit - time.monotonic()))
    return Outcome(t0, end, t0 - began, seen, errors)


class WidgetCounters:
    """Comm messages of one widget, split by what the poll that caused them found."""

    def __init__(self, widget) -> None:
        self.sent = 0
        self.polls_changed = 0
        self.polls_unchanged = 0
        self.msgs_unchanged = 0
        self.msgs_changed = 0
        self.troubles = 0
        self.states: list[tuple[float, str]] = []
        group = widget._group  # the core the poller reports to (through its listeners)
        self._task_seen = group.task_seen
        self._trouble_seen = group.trouble_seen
        widget._send = self.send  # no kernel: count instead of sending
        group.task_seen = self.task_seen
        group.trouble_seen = self.trouble_seen
        widget.observe(self.on_state, names="state")

    def send(self, msg, buffers=None) -> None:
        self.sent += 1

    def on_state(self, change) -> None:
        self.states.append((time.monotonic(), change["new"]))

    def task_seen(self, entry, task, schedule, **kwargs) -> None:
        before = self.sent
        self._task_seen(entry, task, schedule, **kwargs)
        if schedule.changed:
            self.polls_changed += 1
            self.msgs_changed += self.sent - before
        else:
            self.polls_unchanged += 1
            self.msgs_unchanged += self.sent - before

    def trouble_seen(self, entry, error, schedule, **kwargs) -> None:
        self.troubles += 1
        self._trouble_seen(entry, error, schedule, **kwargs)


def run_poller(
    service, tasks, *, interval, run_for, hints=False, fault="none", bad_tasks=0
) -> Outcome:
    """One TaskWidget per task on a fresh Poller; the timeline starts once all exist.

    With a ``fault``, ``bad_tasks`` more widgets on the same Poller watch tasks on a
    service that misbehaves that way; only the healthy tasks are measured.
    """
    poller = Poller()
    widgets, counters, bad = [], [], []
    errors: list[str] = []
    began = time.monotonic()
    broken = None
    if fault != "none":
        broken = engine.serve(lambda request: fault_answer(fault, request.path.split("/")[-1]))
        broken.start()
    try:
        if broken is not None:
            bad = [
                TaskWidget(str(uuid.uuid4()), base_url=broken.base_url, poll_interval=interval,
                           poller=poller, start=False)
                for _ in range(bad_tasks)
            ]  # fmt: skip
        for task in tasks:
            widget = TaskWidget(
                task.task_id,
                base_url=service.base_url,
                poll_interval=interval,
                index_id=task.index_id if hints else None,
                poller=poller,
                start=False,  # patch the counters in before the first message
            )
            widgets.append(widget)
            counters.append(WidgetCounters(widget))
        t0 = service.start_clock()
        deadline = t0 + run_for
        for widget in bad:  # first: they get the first requests, the healthy ones must wait
            widget.start()
        for widget in widgets:
            widget.start()
        for widget in widgets:
            try:
                widget.wait(timeout=max(0.001, deadline - time.monotonic()))
            except TimeoutError:
                break
            except Exception as error:
                errors.append(repr(error))
        end = time.monotonic()
    finally:
        for widget in widgets + bad:
            widget.close()
        poller.shutdown(5.0)
        if broken is not None:
            broken.stop()
    seen = {task.task_id: c.states for task, c in zip(tasks, counters, strict=True)}
    errors += [f"{c.troubles} retries" for c in counters if c.troubles]
    return Outcome(t0, end, t0 - began, seen, errors, counters)


def run_case(
    mode: str,
    n: int,
    *,
    latency: float = 0.05,
    duration: float = 8.0,
    min_phase: float = MIN_PHASE,
    indexes: int = 3,
    interval: float = 1.0,
    cap: float = 30.0,
    seed: int = 1,
    fault: str = "none",
    bad_tasks: int = 5,
) -> Result:
    """Run one mode against ``n`` fresh scripted tasks and measure it (with ``fault``: while
    ``bad_tasks`` tasks on another service misbehave; poller modes only)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if fault not in FAULTS:
        raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
    tasks = plan_tasks(n, indexes=indexes, duration=duration, seed=seed, min_phase=min_phase)
    lifetime = max(task.success_at for task in tasks)
    with FakeTaskService(tasks, latency) as service:
        sampler = ThreadSampler()
        sampler.start()
        cpu_before, server_cpu_before = time.process_time(), service.server_cpu()
        try:
            if mode == "naive":
                outcome = run_naive(service, tasks, interval=interval, run_for=lifetime + cap)
            else:
                outcome = run_poller(
                    service,
                    tasks,
                    interval=interval,
                    run_for=lifetime + cap,
                    hints=mode == "poller-hints",
                    fault=fault,
                    bad_tasks=bad_tasks,
                )
        finally:
            sampler.stop()
        cpu = time.process_time() - cpu_before
        server_cpu = service.server_cpu() - server_cpu_before
        log = list(service.log)
    latencies, missed = [], 0
    finished = 0
    for task in tasks:
        seen = outcome.seen[task.task_id]
        task_latencies, task_missed = detections(task, seen, outcome.t0)
        latencies += task_latencies
        missed += task_missed
        finished += any(state in TERMINAL_STATES for _, state in seen)
    task_minutes = sum(task.success_at for task in tasks) / 60.0
    result = Result(
        mode=mode if fault == "none" or mode == "naive" else f"{mode} + {bad_tasks} {fault}",
        n=n,
        finished=finished,
        setup_s=outcome.setup_s,
        wall_s=outcome.end - outcome.t0,
        requests=len(log),
        list_requests=sum(1 for _, kind in log if kind == "task_list"),
        loop_requests=(loop := loop_requests(tasks, interval)),
        share_of_loop=len(log) / loop,
        req_per_task_min=len(log) / task_minutes,
        peak_rps=peak_per_second([t for t, _ in log]),
        detect_p50=percentile(latencies, 0.50),
        detect_p95=percentile(latencies, 0.95),
        detect_max=max(latencies) if latencies else None,
        missed=missed,
        threads_added=sampler.max_all,
        client_threads_added=sampler.max_client,
        cpu_s=cpu,
        client_cpu_s=max(0.0, cpu - server_cpu),
        errors=len(outcome.errors),
        latencies=latencies,
    )
    counters = outcome.counters
    if counters is not None:
        unchanged = sum(c.polls_unchanged for c in counters)
        result.comm_msgs = sum(c.sent for c in counters)
        result.unchanged_polls = unchanged
        msgs = sum(c.msgs_unchanged for c in counters)
        result.msgs_per_unchanged_poll = msgs / unchanged if unchanged else 0.0
        changed = sum(c.polls_changed for c in counters)
        msgs = sum(c.msgs_changed for c in counters)
        result.msgs_per_changed_poll = msgs / changed if changed else 0.0
    return result


# -- output --------------------------------------------------------------------------------

#: (header, Result attribute, format)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("mode", "mode", "{}"),
    ("N", "n", "{}"),
    ("finished", "finished", "{}"),
    ("setup s", "setup_s", "{:.1f}"),
    ("wall s", "wall_s", "{:.1f}"),
    ("requests", "requests", "{}"),
    ("of which task_list", "list_requests", "{}"),
    ("1/s loop req", "loop_requests", "{}"),
    ("share of loop", "share_of_loop", "{:.3f}"),
    ("req/task-min", "req_per_task_min", "{:.1f}"),
    ("peak req/s", "peak_rps", "{}"),
    ("detect p50 s", "detect_p50", "{:.2f}"),
    ("detect p95 s", "detect_p95", "{:.2f}"),
    ("detect max s", "detect_max", "{:.2f}"),
    ("states missed", "missed", "{}"),
    ("threads added", "threads_added", "{}"),
    ("client threads added", "client_threads_added", "{}"),
    ("CPU s", "cpu_s", "{:.2f}"),
    ("client CPU s", "client_cpu_s", "{:.2f}"),
    ("errors", "errors", "{}"),
    ("comm msgs", "comm_msgs", "{}"),
    ("msgs/unchanged poll", "msgs_per_unchanged_poll", "{:.3f}"),
)


def format_table(results: Sequence[Result]) -> str:
    """The results as a Markdown table, one row per (mode, N)."""
    lines = [
        "| " + " | ".join(header for header, _, _ in COLUMNS) + " |",
        "|" + "|".join("---" if i < 1 else "---:" for i in range(len(COLUMNS))) + "|",
    ]
    for result in results:
        cells = []
        for _, name, fmt in COLUMNS:
            value = getattr(result, name)
            cells.append("-" if value is None else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_facts() -> str:
    import ipywidgets

    return (
        f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"httpx {httpx.__version__}, ipywidgets {ipywidgets.__version__}"
    )


# -- command line --------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,10,100, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("task counts must be at least 1")
    return values


def _modes(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [value for value in values if value not in MODES]
    if not values or unknown:
        raise argparse.ArgumentTypeError(f"modes must be among {', '.join(MODES)}")
    return values


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--tasks",
        type=_int_list,
        default=list(DEFAULT_TASKS),
        help="numbers of tasks, comma separated (default 1,10,100,500)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.05, help="seconds the fake waits before each answer"
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=8.0,
        help="every task ends within this many seconds; each phase lasts --min-phase to "
        "duration/2 (long tasks: e.g. --min-phase 10 --duration 480)",
    )
    parser.add_argument(
        "--min-phase",
        type=float,
        default=MIN_PHASE,
        help="the shortest PENDING or PROGRESS phase in seconds (default 1)",
    )
    parser.add_argument("--indexes", type=int, default=3, help="indexes the tasks are spread over")
    parser.add_argument(
        "--interval", type=float, default=1.0, help="poll interval of both modes (default 1 s)"
    )
    parser.add_argument(
        "--modes",
        type=_modes,
        default=list(DEFAULT_MODES),
        help="comma separated, among naive,poller,poller-hints (default naive,poller)",
    )
    parser.add_argument(
        "--cap", type=float, default=30.0, help="a run stops this many s after its last task ends"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the task script")
    parser.add_argument(
        "--fault",
        choices=FAULTS,
        default="none",
        help="poller modes: another service misbehaves this way meanwhile (default none)",
    )
    parser.add_argument(
        "--bad-tasks", type=int, default=5, help="tasks watched on the misbehaving service"
    )
    args = parser.parse_args(argv)
    if (
        args.latency < 0
        or args.duration <= 0
        or args.min_phase <= 0
        or args.indexes < 1
        or args.interval <= 0
    ):
        parser.error(
            "--latency >= 0, --duration > 0, --min-phase > 0, --indexes >= 1 and --interval > 0"
        )
    return args


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parse_args(argv)
    command = "python bench/bench_polling.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    out(f"Command: `{command.strip()}`")
    out(f"Machine: {machine_facts()}")
    out(
        f"Settings: latency {args.latency:g} s, tasks end within {args.duration:g} s "
        f"(phases {min(args.min_phase, args.duration / 2):g} to {args.duration / 2:g} s), "
        f"{args.indexes} indexes, poll interval {args.interval:g} s, "
        f"poller without index hints"
        + (" (poller-hints: with)" if "poller-hints" in args.modes else "")
    )
    out("")
    results = []
    for n in args.tasks:
        for mode in args.modes:
            result = run_case(
                mode,
                n,
                latency=args.latency,
                duration=args.duration,
                min_phase=args.min_phase,
                indexes=args.indexes,
                interval=args.interval,
                cap=args.cap,
                seed=args.seed,
                fault=args.fault,
                bad_tasks=args.bad_tasks,
            )
            results.append(result)
            print(f"  done: {mode} N={n} in {result.wall_s:.1f} s", file=sys.stderr, flush=True)
    out(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
