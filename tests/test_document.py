"""A finished widget becomes a document; running widgets share one copy of the front end.

These are unit tests on a fake clock with ipywidgets' kernel-less comms; what executors save
is proven with real kernels in ``tests/kernel/test_executors.py``, and what browsers show in
``tests/browser``.
"""

from __future__ import annotations

import contextvars
import json
import re
import sys
import threading
import types
from datetime import datetime, timezone

import pytest
from fake_search import FAKE_INDEX_ID, task_doc

import search_task_widget as stw
from search_task_widget._tracking import cells as _cells
from search_task_widget._views import front_end as _front_end
from search_task_widget._views.assets import loader
from search_task_widget._views.front_end import FrontEnd, shared_front_end, shared_layout

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(autouse=True)
def no_open_widgets_from_other_tests():
    """The shared front end lives while any open widget needs it: a widget another test in
    this process left open (and not yet collected) would keep it, whatever this test does."""
    from ipywidgets.widgets.widget import _instances

    from search_task_widget._views.base import PolledWidget

    for model in list(_instances.values()):
        if isinstance(model, PolledWidget):
            model.close()


@pytest.fixture
def displays(monkeypatch):
    """Every display update the widgets make: (display id, bundle)."""
    made: list[tuple[str, dict]] = []

    def update_display(bundle, *, raw, display_id):
        assert raw
        made.append((display_id, bundle))

    monkeypatch.setattr("IPython.display.update_display", update_display)
    return made


def shown(widget, display_id: str = "d1") -> None:
    """As if the widget had been displayed once (what ``_ipython_display_`` records)."""
    widget._display_ids.append(display_id)


def test_a_finished_task_becomes_a_document_and_keeps_working(fake_search, ticked, displays):
    doc = task_doc(state="PROGRESS")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    shown(w)
    ticked.tick()
    assert WIDGET_VIEW in w._repr_mimebundle_()  # live while the task runs
    assert displays == []

    fake_search.put_task(task_doc(doc["task_id"], "FAILED", message="2 of 9 <b>failed</b>"))
    ticked.clock.advance(5)
    ticked.tick()

    [(display_id, bundle)] = displays
    assert display_id == "d1"
    assert set(bundle) == {"text/plain", "text/html"}
    assert "FAILED" in bundle["text/plain"]
    assert "2 of 9 &lt;b&gt;failed&lt;/b&gt;" in bundle["text/html"]
    assert w.comm is None  # the model went; the object did not
    assert w.state == "FAILED"
    assert w.task["message"] == "2 of 9 <b>failed</b>"
    assert w.wait(timeout=0)["state"] == "FAILED"
    w.start()  # an ended task never changes: nothing to do, and no error
    assert "2 of 9" in w.to_html()
    assert set(w._repr_mimebundle_()) == {"text/plain", "text/html"}
    w.close()


def test_an_end_that_comes_while_the_widget_is_being_shown_reaches_that_display(
    fake_search, ticked, monkeypatch
):
    """The end must not be told to a display the page has not got yet: the poller thread
    waits until the display went out, then updates it to the document."""
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    fake_search.put_task(task_doc(doc["task_id"], "FAILED"))
    sent: list[tuple[str, str, dict]] = []
    ender = threading.Thread(target=ticked.tick)

    def display(bundle, *, raw, display_id):
        # Deterministic: the display goes out under the lock the poller ends under...
        assert w._group.lock._is_owned()  # type: ignore[attr-defined]
        # ...and so, seen from outside, an answer arriving now waits for it.
        ender.start()
        ender.join(timeout=0.5)  # with no lock in the way, the end would be told first
        sent.append(("display", display_id, bundle))

    def update_display(bundle, *, raw, display_id):
        sent.append(("update", display_id, bundle))

    monkeypatch.setattr("IPython.display.display", display)
    monkeypatch.setattr("IPython.display.update_display", update_display)
    w._ipython_display_()
    ender.join(timeout=30)
    assert not ender.is_alive()
    assert [(kind, WIDGET_VIEW in bundle) for kind, _, bundle in sent] == [
        ("display", True),
        ("update", False),  # then the document, to that display
    ]
    assert sent[0][1] == sent[1][1]
    assert "FAILED" in sent[1][2]["text/plain"]
    w.close()


def test_polling_stopped_by_an_error_stays_live(fake_search, ticked, displays):
    doc = task_doc(state="PENDING")  # never put: the fake answers 404
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    shown(w)
    ticked.tick()
    assert w.trouble == "fatal"
    [(_, bundle)] = displays
    assert WIDGET_VIEW in bundle  # start() or a sign-in may resume it
    assert w.comm is not None
    w.close()


