"""Fixtures shared by the whole suite: the loopback fake Search service and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_search import FakeSearch
from fakes import FakeClock, FixedBackoff

from search_task_widget import Poller

#: What makes a test slow: it starts one of these. The fast tier (``-m "not slow"``) runs
#: no kernel, browser, server process, build or npm, in under a minute.
SLOW_KINDS = ("kernel", "browser", "docs", "process")


def pytest_configure(config: pytest.Config) -> None:
    """Bring the bundled front end up to date (npm) when some slow test may run: kernels,
    browsers and builds must see ``js/`` as it is now. The fast tier never runs npm.

    Here, before any test module is collected (the widgets read their bundle when their
    module is imported), and only in the controller when the suite runs on xdist workers.
    """
    if hasattr(config, "workerinput"):
        return
    import built_front_end

    if _selects_slow_tests(config):
        built_front_end.bring_up_to_date()
    else:
        built_front_end.warn_if_stale()


def _selects_slow_tests(config: pytest.Config) -> bool:
    from _pytest.mark.expression import Expression

    markexpr = config.getoption("markexpr") or ""
    if not markexpr:
        return True
    expression = Expression.compile(markexpr)
    # Would a test of some slow kind (marked with it and with ``slow``) be selected?
    return any(
        expression.evaluate(lambda name, kind=kind, **_: name in {"slow", kind})
        for kind in SLOW_KINDS
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)
    # No reordering here: xdist hands out whole files, those with the most tests first,
    # which mixes long and short files well on two cores (starting the longest files
    # together was measured slower: they compete for the CPU at the start).


@pytest.fixture(autouse=True)
def loopback_fake_is_ours(monkeypatch) -> None:
    """The loopback fake stands in for the real (remote) service: ambient tokens go there.

    Tests of the default (no ambient token to loopback) delete this variable.
    """
    monkeypatch.setenv("SEARCH_TASK_WIDGET_LOOPBACK_AUTH", "1")


@pytest.fixture
def fake_search() -> Iterator[FakeSearch]:
    with FakeSearch() as service:
        yield service


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ticked(clock) -> Iterator[Poller]:
    """A poller that only moves when the test calls tick() (fake clock, no thread)."""
    instance = Poller(
        clock=clock, rate=1000, burst=1000, backoff=FixedBackoff(base=1.0), threaded=False
    )
    yield instance
    instance.shutdown()


@pytest.fixture
def poller() -> Iterator[Poller]:
    """A private poller on the real clock (widgets in a test don't share the kernel's)."""
    instance = Poller(rate=50.0)
    yield instance
    instance.shutdown()


@pytest.fixture
def no_machine_credentials(monkeypatch, tmp_path) -> None:
    """No credentials from the machine running the tests; token files under ``tmp_path``
    (globus-sdk stores them under ``~/.globus``), and no sign-in app cached in memory."""
    for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("search_task_widget._service.login._default_apps", {})
