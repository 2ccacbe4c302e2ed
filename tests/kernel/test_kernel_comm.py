"""The widget in real kernels: what the poller thread sends over the comm, and when.

Each test starts its own kernel (ipykernel of this environment, or 7.0.0 from a cached
venv), runs cells through jupyter_client and reads the kernel's IOPub messages. Nothing
sleeps and hopes: every wait is for a message or a condition, with a deadline.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fake_search import FakeSearch, task_doc
from kernel_harness import (
    WIDGET_VIEW_MIME,
    Cell,
    KernelHarness,
    Received,
    WidgetStream,
    describe_messages,
    problems,
    shown_view,
    update_state,
)

pytestmark = pytest.mark.kernel

LIFECYCLE = ["CREATING", "PENDING", "PROGRESS", "SUCCESS"]

IMPORTS = """
import json, threading, time, uuid
import search_task_widget as stw
from search_task_widget.simulator import Simulator
"""

# Waits for the poller thread to end (it ends when no task is left to watch). Everything
# the thread sent is then on IOPub before this cell's idle status: nothing can trail in.
JOIN_POLLER = """
_thread = stw.default_poller().thread
if _thread is not None:
    _thread.join(10)
assert _thread is None or not _thread.is_alive(), "the poller thread is still running"
"""

# What a poll that changed the task sends, all in one update message.
CHANGED_FIELDS = {"state", "state_description", "stage_times", "last_checked", "next_check"}
# The first answer also fills in what was unknown before it.
FIRST_FIELDS = CHANGED_FIELDS | {"task_type", "index_id", "creation_date"}
# The last answer also ends polling.
FINAL_FIELDS = CHANGED_FIELDS | {"completion_date", "polling"}


def displayed_model_id(cell: Cell) -> str:
    """The widget model shown by the cell's display (its live view; see shown_view)."""
    return shown_view(cell)[1]


def state_updates(messages: list[Received], comm_id: str) -> list[Received]:
    """The comm's update messages that carry a task state (the poller's, not start()'s)."""
    return [u for u in WidgetStream.of(messages, comm_id).updates if "state" in update_state(u)]


def saw_state(kernel: KernelHarness, comm_id: str, state: str):
    """A collect_until predicate: some update of ``comm_id`` (ever read) carries ``state``."""

    def predicate(_new: list[Received]) -> bool:
        return any(
            update_state(u).get("state") == state for u in state_updates(kernel.iopub, comm_id)
        )

    return predicate


def assert_quiet(kernel: KernelHarness) -> None:
    """No traceback and no printed text anywhere: the thread reports only through the widget."""
    bad = problems(kernel.iopub)
    assert not bad, "error/stream messages were published:\n" + describe_messages(bad)


def assert_one_message_per_poll(state: dict[str, Any], required: set[str]) -> None:
    missing = required - set(state)
    assert not missing, f"update for {state.get('state')} lacks {sorted(missing)}: {state}"
    assert state["state"] in state["stage_times"], state


def start_watched_task(kernel: KernelHarness, fake_search: FakeSearch) -> tuple[Cell, str, dict]:
    """Display a widget for a CREATING task the test moves on itself (see ``move``)."""
    creating = task_doc(state="CREATING")
    fake_search.put_task(creating)
    kernel.execute(IMPORTS)
    cell = kernel.execute(
        f"w = stw.TaskWidget({creating['task_id']!r}, base_url={fake_search.base_url!r}, "
        "poll_interval=0.2)\ndisplay(w)\n"
    )
    return cell, displayed_model_id(cell), creating


def move(fake_search: FakeSearch, creating: dict, state: str) -> None:
    """The service's next answer for the task is ``state`` (the same task, created then)."""
    fake_search.put_task(
        task_doc(creating["task_id"], state, creation_date=creating["creation_date"])
    )