def test_a_list_becomes_a_document_once_every_task_ended_and_live_again_on_add(
    fake_search, ticked, displays
):
    a, b = task_doc(state="PROGRESS"), task_doc(state="PENDING")
    for doc in (a, b):
        fake_search.put_task(doc)
    board = stw.TaskListWidget(
        [a["task_id"], b["task_id"]], base_url=fake_search.base_url, poller=ticked
    )
    shown(board)
    ticked.tick()
    fake_search.put_task(task_doc(a["task_id"], "SUCCESS"))
    fake_search.put_task(task_doc(b["task_id"], "PROGRESS"))
    ticked.clock.advance(5)
    ticked.tick()
    assert displays == []  # one task still runs: live
    fake_search.put_task(task_doc(b["task_id"], "FAILED", message="bad batch"))
    ticked.clock.advance(5)
    ticked.tick()
    [(_, bundle)] = displays
    assert set(bundle) == {"text/plain", "text/html"}
    assert "bad batch" in bundle["text/html"]
    assert board.comm is None
    first_model = board._model_id

    c = task_doc(state="PENDING", index_id=FAKE_INDEX_ID)
    fake_search.put_task(c)
    board.add(c["task_id"])  # a new task: live again, as a new model
    assert board.comm is not None
    assert board._model_id != first_model
    assert displays[-1][1][WIDGET_VIEW]["model_id"] == board._model_id
    board.close()


def test_widgets_share_one_front_end_and_one_layout(fake_search):
    widgets = [
        stw.TaskWidget(task_doc()["task_id"], base_url=fake_search.base_url, start=False)
        for _ in range(3)
    ]
    board = stw.TaskListWidget([], base_url=fake_search.base_url, start=False)
    try:
        assert {id(w._front_end) for w in widgets} == {id(shared_front_end("widget"))}
        assert board._front_end is shared_front_end("list")
        assert {id(w.layout) for w in [*widgets, board]} == {id(shared_layout())}
        for w in [*widgets, board]:
            state = w.get_state()
            assert state["_esm"] == loader()
            assert state["_front_end"] == f"IPY_MODEL_{w._front_end.model_id}"
            assert len(json.dumps(state)) < 1500  # the front end is not in it
        code = shared_front_end("widget").esm
        assert re.search(r"export\s*\{\s*\w+ as default\s*\}", code)  # the bundle (js/build.js)
        assert ".stw-" in code  # its stylesheet rides along, added to the page once
    finally:
        for w in [*widgets, board]:
            w.close()
    # No open widget needs them any more: released, and made anew for the next widget.
    assert not _front_end._shared
    assert shared_layout().comm is not None


def test_the_shared_front_end_lives_while_some_open_widget_needs_it(fake_search, ticked, displays):
    running, ending = task_doc(state="PROGRESS"), task_doc(state="PENDING")
    for doc in (running, ending):
        fake_search.put_task(doc)
    live = stw.TaskWidget(running["task_id"], base_url=fake_search.base_url, poller=ticked)
    other = stw.TaskWidget(ending["task_id"], base_url=fake_search.base_url, poller=ticked)
    front, layout = live._front_end, live.layout
    assert other._front_end is front
    fake_search.put_task(task_doc(ending["task_id"], "SUCCESS"))
    ticked.tick()
    assert other.comm is None  # a document: its model went...
    assert front.comm is not None
    assert layout.comm is not None
    fake_search.put_task(task_doc(running["task_id"], "FAILED"))
    ticked.clock.advance(5)
    ticked.tick()
    assert live.comm is None
    assert front.comm is None
    assert layout.comm is None
    again = stw.TaskWidget(running["task_id"], base_url=fake_search.base_url, start=False)
    assert again._front_end is not front
    assert again._front_end.comm is not None
    assert again.layout.comm is not None
    again.close()
    assert again._front_end.comm is None


def test_a_list_live_again_gets_open_shared_models(fake_search, ticked, displays):
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    board = stw.TaskListWidget([doc["task_id"]], base_url=fake_search.base_url, poller=ticked)
    ticked.tick()
    assert board.comm is None
    assert board._front_end.comm is None
    more = task_doc(state="PENDING", index_id=FAKE_INDEX_ID)
    fake_search.put_task(more)
    board.add(more["task_id"])
    assert board.comm is not None
    assert board._front_end.comm is not None
    assert board.layout.comm is not None
    assert board._front_end is shared_front_end("list")
    board.close()


