"""marimo, seen from the package: detected at run time, never imported.

A stand-in ``marimo`` module in ``sys.modules`` plays each release and mode; the real
marimo runs in tests/browser/test_marimo_hosts.py and tests/test_notebooks.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import types

import pytest
from fake_search import task_doc

from search_task_widget import Poller, default_poller
from search_task_widget._service.client import TaskClient
from search_task_widget._tracking.marimo import (
    poller_thread_class,
    running_marimo,
    session_key,
    version_tuple,
)
from search_task_widget._tracking.poller import Watch
from search_task_widget._tracking.schedule import AdaptiveInterval


class MarimoThread(threading.Thread):
    """Stands for ``marimo.Thread``."""


class Listener:
    """Records the states the poller reports, and on which thread."""

    def __init__(self) -> None:
        self.states: list[tuple[str, str]] = []
        self.finished = threading.Event()

    def on_task(self, task, schedule) -> None:
        self.states.append((task.state, threading.current_thread().name))
        if task.is_terminal:
            self.finished.set()

    def on_trouble(self, error, schedule) -> None:
        self.states.append(("trouble", str(error)))

    def on_fatal(self, error) -> None:
        self.states.append(("fatal", str(error)))
        self.finished.set()


def fake_marimo(version: str, mode: str | None, running: bool = True) -> types.ModuleType:
    module = types.ModuleType("marimo")
    module.__version__ = version  # type: ignore[attr-defined]
    module.Thread = MarimoThread  # type: ignore[attr-defined]
    module.running_in_notebook = lambda: running  # type: ignore[attr-defined]
    module.app_meta = lambda: types.SimpleNamespace(mode=mode)  # type: ignore[attr-defined]
    return module


@pytest.fixture
def marimo(monkeypatch):
    """Install a stand-in marimo: ``marimo(version, mode, running=True)``."""

    def install(version: str, mode: str | None, running: bool = True) -> types.ModuleType:
        module = fake_marimo(version, mode, running)
        monkeypatch.setitem(sys.modules, "marimo", module)
        return module

    return install


def test_marimo_is_never_imported_by_the_package():
    code = "import search_task_widget, sys; print('marimo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_without_marimo_the_poller_thread_is_a_plain_thread(monkeypatch):
    monkeypatch.delitem(sys.modules, "marimo", raising=False)
    assert running_marimo() is None
    assert poller_thread_class() is threading.Thread


def test_imported_but_not_running_marimo_changes_nothing(marimo):
    marimo("0.20.0", "edit", running=False)
    assert running_marimo() is None
    assert poller_thread_class() is threading.Thread


@pytest.mark.parametrize("mode", ["edit", "run"])
@pytest.mark.parametrize("version", ["0.23.14", "0.25.2", "1.0.0rc1"])
def test_current_marimo_sends_from_any_thread(marimo, version, mode):
    marimo(version, mode)
    assert poller_thread_class() is threading.Thread


def test_older_marimo_edit_mode_gets_a_marimo_thread_and_one_poller(marimo):
    marimo("0.23.13", "edit")
    assert poller_thread_class() is MarimoThread
    assert session_key() is None  # one process, one session: the process-wide poller
    assert default_poller() is default_poller()


def test_older_marimo_app_mode_gets_a_poller_per_session(marimo):
    # One process serves every viewer of a `marimo run` app, each session's cells on a
    # thread of their own; a marimo.Thread carries the session that started it.
    marimo("0.23.13", "run")
    assert poller_thread_class() is MarimoThread
    found: dict[str, Poller] = {}

    def session(name: str) -> None:
        found[name] = default_poller()
        found[name + " again"] = default_poller()

    sessions = [threading.Thread(target=session, args=(name,)) for name in ("a", "b")]
    for thread in sessions:
        thread.start()
        thread.join(10)
    assert found["a"] is found["a again"]
    assert found["b"] is found["b again"]
    assert found["a"] is not found["b"]
    assert default_poller() not in (found["a"], found["b"])
    assert session_key() is threading.current_thread()


@pytest.mark.parametrize("mode", ["edit", "run"])
def test_current_marimo_shares_the_process_wide_poller(marimo, mode):
    marimo("0.25.2", mode)
    assert session_key() is None
    found = []
    thread = threading.Thread(target=lambda: found.append(default_poller()))
    thread.start()
    thread.join(10)
    assert found == [default_poller()]


def test_a_broken_marimo_is_treated_as_absent(marimo):
    module = marimo("0.1.0", "edit")

    def boom() -> bool:
        raise RuntimeError("not this marimo")

    module.running_in_notebook = boom
    assert running_marimo() is None
    assert poller_thread_class() is threading.Thread


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.23.14", (0, 23, 14)), ("0.23.14.dev3", (0, 23, 14)), ("1.0rc1", (1, 0)), ("x", ())],
)
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


def test_the_poller_starts_its_thread_as_marimo_needs(marimo, fake_search):
    marimo("0.23.13", "edit")
    poller = Poller(rate=50.0)
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    listener = Listener()
    with TaskClient(fake_search.base_url) as client:
        poller._add(Watch(doc["task_id"], client, listener, AdaptiveInterval(0.05, 0.05)))
        assert isinstance(poller.thread, MarimoThread)
        assert listener.finished.wait(10)
        poller.shutdown()
    assert listener.states == [("SUCCESS", "search-task-poller")]
