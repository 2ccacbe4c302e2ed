"""One-line entry points: :func:`watch` a task (or an ingest reply) and :func:`demo`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ._task import normalize_task_id
from ._widget import TaskWidget


def task_id_of(task: object) -> str:
    """The task id in ``task``: an id (str or UUID), or a reply of ``SearchClient.ingest``,
    ``delete_by_query`` and friends (a ``GlobusHTTPResponse`` or a dict with ``task_id``).
    """
    if isinstance(task, (str, uuid.UUID)):
        return normalize_task_id(task)
    data = getattr(task, "data", task)  # GlobusHTTPResponse keeps the JSON body in .data
    if isinstance(data, Mapping):
        if "task_id" not in data:
            raise ValueError("this reply has no 'task_id': was it from ingest or delete_by_query?")
        return normalize_task_id(data["task_id"])
    raise TypeError(
        "watch() takes a task id (str or uuid.UUID) or the reply of SearchClient.ingest / "
        f"delete_by_query / batch_delete_by_subject, not a {type(task).__name__}"
    )


def watch(task: object, **kwargs: Any) -> TaskWidget:
    """Display a live :class:`TaskWidget` for ``task`` and return it.

    ``task`` is a task id or the reply of ``SearchClient.ingest`` (or ``delete_*``);
    keyword arguments are those of :class:`TaskWidget`.
    """
    widget = TaskWidget(task_id_of(task), **kwargs)
    widget.show()
    return widget


def demo(scenario: str = "success", *, speed: float = 1.0, **kwargs: Any) -> TaskWidget:
    """Watch a task on the built-in simulator: no account, no network.

    ``scenario`` is one of :data:`search_task_widget.simulator.SCENARIOS` ("success",
    "failure", "slow-queue", "outage", ...); ``speed`` runs its timeline faster (2 = twice
    as fast). Other keyword arguments go to :class:`TaskWidget`.
    """
    from .simulator import shared_simulator

    simulator = shared_simulator(speed)
    kwargs.setdefault("base_url", simulator.base_url)
    return watch(simulator.submit(scenario), **kwargs)
