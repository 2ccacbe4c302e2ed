"""Fixtures for the real-kernel tests: kernels that are always shut down, and the fakes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS) not in sys.path:  # tests/fake_search.py lives one level up
    sys.path.insert(0, str(_TESTS))

from fake_search import FakeSearch  # noqa: E402
from ipykernel70 import EnvironmentUnavailable, ensure_environment  # noqa: E402
from kernel_harness import running_kernel  # noqa: E402


@pytest.fixture
def kernel():
    """A fresh kernel on this environment's ipykernel, shut down after the test."""
    with running_kernel(sys.executable) as harness:
        yield harness


@pytest.fixture(scope="session")
def ipykernel70_python():
    """The interpreter of the cached ipykernel 7.0.0 venv (built on a machine's first run).

    Skips when the package index cannot be reached, except on CI (``$CI`` set), where a
    missing environment must fail the run rather than hide the regression test.
    """
    try:
        environment = ensure_environment()
    except EnvironmentUnavailable as error:
        reason = f"no ipykernel 7.0.0 environment: {error}"
        if error.unreachable and not os.environ.get("CI"):
            pytest.skip(reason)
        pytest.fail(reason)
    return environment.python


@pytest.fixture
def kernel70(ipykernel70_python):
    """A fresh kernel on ipykernel 7.0.0, shut down after the test."""
    with running_kernel(ipykernel70_python) as harness:
        yield harness


@pytest.fixture
def fake_search():
    """The scripted fake Search service, served from the test process on 127.0.0.1."""
    with FakeSearch() as fake:
        yield fake
