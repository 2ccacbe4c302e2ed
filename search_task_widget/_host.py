"""Which notebook host runs this kernel, found at run time without importing any."""

from __future__ import annotations

import sys


def running_in_marimo() -> bool:
    """True inside a running marimo notebook or app (never imports marimo)."""
    marimo = sys.modules.get("marimo")
    if marimo is None:
        return False
    try:
        return bool(marimo.running_in_notebook())
    except Exception:  # an old or broken marimo: treat it as not running
        return False
