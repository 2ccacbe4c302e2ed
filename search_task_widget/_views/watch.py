"""One-line entry points: :func:`watch` a task (or an ingest reply) and :func:`demo`."""

from __future__ import annotations

from typing import Any

from .widget import TaskWidget


def watch(task: object, **kwargs: Any) -> TaskWidget:
    """Display a live :class:`TaskWidget` for ``task`` and return it.

    ``task`` is a task id or the reply of ``SearchClient.ingest`` (or ``delete_*``,
    ``get_task``); given a globus-sdk reply and no ``auth=``, the widget polls with the
    client that sent it (its sign-in and its service URL) and the index of the request.
    Keyword arguments are those of :class:`TaskWidget`.
    """
    widget = TaskWidget(task, **kwargs)
    widget.show()
    return widget


def demo(scenario: str = "success", *, speed: float = 1.0, **kwargs: Any) -> TaskWidget:
    """Watch a task on the built-in simulator: no account, no network.

    ``scenario`` is one of :data:`.SCENARIOS` ("success",
    "failure", "slow-queue", "outage", ...); ``speed`` runs its timeline faster (2 = twice
    as fast). Other keyword arguments go to :class:`TaskWidget`.
    """
    from ..simulator import shared_simulator

    simulator = shared_simulator(speed)
    kwargs.setdefault("base_url", simulator.base_url)
    return watch(simulator.submit(scenario), **kwargs)
