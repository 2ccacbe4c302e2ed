"""Brings the bundled front end up to date (``hatch_build.py``) for the slow tiers.

``tests/conftest.py`` calls :func:`bring_up_to_date` before any test module is collected
(the widgets read their bundle when their module is imported): so every kernel and browser
page runs the front end in ``js/`` as it is now, not an older build. Without Node the bundle
in place is used; CI (``CI`` or ``SEARCH_TASK_WIDGET_REQUIRE_NODE`` set) requires the build.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = bool(os.environ.get("CI") or os.environ.get("SEARCH_TASK_WIDGET_REQUIRE_NODE"))


def hatch_build_module():  # the build hook's module, loaded by path (it is not a package)
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bring_up_to_date() -> None:
    hatch_build = hatch_build_module()
    try:
        hatch_build.build_front_end()
    except hatch_build.FrontEndBuildError as error:
        if REQUIRED:
            raise
        warnings.warn(f"front end not rebuilt: {error}", stacklevel=1)


def warn_if_stale() -> None:
    """The fast tier runs no npm: say so when ``js/`` is newer than its bundle, whose tests
    then read yesterday's front end (``npm run build`` in ``js/``, or run a slow test)."""
    if not hatch_build_module().is_fresh():
        warnings.warn(
            "the bundled front end is older than js/: run `npm run build` in js/",
            stacklevel=1,
        )
