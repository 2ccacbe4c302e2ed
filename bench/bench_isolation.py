"""Isolation benchmark: how long a healthy service waits with many slow services beside it.

Each slow service is its own loopback server that answers every request one byte every
``--pace`` seconds (a trickle: no read ever times out; the client's whole-request deadline
cuts it after 20 s, and the watch retries). One watch per slow service runs on a fresh
:class:`~search_task_widget.Poller` until every slow service has a request in flight;
then one watch on a healthy loopback service is added, and the time until its first
answer is measured. The request workers are the shared resource: before a per-service
turn existed, 50 slow services held all 32 of them and the healthy answer took 17.5 s.

    python bench/bench_isolation.py [--slow 0,30,50,100] [--pace 4] [--latency 0.05]

Nothing leaves the machine. The run takes about 1 minute on 2 cores (the slow watches are
started at the poller's 5 requests/s).
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from search_task_widget import Poller
from search_task_widget._model.task import Task
from search_task_widget._model.vocabulary import PROGRESS
from search_task_widget._service.client import TaskClient
from search_task_widget._tracking.poller import Schedule, Watch
from search_task_widget._tracking.schedule import AdaptiveInterval
from search_task_widget.simulator import scenarios as engine
from search_task_widget.simulator.loopback import Request, Response

#: Seconds to wait for every slow service to have a request in flight (5 requests/s).
SETTLE = 60.0
#: Seconds the healthy watch may take before the run calls it stuck.
GIVE_UP = 60.0


class _FirstAnswer:
    """A listener that notes when it is first told anything."""

    def __init__(self) -> None:
        self.told = threading.Event()
        self.error = ""

    def on_task(self, task: Task, schedule: Schedule) -> None:
        self.told.set()

    def on_trouble(self, error: object, schedule: Schedule) -> None:
        self.error = str(error)

    def on_fatal(self, error: object) -> None:
        self.error = str(error)
        self.told.set()


def _trickling(pace: float) -> Callable[[Request], Response]:
    return lambda request: engine.trickle(None, pace)


def _healthy(latency: float) -> Callable[[Request], Response]:
    def answer(request: Request) -> Response:
        task_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        document = engine.task_document(
            task_id, PROGRESS, index_id=str(uuid.uuid4()), created=time.time()
        )
        return engine.slow(latency, Response.json(document))

    return answer


@contextlib.contextmanager
def _servers(handlers: Sequence[Callable[[Request], Response]]) -> Iterator[list[str]]:
    servers = [engine.serve(handler).start() for handler in handlers]
    try:
        yield [server.base_url for server in servers]
    finally:
        for server in servers:
            server.stop()


@dataclass(frozen=True)
class Result:
    slow: int
    settled_s: float  # until every slow service had a request in flight
    healthy_s: float | None  # the healthy watch's first answer (None: none in GIVE_UP)
    workers: int  # request workers alive when the healthy answer came
    threads: int  # threads of the process then


def run_case(slow: int, *, pace: float, latency: float) -> Result:
    """One run with ``slow`` trickling services and one healthy one."""
    handlers = [_trickling(pace)] * slow + [_healthy(latency)]
    poller = Poller()
    clients: list[TaskClient] = []
    try:
        with _servers(handlers) as urls:
            clients = [TaskClient(url) for url in urls]
            started = time.monotonic()
            for client in clients[:-1]:
                _watch(poller, client)
            runner = poller._runner
            assert runner is not None
            _until(lambda: all(runner.in_flight(c.base_url) for c in clients[:-1]), SETTLE)
            settled = time.monotonic() - started
            asked = time.monotonic()
            healthy = _watch(poller, clients[-1])
            answered = healthy.told.wait(GIVE_UP)
            took = time.monotonic() - asked if answered else None
            return Result(slow, settled, took, runner.workers, threading.active_count())
    finally:
        poller.shutdown(1.0)
        for client in clients:
            client.close()


def _watch(poller: Poller, client: TaskClient) -> _FirstAnswer:
    listener = _FirstAnswer()
    poller._add(Watch(str(uuid.uuid4()), client, listener, AdaptiveInterval(1.0, 10.0)))
    return listener


def _until(condition: Callable[[], bool], seconds: float) -> None:
    pause = threading.Event()
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        pause.wait(0.05)


def format_table(results: Sequence[Result]) -> str:
    lines = [
        "| slow services | all slow in flight after s | healthy first answer s | "
        "request workers | threads |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        healthy = f"{r.healthy_s:.2f}" if r.healthy_s is not None else f"> {GIVE_UP:g}"
        lines.append(f"| {r.slow} | {r.settled_s:.1f} | {healthy} | {r.workers} | {r.threads} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--slow", default="0,30,50,100", help="numbers of slow services")
    parser.add_argument("--pace", type=float, default=4.0, help="seconds between slow bytes")
    parser.add_argument("--latency", type=float, default=0.05, help="healthy answer delay")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    args = parse_args(argv)
    sizes = [int(part) for part in args.slow.split(",") if part.strip()]
    results = [run_case(n, pace=args.pace, latency=args.latency) for n in sizes]
    out(
        f"Machine: {platform.machine()}, Python {platform.python_version()}; "
        f"trickle 1 byte every {args.pace:g} s; healthy latency {args.latency:g} s"
    )
    out(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
