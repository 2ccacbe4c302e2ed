"""Which notebook host runs this kernel, found at run time without importing any."""

from __future__ import annotations

import os

from ._marimo import running_marimo


def running_in_marimo() -> bool:
    """True inside a running marimo notebook or app (never imports marimo)."""
    return running_marimo() is not None


def running_in_voila() -> bool:
    """True in a kernel that Voila started (it names itself in the kernel's environment)."""
    return bool(
        os.environ.get("SERVER_SOFTWARE", "").startswith("voila/")
        or os.environ.get("VOILA_BASE_URL")
        or os.environ.get("VOILA_KERNEL_ID")
    )


def keeps_live_views() -> bool:
    """Hosts whose views must stay live when a task ends, rather than become documents:
    marimo (its views do not follow display updates, and it saves no outputs) and Voila
    (it renders each cell's output once, as the cell ends, so a later display update never
    reaches the page, which then loads every widget's model from the kernel)."""
    return running_in_marimo() or running_in_voila()
