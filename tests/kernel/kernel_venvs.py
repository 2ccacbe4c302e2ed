"""Kernel environments with other ipykernel releases than the test environment's.

* ipykernel 7.0.0, the release where plain threads break: a widget update sent from a plain
  ``threading.Thread`` fails with a ``LookupError`` on the ``shell_parent`` ContextVar
  (ipykernel#1450, ipywidgets#4001); the poller avoids it by starting its thread in a
  copied :mod:`contextvars` context.
* ipykernel 6.29.5, the last 6.x, where a message's parent is a process-wide global (the
  running cell) rather than a context variable: headless executors keep a background
  thread's messages there for a different reason than on 7.x (see ``_cells``).

Testing those needs real kernels, so this module keeps a virtual environment for each:

* one clean venv per machine and release (not ``--system-site-packages``: that would see the
  newer ipykernel of the test environment) in ``$SEARCH_TASK_WIDGET_TEST_CACHE`` or
  ``${XDG_CACHE_HOME:-~/.cache}/search-task-widget-tests/venv-ipykernel-<version>``;
* it holds ``ipykernel==<version>`` and this project's declared dependencies, read from
  ``pyproject.toml``, but **not** the project itself: each kernel gets the checkout under
  test on ``PYTHONPATH`` instead, so one cached venv serves every clone of the repository
  (CI tests a fresh clone in another folder) and never runs stale code;
* it is built in a temporary folder and renamed into place under a file lock, so an
  interrupted build leaves nothing half-made and two test runs cannot build it at once;
* it is reused while its recorded requirements match and a probe imports everything.

Building takes about 15-25 s each (venv with pip, then the install) and happens on a
machine's first run, CI's included.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kernel_harness import REPO_ROOT, kernel_environment

STAMP = "search-task-widget-tests.json"
#: What the session did with the venvs, for the test report (see conftest).
environment_notes: list[str] = []
INSTALL_TIMEOUT = 600.0

# pip's words when the package index cannot be reached (or does not have the release).
_UNREACHABLE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|Connection refused|"
    r"ConnectTimeoutError|Read timed out|ProxyError|No matching distribution found|"
    r"Could not find a version that satisfies",
    re.IGNORECASE,
)


class EnvironmentUnavailable(RuntimeError):
    """The venv could not be made; ``unreachable`` when the package index was the cause."""

    def __init__(self, message: str, *, unreachable: bool) -> None:
        super().__init__(message)
        self.unreachable = unreachable


@dataclass(frozen=True)
class KernelEnvironment:
    python: str  # the venv's interpreter, to run ``-m ipykernel_launcher``
    venv: Path
    built: bool  # True if this call created the venv
    seconds: float  # time spent making (or checking) it


def cache_dir() -> Path:
    explicit = os.environ.get("SEARCH_TASK_WIDGET_TEST_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "search-task-widget-tests"


def project_dependencies() -> list[str]:
    """``[project].dependencies`` of this repository's pyproject.toml."""
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: a plain look at the one list we need
        block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.MULTILINE | re.DOTALL)
        return re.findall(r"\"([^\"]+)\"", block.group(1)) if block else []
    return list(tomllib.loads(text)["project"]["dependencies"])


def requirements(version: str) -> list[str]:
    return [f"ipykernel=={version}", *project_dependencies()]


def _interpreter(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _wanted_stamp(version: str) -> dict[str, object]:
    return {
        "python": list(sys.version_info[:2]),
        "requirements": requirements(version),
    }


def _probe(version: str) -> str:
    return f"""
import ipykernel, anywidget, ipywidgets, traitlets, httpx
assert ipykernel.__version__ == {version!r}, ipykernel.__version__
import search_task_widget, search_task_widget.simulator
"""


def _usable(venv: Path, version: str) -> bool:
    python = _interpreter(venv)
    try:
        stamp = json.loads((venv / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if stamp != _wanted_stamp(version) or not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", _probe(version)],
        env=kernel_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return probe.returncode == 0


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentUnavailable(
            f"{what} did not finish within {INSTALL_TIMEOUT:g} s (package index unreachable?)",
            unreachable=True,
        ) from None
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        tail = "\n".join(output.splitlines()[-25:])
        raise EnvironmentUnavailable(
            f"{what} failed (exit {done.returncode}):\n{tail}",
            unreachable=bool(_UNREACHABLE.search(output)),
        )


def ensure_environment(version: str) -> KernelEnvironment:
    """The cached venv of ipykernel ``version``, built first if missing or outdated."""
    started = time.monotonic()
    root = cache_dir()
    venv_name = f"venv-ipykernel-{version}"
    venv = root / venv_name
    with _locked(root / f"{venv_name}.lock"):
        if _usable(venv, version):
            return KernelEnvironment(
                str(_interpreter(venv)), venv, False, time.monotonic() - started
            )
        building = root / f"{venv_name}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        try:
            _run([sys.executable, "-m", "venv", str(building)], "creating the venv")
            _run(
                [
                    str(_interpreter(building)),
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "--quiet",
                    *requirements(version),
                ],
                f"pip install {' '.join(requirements(version))}",
            )
            (building / STAMP).write_text(json.dumps(_wanted_stamp(version)), encoding="utf-8")
            shutil.rmtree(venv, ignore_errors=True)
            building.rename(venv)  # a venv's bin/python finds pyvenv.cfg beside itself
        finally:
            shutil.rmtree(building, ignore_errors=True)
        if not _usable(venv, version):
            raise EnvironmentUnavailable(
                f"{venv} was built but cannot import ipykernel {version} and search_task_widget",
                unreachable=False,
            )
        return KernelEnvironment(str(_interpreter(venv)), venv, True, time.monotonic() - started)


#: The ipykernel releases the executor tests run besides the test environment's own.
OTHER_IPYKERNELS = ("6.29.5", "7.0.0")


@functools.cache  # one probe per release and session (a skip or failure is not cached)
def kernel_python(version: str) -> str:
    """The interpreter of the cached venv of ipykernel ``version`` (built on a machine's
    first run; see ``kernel_venvs``).

    Skips when the package index cannot be reached, except on CI (``$CI`` set), where a
    missing environment must fail the run rather than hide the regression test.
    """
    try:
        environment = ensure_environment(version)
    except EnvironmentUnavailable as error:
        reason = f"no ipykernel {version} environment: {error}"
        environment_notes.append(reason.splitlines()[0])
        if error.unreachable and not os.environ.get("CI"):
            pytest.skip(reason)
        pytest.fail(reason)
    verb = "built" if environment.built else "reused"
    environment_notes.append(
        f"ipykernel {version} venv {verb} in {environment.seconds:.1f} s: {environment.venv}"
    )
    return environment.python
