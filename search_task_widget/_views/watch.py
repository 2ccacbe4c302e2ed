"""One-line entry points: :func:`watch` a task (or an ingest reply) and :func:`demo`."""

from __future__ import annotations

import math
from typing import Any

from .._model.config import DEMO_SPEED_ENV_VAR
from .base import POLL_INTERVAL
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
    as fast). ``$SEARCH_TASK_WIDGET_DEMO_SPEED`` makes it faster again and the widget check
    that much more often unless given a ``poll_interval`` (tests and documentation builds
    run the tutorials so). Other keyword arguments go to :class:`TaskWidget`.
    """
    from ..simulator import shared_simulator

    factor = demo_speed_factor()
    if factor != 1:
        # The widget keeps pace with the faster timeline, so a short outage is still seen.
        kwargs.setdefault("poll_interval", POLL_INTERVAL / factor)
    simulator = shared_simulator(speed * factor)
    kwargs.setdefault("base_url", simulator.base_url)
    return watch(simulator.submit(scenario), **kwargs)


def demo_speed_factor() -> float:
    """``$SEARCH_TASK_WIDGET_DEMO_SPEED`` as a number (1 when unset); ValueError if not one."""
    text = DEMO_SPEED_ENV_VAR.read()
    try:
        factor = float(text)
    except ValueError:
        factor = math.nan
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"${DEMO_SPEED_ENV_VAR} must be a positive number, not {text!r}")
    return factor