def check_lifecycle(kernel: KernelHarness, fake_search: FakeSearch) -> None:
    """The thread drives a displayed widget to SUCCESS after its cell ended, quietly.

    The test moves the task to its next state only once the widget showed the one before:
    every state is seen however slow the machine, and none by luck of timing.
    """
    cell, comm_id, creating = start_watched_task(kernel, fake_search)
    for state in LIFECYCLE:
        if state != "CREATING":
            move(fake_search, creating, state)
        kernel.collect_until(saw_state(kernel, comm_id, state), 20, f"update to {state}")
    join = kernel.execute(JOIN_POLLER)

    stream = WidgetStream.of(kernel.iopub, comm_id)
    assert stream.opened is not None
    # The model talks with no parent: live front ends take it, executors save none of it.
    assert {r.parent_id for r in [stream.opened, *stream.updates]} == {None}
    polls = state_updates(kernel.iopub, comm_id)
    # The task ended while the kernel was idle, which executors would not have kept: the
    # first execution after the end repeats the whole final state, then closes the model
    # (the output is a document by then).
    repeated = [u for u in polls if "_esm" in update_state(u)]
    assert [u.parent_id for u in repeated] in ([], [join.msg_id]), repeated
    polls = [u for u in polls if u not in repeated]
    # Each state is sent once, in lifecycle order: unchanged polls in between send nothing.
    assert [update_state(u)["state"] for u in polls] == LIFECYCLE

    # All fields one poll changed travel in one message.
    for number, update in enumerate(polls):
        state = update_state(update)
        if number == 0:
            assert_one_message_per_poll(state, FIRST_FIELDS)
        elif state["state"] == "SUCCESS":
            assert_one_message_per_poll(state, FINAL_FIELDS)
            assert state["polling"] is False
            assert state["next_check"] == 0
            assert state["completion_date"]
        else:
            assert_one_message_per_poll(state, CHANGED_FIELDS)
    # Nothing else: creating the widget opens it already polling (no update of its own),
    # and unchanged polls send nothing (a liveness stamp is due only after 10 s).
    others = [update_state(u) for u in stream.updates if u not in polls and u not in repeated]
    assert others == [], others
    assert stream.opened.content["data"]["state"]["polling"] is True

    # The task moved on only after the cell had finished, so the thread sent every later
    # state (the first poll's CREATING may come before or after the cell's end).
    after_cell = [
        update_state(u)["state"] for u in state_updates(kernel.iopub[cell.ended :], comm_id)
    ]
    moved_on = [state for state in after_cell if state != "CREATING"]
    assert moved_on[: len(LIFECYCLE) - 1] == LIFECYCLE[1:], after_cell
    assert_quiet(kernel)


def test_thread_drives_widget_to_success_after_cell_ends(kernel, fake_search):
    check_lifecycle(kernel, fake_search)


def test_unchanged_polls_send_nothing(kernel, fake_search):
    pending = task_doc(state="PENDING")
    task_id = pending["task_id"]
    fake_search.put_task(pending)
    path = f"/v1/task/{task_id}"

    kernel.execute(IMPORTS)
    cell = kernel.execute(
        f"w = stw.TaskWidget({task_id!r}, base_url={fake_search.base_url!r}, "
        "poll_interval=0.2)\ndisplay(w)\n"
    )
    comm_id = displayed_model_id(cell)
    kernel.collect_until(saw_state(kernel, comm_id, "PENDING"), 10, "the first poll's update")
    first_request = fake_search.requests_for(path)[0]

    # Seven requests mean six polls were fully handled: the thread is single, so it sends
    # request n+1 only after it dealt with answer n. A cell run after that is published
    # behind anything those six polls sent.
    kernel.collect_until(
        lambda _new: len(fake_search.requests_for(path)) >= 7, 8, "seven polls of the task"
    )
    kernel.execute("pass")
    window = time.monotonic() - first_request.at
    assert window < 9.0, f"took {window:.1f} s: a 10 s liveness stamp could be due already"
    polls = state_updates(kernel.iopub, comm_id)
    assert len(polls) == 1, "unchanged polls sent updates:\n" + describe_messages(polls)
    assert update_state(polls[0])["state"] == "PENDING"
    updates = WidgetStream.of(kernel.iopub, comm_id).updates
    assert len(updates) == 1, describe_messages(updates)  # the first poll only

    fake_search.put_task(task_doc(task_id, "SUCCESS", creation_date=pending["creation_date"]))
    kernel.collect_until(saw_state(kernel, comm_id, "SUCCESS"), 10, "update to SUCCESS")
    join = kernel.execute(JOIN_POLLER)

    updates = WidgetStream.of(kernel.iopub, comm_id).updates
    # The end came while the kernel was idle: the next execution repeats the whole state
    # for executors (see _cells), then closes the model. That is not a poll's message.
    repeated = [u for u in updates if "_esm" in update_state(u)]
    assert [u.parent_id for u in repeated] in ([], [join.msg_id]), repeated
    after_first = [u for u in updates[updates.index(polls[0]) + 1 :] if u not in repeated]
    assert len(after_first) == 1, describe_messages(after_first)
    final = update_state(after_first[0])
    assert final["state"] == "SUCCESS"
    assert final["state_description"] == "Task succeeded"
    assert_one_message_per_poll(final, FINAL_FIELDS)
    assert final["polling"] is False
    assert final["next_check"] == 0
    assert final["last_checked"] > update_state(polls[0])["last_checked"]
    # No request after the one that answered SUCCESS.
    assert fake_search.requests_for(path)[-1].at <= after_first[0].at
    assert_quiet(kernel)


