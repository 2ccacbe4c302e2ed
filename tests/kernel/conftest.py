"""Fixtures for the real-kernel tests: kernels that are always shut down.

``fake_search`` (the scripted fake Search service, served from the test process on
127.0.0.1) comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import sys

import pytest
from kernel_harness import running_kernel
from kernel_venvs import EnvironmentUnavailable, ensure_environment

_environment_notes: list[str] = []


@pytest.fixture
def kernel():
    """A fresh kernel on this environment's ipykernel, shut down after the test."""
    with running_kernel(sys.executable) as harness:
        yield harness


#: The ipykernel releases the executor tests run besides the test environment's own.
OTHER_IPYKERNELS = ("6.29.5", "7.0.0")


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
        _environment_notes.append(reason.splitlines()[0])
        if error.unreachable and not os.environ.get("CI"):
            pytest.skip(reason)
        pytest.fail(reason)
    verb = "built" if environment.built else "reused"
    _environment_notes.append(
        f"ipykernel {version} venv {verb} in {environment.seconds:.1f} s: {environment.venv}"
    )
    return environment.python


@pytest.fixture(scope="session")
def ipykernel70_python():
    """The interpreter of the cached ipykernel 7.0.0 venv."""
    return kernel_python("7.0.0")


def pytest_terminal_summary(terminalreporter):
    for note in _environment_notes:
        terminalreporter.write_line(note)


@pytest.fixture
def kernel70(ipykernel70_python):
    """A fresh kernel on ipykernel 7.0.0, shut down after the test."""
    with running_kernel(ipykernel70_python) as harness:
        yield harness
