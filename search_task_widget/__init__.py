"""Watch Globus Search tasks live in Jupyter.

    import search_task_widget as stw
    stw.watch(search_client.ingest(index_id, document), auth=search_client)
    stw.demo()  # the same on the built-in simulator, no account needed

Importing this package is cheap: globus-sdk is imported only when a token is used or the
service URL has to be looked up.
"""

import logging as _logging

from ._errors import (
    PollingStoppedError,
    SearchTaskError,
    SignInRequiredError,
    TaskAPIError,
    TaskNetworkError,
    TaskResponseError,
)
from ._list_widget import TaskListError, TaskListWidget
from ._login import login_app
from ._poller import Poller, default_poller
from ._sign_in import SignInWidget, sign_in
from ._task import KNOWN_STATES, TERMINAL_STATES, Task
from ._version import __version__
from ._watch import demo, task_id_of, watch
from ._widget import TaskWidget

# A library logs; the application decides where logs go (nothing is printed by default).
_logging.getLogger("search_task_widget").addHandler(_logging.NullHandler())

__all__ = [
    "KNOWN_STATES",
    "TERMINAL_STATES",
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
    "login_app",
    "sign_in",
    "task_id_of",
    "watch",
]
