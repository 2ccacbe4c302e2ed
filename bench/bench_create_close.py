"""What creating and closing one widget costs, beside a plain anywidget and a bare client.

Usage: ``python bench/bench_create_close.py [--cycles 300]``. No request leaves the
machine: the widgets are made with ``start=False`` and a token, so each one acquires (and
releases) its HTTP client from the pool without polling. Before the clients shared one SSL
context, a ``TaskWidget`` cost about 40 to 75 ms here (the CA bundle loaded per client).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import anywidget
import traitlets

import search_task_widget as stw
from search_task_widget._service.client import TaskClient

SERVICE = "https://search.api.globus.org/"
TASK_ID = "05c1ec1b-2400-44e2-9797-922c29199042"


class Plain(anywidget.AnyWidget):
    """The cheapest anywidget: the floor for any widget's create/close."""

    _esm = "export default { render() {} }"
    value = traitlets.Int(0).tag(sync=True)


def plain() -> None:
    Plain().close()


def client() -> None:
    TaskClient(SERVICE).close()


def task_widget() -> None:
    stw.TaskWidget(TASK_ID, base_url=SERVICE, auth="not-a-real-token", start=False).close()


def per_cycle(make: Callable[[], None], cycles: int) -> float:
    """Milliseconds per call of ``make``, after one call to warm up."""
    make()
    start = time.perf_counter()
    for _ in range(cycles):
        make()
    return (time.perf_counter() - start) / cycles * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=300, help="cycles per kind (default 300)")
    cycles = parser.parse_args().cycles
    for name, make in [
        ("plain anywidget", plain),
        ("TaskClient", client),
        ("TaskWidget", task_widget),
    ]:
        print(f"{name:16s} {per_cycle(make, cycles):7.2f} ms per create/close ({cycles} cycles)")


if __name__ == "__main__":
    main()