def test_updates_arrive_while_another_cell_is_busy(kernel, fake_search):
    _cell, comm_id, creating = start_watched_task(kernel, fake_search)
    kernel.collect_until(saw_state(kernel, comm_id, "CREATING"), 20, "the first poll's update")

    # The task moves on once this cell runs, and the cell waits until the widget's trait
    # shows it, then for the message: the poller writes the traits and sends them under
    # the widget's lock, so taking that lock once waits for the send. The update is thus
    # published while the cell is busy, however slow the machine.
    busy = kernel.execute(
        "deadline = time.monotonic() + 20\n"
        "while w.state != 'PENDING' and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "with w._lock:\n"
        "    pass\n"
        "w.state\n",
        on_busy=lambda: move(fake_search, creating, "PENDING"),
    )
    assert busy.result == "'PENDING'", busy.describe()
    during = state_updates(busy.messages, comm_id)
    assert [update_state(u)["state"] for u in during] == ["PENDING"], busy.describe()
    # Published between the cell's busy and idle status, and stamped before its reply.
    replied = busy.reply["header"]["date"]
    assert all(u.msg["header"]["date"] < replied for u in during), [
        (u.msg["header"]["date"], replied) for u in during
    ]
    kernel.execute("w.close()")
    assert_quiet(kernel)


def test_lifecycle_on_ipykernel_7_0(kernel70, fake_search):
    """The regression: on 7.0.0 only a thread started in a copied context can send."""
    assert kernel70.run_and_echo("import ipykernel; ipykernel.__version__") == "'7.0.0'"
    check_lifecycle(kernel70, fake_search)


def test_ipykernel_7_0_breaks_plain_threads(kernel70):
    """Control: the 7.0.0 environment does reproduce the bug the copied context avoids.

    On a plain ``threading.Thread`` the request's parent cannot be read (a ``LookupError``
    on the ``shell_parent`` ContextVar, ipykernel#1450), and every display update needs it.
    (The widgets' comm messages name no parent, so they no longer need it.)
    """
    cell = kernel70.execute(
        "import threading\n"
        "failures = []\n"
        "def probe():\n"
        "    try:\n"
        "        get_ipython().kernel.get_parent()\n"
        "    except LookupError as error:\n"
        "        failures.append(type(error).__name__)\n"
        "thread = threading.Thread(target=probe)\n"
        "thread.start(); thread.join()\n"
        "print(failures)\n"
    )
    assert cell.stdout.strip() == "['LookupError']", (
        "ipykernel 7.0.0 let a plain thread read the parent: this environment does not "
        "reproduce ipykernel#1450, so test_lifecycle_on_ipykernel_7_0 proves nothing"
    )


def test_wait_returns_document_and_404_raises(kernel):
    kernel.execute(IMPORTS + "sim = Simulator(speed=5.0).start()\n")
    done = kernel.execute(
        "task_id = sim.submit('success')['task_id']\n"
        "w = stw.TaskWidget(task_id, base_url=sim.base_url, poll_interval=0.2)\n"
        "doc = w.wait(timeout=20)\n"
        "print(json.dumps({'task_id': task_id, 'doc': doc}))\n"
        "doc['state']\n"
    )
    assert done.result == "'SUCCESS'"
    printed = json.loads(done.stdout)
    assert printed["doc"]["state"] == "SUCCESS"
    assert printed["doc"]["task_id"] == printed["task_id"]
    assert printed["doc"]["completion_date"]

    missing = kernel.execute(
        "missing = stw.TaskWidget(uuid.uuid4(), base_url=sim.base_url, poll_interval=0.2)\n"
        "display(missing)\n"
        "missing.wait(timeout=10)\n",
        allow_error=True,
    )
    assert missing.status == "error"
    assert missing.reply["content"]["ename"] == "TaskAPIError", missing.reply["content"]
    assert "HTTP 404" in missing.reply["content"]["evalue"]
    facts = kernel.execute(
        "try:\n"
        "    missing.wait(timeout=5)\n"
        "except stw.TaskAPIError as error:\n"
        "    print(error.http_status, error.code)\n"
    )
    assert facts.stdout.split() == ["404", "NotFound.Generic"]

    comm_id = displayed_model_id(missing)
    errors = [
        update_state(u)
        for u in WidgetStream.of(kernel.iopub, comm_id).updates
        if update_state(u).get("error")
    ]
    assert len(errors) == 1, errors
    assert "Task not found" in errors[0]["error"]
    assert errors[0]["trouble"] == "fatal"
    assert errors[0]["polling"] is False


