"""marimo, detected at run time: this package never imports it.

marimo shows anywidgets itself (no Jupyter kernel, no ipykernel comms): a widget's comm
sends each update to the marimo session it was opened in. That binding came with marimo
0.23.14. Before it, a comm sent to the session of the *calling thread*, which a plain
``threading.Thread`` does not have, so every update made by the poller's thread was
dropped without a word (measured with 0.23.13 in ``marimo edit`` and ``marimo run``).
marimo's documented way for a thread to reach the page is ``marimo.Thread``, which carries
the session of the cell that starts it. So, under those older releases, the poller's thread
is a ``marimo.Thread``; and in ``marimo run``, where one process serves every viewer of
the app (each session's cells run on a thread of its own), each session gets a poller of
its own, so that no viewer's task states travel to another viewer's page.
"""

from __future__ import annotations

import re
import sys
import threading
from types import ModuleType

#: The first marimo release whose widget comms reach the page from any thread.
THREAD_SAFE_COMMS = (0, 23, 14)


def running_marimo() -> ModuleType | None:
    """The ``marimo`` module when this code runs inside a marimo notebook or app, else None.

    Only a module someone else already imported is looked at, so a process without marimo
    never pays for it.
    """
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return None
    try:
        return marimo if marimo.running_in_notebook() else None
    except Exception:  # an unexpected marimo (or a stub): behave as without it
        return None


def version_tuple(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string: ``"0.23.14.dev3"`` -> ``(0, 23, 14)``."""
    match = re.match(r"\d+(?:\.\d+)*", version.strip())
    return tuple(int(part) for part in match.group().split(".")) if match else ()


def _mode(marimo: ModuleType) -> str | None:
    try:
        return str(marimo.app_meta().mode)
    except Exception:
        return None


def _needs_marimo_thread() -> ModuleType | None:
    """The running marimo, if it is older than :data:`THREAD_SAFE_COMMS`, else None."""
    marimo = running_marimo()
    if marimo is None:
        return None
    if version_tuple(str(getattr(marimo, "__version__", ""))) >= THREAD_SAFE_COMMS:
        return None
    thread_class = getattr(marimo, "Thread", None)
    if not (isinstance(thread_class, type) and issubclass(thread_class, threading.Thread)):
        return None
    return marimo


def poller_thread_class() -> type[threading.Thread]:
    """The thread class for the poller, chosen in the thread (a marimo cell) that starts it:
    ``threading.Thread``, or ``marimo.Thread`` under a marimo older than
    :data:`THREAD_SAFE_COMMS`, where only that one reaches the page."""
    marimo = _needs_marimo_thread()
    return threading.Thread if marimo is None else marimo.Thread


def session_key() -> threading.Thread | None:
    """What tells this marimo session apart, when it needs a poller of its own, else None.

    That is ``marimo run`` under a marimo older than :data:`THREAD_SAFE_COMMS`: there every
    session runs its cells on its own thread in one shared process, and the poller's
    ``marimo.Thread`` writes to the session that started it.
    """
    marimo = _needs_marimo_thread()
    if marimo is None or _mode(marimo) != "run":
        return None
    return threading.current_thread()
