"""Fixtures for the real-kernel tests: kernels that are always shut down.

``fake_search`` (the scripted fake Search service, served from the test process on
127.0.0.1) comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import sys

import pytest
from kernel_harness import running_kernel
from kernel_venvs import environment_notes, kernel_python


@pytest.fixture
def kernel():
    """A fresh kernel on this environment's ipykernel, shut down after the test."""
    with running_kernel(sys.executable) as harness:
        yield harness


@pytest.fixture(scope="session")
def ipykernel70_python():
    """The interpreter of the cached ipykernel 7.0.0 venv."""
    return kernel_python("7.0.0")


def pytest_terminal_summary(terminalreporter):
    for note in environment_notes:
        terminalreporter.write_line(note)


@pytest.fixture
def kernel70(ipykernel70_python):
    """A fresh kernel on ipykernel 7.0.0, shut down after the test."""
    with running_kernel(ipykernel70_python) as harness:
        yield harness
