"""Build the front end when hatchling builds the package (``pip install .``, ``pip install
-e .``, ``python -m build``): ``npm ci`` and ``npm run build`` in ``js/`` bundle each widget's
module and stylesheet into ``search_task_widget/static/`` (git-ignored, carried by the wheel
and the sdist). Skipped when the bundle is newer than every source, so an sdist, which
carries the bundle, installs without Node.

``tests/conftest.py`` calls :func:`build_front_end` too, so tests never run a stale bundle.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent
JS = ROOT / "js"
STATIC = ROOT / "search_task_widget" / "static"
#: The files the build writes (js/build.js): a module and a stylesheet per widget, and the loader.
WIDGETS = ("widget", "list", "signin_widget")
BUNDLES = (*(f"{name}.{kind}" for name in WIDGETS for kind in ("js", "css")), "loader.js")
HOW = "install Node.js 18+ and npm, then run `npm ci && npm run build` in js/"


class FrontEndBuildError(RuntimeError):
    """The front end is needed but cannot be built here."""


def _newest_source() -> float:
    sources = [*JS.glob("*.js"), *JS.glob("*.css"), *JS.glob("*.json")]
    return max((p.stat().st_mtime for p in sources), default=0.0)


def is_fresh() -> bool:
    """Whether every bundle exists and is newer than every source in ``js/``."""
    bundles = [STATIC / name for name in BUNDLES]
    if not all(p.is_file() for p in bundles):
        return False
    if not (JS / "package.json").is_file():
        return True  # an sdist without sources, or an installed copy: nothing to rebuild from
    return min(p.stat().st_mtime for p in bundles) >= _newest_source()


def _npm(*args: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise FrontEndBuildError(f"npm not found: {HOW}")
    done = subprocess.run(
        [npm, *args], cwd=JS, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise FrontEndBuildError(f"npm {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def build_front_end() -> bool:
    """Bundle ``js/`` into ``search_task_widget/static/`` unless it is up to date.

    Installs the locked dev dependencies first (:func:`install_dependencies`). Returns
    whether it built.
    """
    if is_fresh():
        return False
    install_dependencies()
    _npm("run", "build")
    return True


def install_dependencies() -> None:
    """``npm ci`` (the locked esbuild, TypeScript, types), unless ``js/node_modules`` is
    already newer than the lock file."""
    installed = JS / "node_modules" / ".package-lock.json"
    lock = JS / "package-lock.json"
    if not installed.is_file() or installed.stat().st_mtime < lock.stat().st_mtime:
        _npm("ci", "--no-audit", "--no-fund")


class FrontEndBuildHook(BuildHookInterface):
    """Hatch's custom build hook (``[tool.hatch.build.hooks.custom]`` in pyproject.toml)."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the front end before the wheel or sdist collects its files."""
        try:
            build_front_end()
        except FrontEndBuildError as error:
            if all((STATIC / name).is_file() for name in BUNDLES):
                warnings.warn(f"front end not rebuilt, using the old bundle: {error}", stacklevel=1)
            elif version == "editable":
                # Python-only work still installs; the widgets say what is missing.
                warnings.warn(f"front end not built: {error}", stacklevel=1)
            else:
                raise
