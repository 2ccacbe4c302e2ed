"""What a task argument says: its task id and, for a globus-sdk reply, who sent it where.

``SearchClient.ingest()`` (and ``delete_by_query``, ``batch_delete_by_subject``,
``get_task``) return a ``globus_sdk.GlobusHTTPResponse``. Besides the task id in its JSON
body, such a reply knows the client that sent it (the public ``.client``) and the request
it answers, whose URL names the index (``/v1/index/<index_id>/ingest``). With those, a
widget given only the reply polls with that client's sign-in and service, as ``auth=sc``
would, and batches by index from its first check.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .._model.task import Task, normalize_task_id
from .._model.vocabulary import TASK_CALLS

# The URL path of a Search call that creates a task.
_TASK_CREATING_PATH = re.compile(
    rf"/v1/index/(?P<index>[^/]+)/(?:{'|'.join(map(re.escape, TASK_CALLS))})/?$"
)


@dataclass(frozen=True)
class TaskReference:
    """A task to watch, and what its reply (if any) tells about it.

    Attributes:
        task_id: the task's id, normalized.
        client: the ``globus_sdk.SearchClient`` that sent the reply, else None.
        index_id: the task's index (from the reply's body or its request URL), else None.
    """

    task_id: str
    client: Any = None
    index_id: str | None = None


def task_reference(task: object, *, strict: bool = False) -> TaskReference:
    """Read ``task``: an id (str or UUID), a reply of ``SearchClient.ingest`` and friends
    (a ``GlobusHTTPResponse``), a dict with ``task_id``, or a :class:`Task`.

    Raises:
        ValueError: a malformed id, or a reply without ``task_id``.
        TypeError: with ``strict``, neither an id nor a reply (else read as a bad id).
    """
    if isinstance(task, Task):
        return TaskReference(normalize_task_id(task.task_id), None, _uuid_or_none(task.index_id))
    data = getattr(task, "data", task)  # GlobusHTTPResponse keeps the JSON body in .data
    if not isinstance(data, Mapping):
        if strict and not isinstance(task, (str, uuid.UUID)):
            raise TypeError(
                "expected a task id (str or uuid.UUID) or the reply of SearchClient.ingest / "
                f"delete_by_query / batch_delete_by_subject, not a {type(task).__name__}"
            )
        return TaskReference(normalize_task_id(task))
    if "task_id" not in data:
        raise ValueError("this reply has no 'task_id': was it from ingest or delete_by_query?")
    index_id = _uuid_or_none(data.get("index_id")) or _request_index(task)
    return TaskReference(normalize_task_id(data["task_id"]), _search_client(task), index_id)


def _search_client(reply: object) -> Any:
    """The ``SearchClient`` that sent ``reply``, if it is a globus-sdk reply from one."""
    # A globus-sdk reply means globus-sdk is imported already; don't import it for a dict.
    globus_sdk = sys.modules.get("globus_sdk")
    if globus_sdk is None or not isinstance(reply, globus_sdk.GlobusHTTPResponse):
        return None
    client = reply.client  # public: "the client instance which made the request"
    return client if isinstance(client, globus_sdk.SearchClient) else None


def _request_index(reply: object) -> str | None:
    """The index id in the URL of the request ``reply`` answers (ingest and deletes)."""
    if _search_client(reply) is None:
        return None
    # GlobusHTTPResponse exposes no public request URL; its ``requests`` response does
    # (``.url``). Reading it may fail on replies built by hand (tests, wrappers): then the
    # index stays unknown, which only costs the first check its batching.
    try:
        url = reply._raw_response.url  # type: ignore[attr-defined]
    except (AttributeError, ValueError, NotImplementedError):
        return None
    match = _TASK_CREATING_PATH.search(urlsplit(str(url)).path)
    return _uuid_or_none(match.group("index")) if match else None


def _uuid_or_none(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value))) if value is not None else None
    except ValueError:
        return None


def task_id_of(task: object) -> str:
    """The task id in ``task``: an id (str or UUID), a reply of ``SearchClient.ingest``,
    ``delete_by_query`` and friends (a ``GlobusHTTPResponse`` or a dict with ``task_id``),
    or a :class:`~search_task_widget.Task`.
    """
    return task_reference(task, strict=True).task_id
