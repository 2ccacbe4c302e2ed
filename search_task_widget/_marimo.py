"""marimo, detected at run time: this package never imports it.

marimo shows anywidgets itself (no Jupyter kernel, no ipykernel comms): a widget's comm
sends each update to the marimo session it was opened in. That binding came with marimo
0.23.14. Before it, a comm sent to the session of the *calling thread*, which a plain
``threading.Thread`` does not have, so every update made by the poller's thread was
dropped without a word (measured with 0.23.13 in ``marimo edit`` and ``marimo run``).
marimo's documented way for a thread to reach the page is ``marimo.Thread``, which copies
the session of the cell that starts it. So, under those older releases, the poller's thread
is a ``marimo.Thread`` in ``marimo edit``, where one process serves one session. In
``marimo run`` one process serves every viewer of the app and the one poller thread
would carry the first viewer's session, sending other viewers' task states to that page:
there the thread stays plain (no updates on those releases; the README says to upgrade).
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


def poller_thread_class() -> type[threading.Thread]:
    """The thread class for the poller, chosen in the thread (a marimo cell) that starts it.

    ``threading.Thread`` everywhere except in ``marimo edit`` on a marimo older than
    :data:`THREAD_SAFE_COMMS`, where only a ``marimo.Thread`` reaches the page.
    """
    marimo = running_marimo()
    if marimo is None:
        return threading.Thread
    if version_tuple(str(getattr(marimo, "__version__", ""))) >= THREAD_SAFE_COMMS:
        return threading.Thread
    thread_class = getattr(marimo, "Thread", None)
    usable = isinstance(thread_class, type) and issubclass(thread_class, threading.Thread)
    if usable and _mode(marimo) == "edit":
        return thread_class  # type: ignore[return-value]
    return threading.Thread
