"""Which notebook host runs this kernel, found at run time without importing any."""

from __future__ import annotations

from .._model.config import VOILA_BASE_URL_ENV_VAR, VOILA_KERNEL_ID_ENV_VAR, VOILA_SERVER_ENV_VAR
from .._tracking.marimo import running_marimo


def running_in_marimo() -> bool:
    """True inside a running marimo notebook or app (never imports marimo)."""
    return running_marimo() is not None


def running_in_voila() -> bool:
    """True in a kernel that Voila started (it names itself in the kernel's environment)."""
    return (
        VOILA_SERVER_ENV_VAR.read().startswith("voila/")
        or VOILA_BASE_URL_ENV_VAR.is_set()
        or VOILA_KERNEL_ID_ENV_VAR.is_set()
    )


def keeps_live_views() -> bool:
    """Hosts whose views must stay live when a task ends, rather than become documents:
    marimo (its views do not follow display updates, and it saves no outputs) and Voila
    (it renders each cell's output once, as the cell ends, so a later display update never
    reaches the page, which then loads every widget's model from the kernel)."""
    return running_in_marimo() or running_in_voila()