def test_display_text_names_the_task(kernel, fake_search):
    doc = task_doc(state="PROGRESS")
    fake_search.put_task(doc)
    kernel.execute(IMPORTS)
    cell = kernel.execute(
        f"w = stw.TaskWidget({doc['task_id']!r}, base_url={fake_search.base_url!r}, "
        "poll_interval=0.2)\ndisplay(w)\n"
    )
    shown, comm_id = shown_view(cell)
    data = shown.content["data"]
    assert doc["task_id"] in data["text/plain"], data["text/plain"]
    assert data["text/plain"].startswith("<TaskWidget task ")
    assert "Snapshot taken" in data["text/plain"]  # what an executor would save of it
    [live] = [
        u for u in cell.of_type("update_display_data") if WIDGET_VIEW_MIME in u.content["data"]
    ]
    assert live.content["data"][WIDGET_VIEW_MIME]["version_major"] == 2
    opened = WidgetStream.of(cell.messages, comm_id).opened
    assert opened is not None, "the displayed model was never opened"
    assert opened.content["data"]["state"]["task_id"] == doc["task_id"]
    kernel.execute("w.close()")
    assert_quiet(kernel)


def test_display_is_replaced_by_the_final_state_before_wait_returns(kernel, fake_search):
    """A saved notebook shows how the task ended: the static parts of the output are updated
    through their display id, and wait() returns only after that (nbconvert --execute saves
    what the cell sent before its reply)."""
    doc = task_doc(state="PENDING")
    tid = doc["task_id"]
    fake_search.script(tid, [doc, task_doc(tid, "FAILED", creation_date=doc["creation_date"])])
    kernel.execute(IMPORTS)
    cell = kernel.execute(
        f"w = stw.TaskWidget({tid!r}, base_url={fake_search.base_url!r}, poll_interval=0.2)\n"
        "display(w)\n"
        "w.wait(timeout=20)['state']\n"
    )
    assert cell.result == "'FAILED'"
    shown = cell.of_type("display_data")[0]
    display_id = shown.content["transient"]["display_id"]
    # The cell's own updates (what executors keep): the live view went apart, with no parent.
    updated = [u for u in cell.of_type("update_display_data") if u.parent_id == cell.msg_id]
    assert [u.content["transient"]["display_id"] for u in updated] == [display_id]
    final = updated[0].content["data"]
    assert "FAILED (Task failed)" in final["text/plain"]
    assert "FAILED" in final["text/html"]
    assert "1 of 3 ingest documents failed" in final["text/html"]  # the message, escaped
    # The task ended: the output is a document now, with no widget view left to load...
    assert WIDGET_VIEW_MIME not in final
    comm_id = displayed_model_id(cell)
    states = [update_state(u).get("state") for u in state_updates(cell.messages, comm_id)]
    assert states[-1] == "FAILED"
    # ... and wait() let the model go, in this very cell, after its final state.
    closed = [r for r in cell.of_type("comm_close") if r.content["comm_id"] == comm_id]
    assert len(closed) == 1, describe_messages(cell.messages)
    assert cell.messages.index(closed[0]) > cell.messages.index(updated[0])


def test_task_list_widget_streams_from_the_thread_in_few_messages(kernel):
    kernel.execute(IMPORTS + "sim = Simulator(speed=4.0).start()\n")
    cell = kernel.execute(
        "ids = [sim.submit('failure' if n == 3 else 'success')['task_id'] for n in range(12)]\n"
        "board = stw.TaskListWidget(ids, base_url=sim.base_url, poll_interval=0.2)\n"
        "display(board)\n"
    )
    comm_id = displayed_model_id(cell)
    kernel.collect_until(
        lambda _new: any(
            update_state(u).get("done") == 12
            for u in WidgetStream.of(kernel.iopub, comm_id).updates
        ),
        timeout=30,
    )
    updates = [update_state(u) for u in WidgetStream.of(kernel.iopub, comm_id).updates]
    final: dict[str, Any] = {}
    for update in updates:  # the front end's view: every update applied in order
        final.update(update)
    assert (final["done"], final["failed"], final["polling"]) == (12, 1, False)
    assert [row["state"] for row in final["rows"]].count("SUCCESS") == 11
    # Twelve tasks through four states (36 changes): one poll round is one message, so
    # far fewer. How many rounds see a change depends on when the checks fall (a busy
    # machine splits the tasks' moves over more rounds): half the changes is the bound.
    with_rows = [u for u in updates if "rows" in u]
    assert len(with_rows) <= 18, len(with_rows)
    assert_quiet(kernel)
    kernel.execute("board.close()")
