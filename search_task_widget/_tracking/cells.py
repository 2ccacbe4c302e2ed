"""Send the poller thread's messages as part of the cell that is running now.

Every message a kernel publishes names the request that caused it (its ``parent_header``).
Headless executors (nbclient, and so papermill, ``jupyter nbconvert --execute``,
jupyter-book) keep only the messages whose parent is the cell they are executing and drop
the rest. The poller thread runs in a copy of the :mod:`contextvars` context of the cell
that started it (ipykernel 7.0 needs that, see ``poller``), so on ipykernel 7 everything it
sends would name *that* cell: a ``wait()`` in a later cell would see the task end, yet the
executor would drop the final state and save the first one.

So the kernel's context is remembered at the start of every execution (IPython's
``pre_execute`` event runs on the main thread, inside the request's context) and the
poller delivers its news inside a copy of the latest one. On ipykernel 6 the parent is a
process-wide global and this changes nothing; outside IPython (a terminal, marimo) nothing
is remembered and news is delivered in the thread's own context.

News that arrives between two executions (the kernel idle, e.g. while papermill writes the
notebook) names the execution that already ended, and executors drop it too. So a widget
whose watch ended asks, through :func:`after_next_execution`, to hear from the first
execution that finishes after the end; it then sends its final state again if the end was
sent outside that execution. Which execution a message names is decided when the context
is taken, not when the widget asks: :func:`sending_execution` says it. (Asking
:func:`current_execution` instead raced with the next cell's start on a busy machine: a
list's end went out with the previous cell's parent, was dropped, and was taken for sent
in the waiting cell, so it was never sent again.)
"""

from __future__ import annotations

import contextvars
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("search_task_widget")

T = TypeVar("T")

#: The context of the latest execution and its number, replaced whole (reads need no lock).
_latest: tuple[contextvars.Context, int] | None = None
_executions = 0  # how many executions started since following began
_delivering = threading.local()  # .number: the execution a delivery on this thread names
_followed: set[int] = set()  # ids of the shells whose executions are followed
_after_next: list[Callable[[], object]] = []  # run once, at the end of the next execution
_lock = threading.Lock()


def follow_executions() -> None:
    """Remember the context of each execution request from now on (call on the main
    thread; idempotent). Does nothing outside an IPython kernel."""
    shell = _kernel_shell()
    if shell is None:
        return
    with _lock:
        if id(shell) in _followed:
            return
        _followed.add(id(shell))
    _remember()  # the request running now
    shell.events.register("pre_execute", _remember)
    shell.events.register("post_execute", _run_after_hooks)


def current_execution() -> int:
    """A number that changes with each execution request (0 when none is followed)."""
    return _executions


def sending_execution() -> int:
    """The execution that what this thread sends now is part of: inside
    :func:`in_current_execution`, the one whose context it runs in (even if another
    started meanwhile); elsewhere :func:`current_execution`."""
    number = getattr(_delivering, "number", None)
    return _executions if number is None else number


def after_next_execution(callback: Callable[[], object]) -> bool:
    """Call ``callback()`` on the main thread when the next execution (or the running one)
    finishes, inside it. False, and nothing registered, when no execution is followed."""
    if not _followed:
        return False
    with _lock:
        _after_next.append(callback)
    return True


def in_current_execution(call: Callable[..., T], *args: object) -> T:
    """``call(*args)`` with the context of the execution request seen last.

    A fresh copy per call: one Context cannot be entered by two threads at once, and
    nothing ``call`` sets in it can leak into the next call.
    """
    latest = _latest
    if latest is None:
        return call(*args)
    context, number = latest
    outer = getattr(_delivering, "number", None)
    _delivering.number = number
    try:
        return context.copy().run(call, *args)
    finally:
        _delivering.number = outer


def _remember() -> None:
    global _latest, _executions
    _executions += 1
    _latest = (contextvars.copy_context(), _executions)


def _run_after_hooks() -> None:
    with _lock:
        callbacks = _after_next[:]
        _after_next.clear()
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a widget's problem must never fail the user's cell
            log.debug("a widget failed at the end of an execution", exc_info=True)


def _kernel_shell() -> Any:
    """The running IPython kernel's shell, without importing IPython if nobody did."""
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:  # a broken IPython must not stop a widget from working
        log.debug("no IPython shell to follow", exc_info=True)
        return None
    if shell is None or getattr(shell, "kernel", None) is None:
        return None  # plain IPython in a terminal: there are no executors to please
    return shell
