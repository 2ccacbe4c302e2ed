"""Watch Globus Search tasks live in Jupyter.

    import search_task_widget as stw
    stw.watch(search_client.ingest(index_id, document), auth=search_client)
    stw.demo()  # the same on the built-in simulator, no account needed

Importing this package is cheap: each public name is imported from its layer the first
time it is used (a ``__getattr__`` table, as globus-sdk does), so the terminal and the
tracking core never load anywidget, ipywidgets or IPython; globus-sdk is imported only
when a token is used or the service URL has to be looked up.
"""

from __future__ import annotations

import importlib
import logging as _logging
from typing import TYPE_CHECKING, Any

from ._version import __version__

# A library logs; the application decides where logs go (nothing is printed by default).
_logging.getLogger("search_task_widget").addHandler(_logging.NullHandler())

#: Each public name and the module (relative to this package) that defines it.
_LAZY: dict[str, str] = {
    "KNOWN_STATES": "._model.vocabulary",
    "TERMINAL_STATES": "._model.vocabulary",
    "Task": "._model.task",
    "PollingStoppedError": "._model.errors",
    "SearchTaskError": "._model.errors",
    "SignInRequiredError": "._model.errors",
    "TaskAPIError": "._model.errors",
    "TaskListError": "._model.errors",
    "TaskNetworkError": "._model.errors",
    "TaskResponseError": "._model.errors",
    "login_app": "._service.login",
    "Poller": "._tracking.poller",
    "default_poller": "._tracking.poller",
    "TaskWidget": "._views.widget",
    "TaskListWidget": "._views.list_widget",
    "SignInWidget": "._views.sign_in",
    "sign_in": "._views.sign_in",
    "demo": "._views.watch",
    "task_id_of": "._service.reply",
    "watch": "._views.watch",
    "ingest": "._views.ingest_view",
    "IngestJob": "._ingest.job",
    "Limits": "._model.limits",
}

__all__ = [
    "KNOWN_STATES",
    "TERMINAL_STATES",
    "IngestJob",
    "Limits",
    "Poller",
    "PollingStoppedError",
    "SearchTaskError",
    "SignInRequiredError",
    "SignInWidget",
    "Task",
    "TaskAPIError",
    "TaskListError",
    "TaskListWidget",
    "TaskNetworkError",
    "TaskResponseError",
    "TaskWidget",
    "__version__",
    "default_poller",
    "demo",
    "ingest",
    "login_app",
    "sign_in",
    "task_id_of",
    "watch",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if TYPE_CHECKING:  # type checkers and IDEs see every name eagerly
    from ._ingest.job import IngestJob
    from ._model.errors import (
        PollingStoppedError,
        SearchTaskError,
        SignInRequiredError,
        TaskAPIError,
        TaskListError,
        TaskNetworkError,
        TaskResponseError,
    )
    from ._model.limits import Limits
    from ._model.task import Task
    from ._model.vocabulary import KNOWN_STATES, TERMINAL_STATES
    from ._service.login import login_app
    from ._service.reply import task_id_of
    from ._tracking.poller import Poller, default_poller
    from ._views.ingest_view import ingest
    from ._views.list_widget import TaskListWidget
    from ._views.sign_in import SignInWidget, sign_in
    from ._views.watch import demo, watch
    from ._views.widget import TaskWidget