def test_in_a_kernel_the_live_view_goes_to_live_front_ends_only(fake_search, ticked, monkeypatch):
    """Executors save what a display sends in its cell: the static forms. The live view
    follows with no parent (live front ends apply it by display id; executors drop it)."""
    sent: list[tuple[str, str, dict]] = []
    monkeypatch.setattr("search_task_widget._views.base.in_kernel", lambda: True)
    monkeypatch.setattr(
        "search_task_widget._views.base.update_live_display",
        lambda bundle, display_id: sent.append(("live", display_id, bundle)),
    )
    monkeypatch.setattr(
        "IPython.display.display",
        lambda bundle, *, raw, display_id: sent.append(("cell", display_id, bundle)),
    )
    monkeypatch.setattr(
        "IPython.display.update_display",
        lambda bundle, *, raw, display_id: sent.append(("cell", display_id, bundle)),
    )
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    w._ipython_display_()
    assert [(where, WIDGET_VIEW in bundle) for where, _, bundle in sent] == [
        ("cell", False),  # saved by executors: no view whose model they would not have
        ("live", True),
    ]
    saved = sent[0][2]  # says it is a snapshot, when it was taken (the fake clock's time)
    taken = datetime.fromtimestamp(ticked.clock.time(), timezone.utc)
    words = f"Snapshot taken {taken:%Y-%m-%d %H:%M:%S} UTC: the task had not ended then"
    assert words in saved["text/plain"]
    assert words in saved["text/html"]
    fake_search.put_task(task_doc(doc["task_id"], "SUCCESS"))
    ticked.tick()
    assert [(where, WIDGET_VIEW in bundle) for where, _, bundle in sent[2:]] == [("cell", False)]
    assert "SUCCESS" in sent[-1][2]["text/plain"]
    w.close()


def test_a_closed_front_end_is_made_anew():
    first = shared_front_end("widget")
    first.close()
    second = shared_front_end("widget")
    assert second is not first
    assert isinstance(second, FrontEnd)
    assert second.comm is not None


def test_marimo_gets_the_whole_front_end_and_a_live_end(fake_search, ticked, monkeypatch, displays):
    marimo = types.ModuleType("marimo")
    marimo.running_in_notebook = lambda: True  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marimo", marimo)
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    shown(w)
    ticked.tick()
    assert w._front_end is None
    assert "as default" in w._esm
    assert len(w._esm) > 5000
    assert w.comm is not None  # marimo keeps its live view (it saves no outputs)
    w.close()


# -- whose messages the poller thread sends -------------------------------------------


def test_news_is_delivered_in_the_context_of_the_latest_execution(monkeypatch):
    cell = contextvars.ContextVar("cell", default="none")
    monkeypatch.setattr(_cells, "_latest", None)
    cell.set("cell 1")
    _cells._remember()  # what the pre_execute hook does at the start of each execution
    seen: list[str] = []

    def poller_thread() -> None:
        cell.set("the thread's own")  # what the thread's copied context says
        seen.append(_cells.in_current_execution(cell.get))
        seen.append(cell.get())  # delivering changed nothing in the thread's context

    thread = threading.Thread(target=contextvars.copy_context().run, args=(poller_thread,))
    thread.start()
    thread.join()
    assert seen == ["cell 1", "the thread's own"]


def test_following_executions_registers_once_on_the_kernel_shell(monkeypatch):
    registered: list[tuple[str, object]] = []
    shell = types.SimpleNamespace(
        kernel=object(),
        events=types.SimpleNamespace(register=lambda event, hook: registered.append((event, hook))),
    )
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    monkeypatch.setattr(_cells, "_followed", set())
    monkeypatch.setattr(_cells, "_latest", None)
    _cells.follow_executions()
    _cells.follow_executions()
    assert registered == [
        ("pre_execute", _cells._remember),
        ("post_execute", _cells._run_after_hooks),
    ]
    assert _cells._latest is not None


def test_outside_a_kernel_news_is_delivered_as_is(monkeypatch):
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    monkeypatch.setattr(_cells, "_followed", set())
    monkeypatch.setattr(_cells, "_latest", None)
    _cells.follow_executions()
    assert _cells._latest is None
    assert _cells.in_current_execution(lambda x: x + 1, 1) == 2
    assert not _cells.after_next_execution(lambda: None)  # the caller acts at once instead


def test_after_next_execution_runs_once_at_its_end(monkeypatch):
    monkeypatch.setattr(_cells, "_followed", {1})
    monkeypatch.setattr(_cells, "_after_next", [])
    calls: list[str] = []
    assert _cells.after_next_execution(lambda: calls.append("a"))
    assert _cells.after_next_execution(lambda: 1 / 0)  # a failing one stops no other
    assert _cells.after_next_execution(lambda: calls.append("b"))
    _cells._run_after_hooks()
    _cells._run_after_hooks()
    assert calls == ["a", "b"]


def test_an_end_sent_between_executions_is_sent_again_by_the_next_one(
    fake_search, ticked, displays, monkeypatch
):
    """Executors drop what the kernel sends while idle: the next execution repeats it."""
    monkeypatch.setattr(_cells, "_followed", {1})
    monkeypatch.setattr(_cells, "_after_next", [])
    monkeypatch.setattr(_cells, "_executions", 7)
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    shown(w)
    ticked.tick()  # the end, sent during execution 7
    assert len(displays) == 1
    assert w.comm is not None  # closed at the end of the next execution, not now

    monkeypatch.setattr(_cells, "_executions", 8)  # execution 8 started (pre_execute)
    _cells._run_after_hooks()  # ... and ends (post_execute)
    assert len(displays) == 2  # the document once more, in execution 8
    assert w.comm is None
    w.wait(timeout=0)  # in execution 8 still: it was sent there already
    assert len(displays) == 2


def test_an_end_told_as_the_next_execution_starts_is_sent_again_by_wait(
    fake_search, ticked, displays, monkeypatch
):
    """The race a busy machine lost: the poller took execution 7's context to tell the end,
    execution 8 (the cell that waits) started while it was telling. What it sent names
    execution 7, which had ended: executors dropped it, so wait() in execution 8 must send
    the document again, whatever the post_execute hook did meanwhile."""
    monkeypatch.setattr(_cells, "_followed", {1})
    monkeypatch.setattr(_cells, "_after_next", [])
    monkeypatch.setattr(_cells, "_executions", 6)
    _cells._remember()  # execution 7 starts: its context is the one news is told in
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    board = stw.TaskListWidget([doc["task_id"]], base_url=fake_search.base_url, poller=ticked)
    shown(board)

    def next_cell_starts(bundle, *, raw, display_id):
        if not displays:  # while the end is being told: the pre_execute of execution 8
            _cells._remember()
        displays.append((display_id, bundle))

    monkeypatch.setattr("IPython.display.update_display", next_cell_starts)
    _cells.in_current_execution(ticked.tick)  # the poller delivers in execution 7's context
    assert _cells.current_execution() == 8
    assert len(displays) == 1
    _cells._run_after_hooks()  # execution 8's post_execute would do: send it again, close
    assert len(displays) == 2
    assert board.comm is None
    board.wait(timeout=1)  # ... and wait() there finds it sent in its own execution
    assert len(displays) == 2
    assert "1 SUCCESS" in displays[-1][1]["text/plain"]


def test_wait_sends_the_document_again_when_the_hook_had_not_run(
    fake_search, ticked, displays, monkeypatch
):
    """The same race with wait() first: it must not take the end for sent in its cell."""
    monkeypatch.setattr(_cells, "_followed", {1})
    monkeypatch.setattr(_cells, "_after_next", [])
    monkeypatch.setattr(_cells, "_executions", 6)
    _cells._remember()
    doc = task_doc(state="FAILED")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    shown(w)

    def next_cell_starts(bundle, *, raw, display_id):
        if not displays:
            _cells._remember()
        displays.append((display_id, bundle))

    monkeypatch.setattr("IPython.display.update_display", next_cell_starts)
    _cells.in_current_execution(ticked.tick)
    assert w.wait(timeout=1)["state"] == "FAILED"
    assert len(displays) == 2  # the end, then again in the waiting execution
    assert w.comm is None


def test_wait_settles_the_document_in_the_callers_execution(
    fake_search, ticked, displays, monkeypatch
):
    monkeypatch.setattr(_cells, "_followed", {1})
    monkeypatch.setattr(_cells, "_after_next", [])
    doc = task_doc(state="FAILED")
    fake_search.put_task(doc)
    w = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=ticked)
    ticked.tick()
    assert w.comm is not None
    assert w.wait(timeout=1)["state"] == "FAILED"
    assert w.comm is None
