"""TaskListWidget: batching, message coalescing, wait(), lifecycle and for_index.

The real-thread tests run the poller's thread against the loopback FakeSearch. The message
tests drive a poller on a FakeClock by calling ``tick()`` themselves, so every send is
counted at a known moment.
"""

from __future__ import annotations

import re
import threading
import uuid

import pytest
from fake_search import FAKE_INDEX_ID, http_error, task_doc

import search_task_widget as stw
from search_task_widget._model.task import Task, normalize_task_id
from search_task_widget._service.client import shared_clients
from search_task_widget._tracking.poller import Schedule
from search_task_widget._views.list_widget import TaskListError, TaskListWidget

OTHER_INDEX_ID = "0b9d8c6e-5a4f-4c3b-9d2e-1f0a9b8c7d6e"
TASK_LIST = f"/v1/task_list/{FAKE_INDEX_ID}"


# -- helpers --------------------------------------------------------------------------


def at(doc: dict, state: str) -> dict:
    """``doc`` moved to ``state`` (same id, index and creation date)."""
    return task_doc(
        doc["task_id"], state, index_id=doc["index_id"], creation_date=doc["creation_date"]
    )


def listing(index_id: str, docs: list[dict]) -> dict:
    return {"index_id": index_id, "tasks": docs}


def per_task_requests(fake_search) -> list:
    return [r for r in fake_search.requests if r.path.startswith("/v1/task/")]


def updates(widget) -> list[dict]:
    return [m["state"] for m in widget.sent if m.get("method") == "update"]


def record(widget):
    sent: list[dict] = []
    widget._send = lambda msg, buffers=None: sent.append(msg)
    widget.sent = sent
    return widget


class FakeIngestResponse:
    """Shaped like globus_sdk.GlobusHTTPResponse: dict-like with the body in .data."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def __getitem__(self, key: str) -> object:
        return self.data[key]


def offline_list(fake_search, poller, ids, **kwargs) -> TaskListWidget:
    """A list whose watches the test's tick() runs, with every comm message recorded."""
    w = TaskListWidget(ids, base_url=fake_search.base_url, poller=poller, start=False, **kwargs)
    return record(w)


def run_round(poller, clock, delay: float) -> float:
    clock.advance(delay)
    return poller.tick()


# -- many tasks through the real poller thread ----------------------------------------


def test_thirty_tasks_on_two_indexes_end_through_batched_task_lists(fake_search, poller):
    a = [task_doc(state="PENDING") for _ in range(15)]
    b = [task_doc(state="PENDING", index_id=OTHER_INDEX_ID) for _ in range(15)]
    ends = {d["task_id"]: "FAILED" if i in (3, 11) else "SUCCESS" for i, d in enumerate(a)}
    ends |= {d["task_id"]: "FAILED" if i == 7 else "SUCCESS" for i, d in enumerate(b)}
    for index_id, docs in ((FAKE_INDEX_ID, a), (OTHER_INDEX_ID, b)):
        final = [at(d, ends[d["task_id"]]) for d in docs]
        for doc in final:
            fake_search.put_task(doc)  # what a one-task request would see
        fake_search.script_list(
            index_id,
            [
                listing(index_id, docs),
                listing(index_id, [at(d, "PROGRESS") for d in docs]),
                listing(index_id, final),
            ],
        )
    w = TaskListWidget(
        [d["task_id"] for d in a],
        base_url=fake_search.base_url,
        poll_interval=0.05,
        index_id=FAKE_INDEX_ID,
        poller=poller,
        start=False,
    )
    for doc in b:
        w.add({"acknowledged": True, "task_id": doc["task_id"]}, index_id=OTHER_INDEX_ID)
    w.start()
    assert w.polling
    assert poller.watch_count == 30

    docs = w.wait(timeout=30)

    ids = [d["task_id"] for d in a + b]
    assert [d["task_id"] for d in docs] == ids  # in the order they were added
    assert [d["state"] for d in docs] == [ends[i] for i in ids]
    assert w.counts == {"SUCCESS": 27, "FAILED": 3}
    assert (w.total, w.done, w.failed, w.polling) == (30, 30, 3, False)
    # The synced rows hold every final state by the time wait() returns.
    assert [(r["task_id"], r["state"]) for r in w.rows] == [(i, ends[i]) for i in ids]
    assert w.first_submitted == min(d["creation_date"] for d in a + b)
    assert w.last_completed == max(d["completion_date"] for d in w.tasks)
    failed = [r for r in w.rows if r["state"] == "FAILED"]
    assert all(r["message"] and r["additional_details"] for r in failed)
    # One request per index per round, not one per task.
    assert len(fake_search.requests_for(f"/v1/task_list/{FAKE_INDEX_ID}")) >= 3
    assert len(fake_search.requests_for(f"/v1/task_list/{OTHER_INDEX_ID}")) >= 3
    # Three rounds of two requests; a lone due watch may rarely be asked for on its own.
    assert len(per_task_requests(fake_search)) <= 3, [r.path for r in fake_search.requests]
    assert len(fake_search.requests) <= 12
    assert poller.watch_count == 0
    w.close()


def test_wait_times_out_saying_how_many_still_run(fake_search, poller):
    docs = [task_doc(state="SUCCESS"), task_doc(state="FAILED"), task_doc(state="PENDING")]
    for doc in docs:
        fake_search.put_task(doc)
    w = TaskListWidget(
        [d["task_id"] for d in docs],
        base_url=fake_search.base_url,
        poll_interval=0.05,
        poller=poller,
    )
    with pytest.raises(
        TimeoutError, match=r"1 of 3 tasks still running after 0\.5 s \(1 PENDING\)"
    ):
        w.wait(timeout=0.5)
    assert w.polling
    assert w.counts == {"SUCCESS": 1, "FAILED": 1, "PENDING": 1}
    w.close()


def test_a_missing_task_is_raised_after_the_others_end(fake_search, poller):
    slow, done, failed = task_doc(), task_doc(state="SUCCESS"), task_doc(state="FAILED")
    missing = str(uuid.uuid4())
    for doc in (at(slow, "SUCCESS"), done, failed):
        fake_search.put_task(doc)
    # The missing task is refused (404) in the first round; the slow one ends in a later one.
    fake_search.script_list(FAKE_INDEX_ID, [listing(FAKE_INDEX_ID, [slow, done, failed])])
    w = TaskListWidget(
        [slow["task_id"], missing, done["task_id"], failed["task_id"]],
        base_url=fake_search.base_url,
        poll_interval=0.05,
        index_id=FAKE_INDEX_ID,
        poller=poller,
    )
    with pytest.raises(TaskListError) as caught:
        w.wait(timeout=30)
    error = caught.value
    assert isinstance(error, stw.SearchTaskError)
    assert (error.http_status, error.code) == (404, "NotFound.Generic")
    assert list(error.errors) == [missing]
    assert isinstance(error.__cause__, stw.TaskAPIError)
    # Raised only once the others ended: the slow one's SUCCESS is among the documents.
    assert {d["task_id"]: d["state"] for d in error.documents} == {
        slow["task_id"]: "SUCCESS",
        done["task_id"]: "SUCCESS",
        failed["task_id"]: "FAILED",
    }
    assert f"task {missing}: Task not found (HTTP 404" in str(error)
    row = next(r for r in w.rows if r["task_id"] == missing)
    assert row["trouble"] == "fatal"
    assert "Task not found" in row["error"]
    assert "base_url" in row["error"]  # says what to check
    assert w.error.startswith("1 task could not be checked: Task not found")
    assert (w.done, w.total, w.polling, w.last_completed) == (3, 4, False, None)
    assert len(fake_search.requests_for(missing)) == 1  # a 404 is not asked again
    w.close()


def test_stop_during_wait_raises_and_start_resumes(fake_search, poller):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = TaskListWidget(
        [doc["task_id"]], base_url=fake_search.base_url, poll_interval=0.05, poller=poller
    )
    stopper = threading.Timer(0.2, w.stop)
    stopper.start()
    with pytest.raises(stw.PollingStoppedError, match="1 of 1 tasks had not ended"):
        w.wait(timeout=10)  # the task stays PENDING: only stop() can end this wait
    stopper.join()
    assert (w.polling, poller.watch_count) == (False, 0)
    fake_search.put_task(at(doc, "SUCCESS"))
    assert [d["state"] for d in w.wait(timeout=10)] == ["SUCCESS"]  # wait() resumed it
    w.close()
    with pytest.raises(stw.PollingStoppedError):
        w.start()
    with pytest.raises(stw.PollingStoppedError):
        w.add(str(uuid.uuid4()))


def test_close_removes_every_watch_and_releases_the_client(fake_search, poller):
    docs = [task_doc(state="PENDING") for _ in range(5)]
    for doc in docs:
        fake_search.put_task(doc)
    clients_before = len(shared_clients)
    clients = []
    for _ in range(20):
        w = TaskListWidget(
            [d["task_id"] for d in docs],
            base_url=fake_search.base_url,
            poll_interval=0.05,
            poller=poller,
        )
        assert poller.watch_count == 5
        assert len(shared_clients) == clients_before + 1
        clients.append(w._client)
        w.close()
        assert poller.watch_count == 0
        assert len(shared_clients) == clients_before
        assert not w.polling
    thread = poller.thread
    if thread is not None:
        thread.join(5)
        assert not thread.is_alive()  # nothing left to poll: the thread ended
    assert all(client._http.is_closed for client in clients)  # connections closed
    seen = len(fake_search.requests)
    assert poller.watch_count == 0
    assert len(fake_search.requests) == seen


def test_tasks_share_the_client_of_single_task_widgets(fake_search):
    single = stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url, start=False)
    many = TaskListWidget([str(uuid.uuid4())], base_url=fake_search.base_url, start=False)
    assert many._client is single._client  # so the poller batches them together
    many.close()
    single.close()


# -- for_index ------------------------------------------------------------------------


def test_for_index_shows_recent_tasks_and_watches_the_running_ones(fake_search, poller):
    docs = [
        task_doc(state=state, creation_date=f"2024-05-0{day}T10:00:00")
        for day, state in enumerate(["SUCCESS", "FAILED", "SUCCESS", "PENDING", "PROGRESS"], 1)
    ]
    for doc in docs:
        fake_search.put_task(doc)
    w = TaskListWidget.for_index(
        FAKE_INDEX_ID, base_url=fake_search.base_url, limit=4, poll_interval=0.05, poller=poller
    )
    assert fake_search.requests[0].path == TASK_LIST
    newest = [d["task_id"] for d in reversed(docs[1:])]
    # Shown at once from the list: newest first, ended ones too, the oldest one left out.
    assert [r["task_id"] for r in w.rows] == newest
    assert [r["state"] for r in w.rows] == ["PROGRESS", "PENDING", "SUCCESS", "FAILED"]
    assert (w.total, w.done, w.failed) == (4, 2, 1)
    assert poller.watch_count == 2  # only the running ones are polled
    for doc in docs[3:]:
        fake_search.put_task(at(doc, "SUCCESS"))
    result = w.wait(timeout=10)
    assert [d["state"] for d in result] == ["SUCCESS", "SUCCESS", "SUCCESS", "FAILED"]
    assert not any(r.path.endswith(docs[0]["task_id"]) for r in fake_search.requests)
    assert w.first_submitted == "2024-05-02T10:00:00"
    w.close()


def test_for_index_refused_leaves_nothing_running(fake_search, poller):
    fake_search.script_list(FAKE_INDEX_ID, [http_error(403)])
    clients_before = len(shared_clients)
    with pytest.raises(stw.TaskAPIError) as caught:
        TaskListWidget.for_index(FAKE_INDEX_ID, base_url=fake_search.base_url, poller=poller)
    assert caught.value.http_status == 403
    assert poller.watch_count == 0
    assert len(shared_clients) == clients_before
    with pytest.raises(ValueError, match="limit"):
        TaskListWidget.for_index(FAKE_INDEX_ID, base_url=fake_search.base_url, limit=0)


# -- input ----------------------------------------------------------------------------


def test_add_takes_ids_uuids_and_replies_and_ignores_duplicates(fake_search):
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    w = TaskListWidget([uuid.UUID(first)], base_url=fake_search.base_url, start=False)
    assert w.add(first.upper()) == first  # duplicate: ignored
    assert w.add({"acknowledged": True, "task_id": second}) == second
    assert w.add(FakeIngestResponse({"acknowledged": True, "task_id": third})) == third
    assert w.add(second) == second
    assert [r["task_id"] for r in w.rows] == [first, second, third]
    assert w.total == 3
    assert w.counts == {"UNCHECKED": 3}
    assert w.tasks == []
    assert fake_search.requests == []  # nothing polls before start()
    w.close()


@pytest.mark.parametrize(
    ("tasks", "error"),
    [
        (["nope"], ValueError),
        ([str(uuid.uuid4()), 7], TypeError),
        ("05c1ec1b-2400-44e2-9797-922c29199042", TypeError),  # one id, not a list
        ({"task_id": "05c1ec1b-2400-44e2-9797-922c29199042"}, TypeError),
        ([{"acknowledged": True}], ValueError),
    ],
)
def test_bad_tasks_are_refused_before_anything_starts(fake_search, tasks, error):
    clients_before = len(shared_clients)
    with pytest.raises(error):
        TaskListWidget(tasks, base_url=fake_search.base_url)
    assert len(shared_clients) == clients_before
    assert fake_search.requests == []


def test_bad_index_id_is_refused():
    with pytest.raises(ValueError, match="index id"):
        TaskListWidget([], base_url="http://127.0.0.1:9/", index_id="not-an-index", start=False)
    w = TaskListWidget([], base_url="http://127.0.0.1:9/", start=False)
    with pytest.raises(ValueError, match="index id"):
        w.add(str(uuid.uuid4()), index_id="nope")
    w.close()


def test_sub_second_polling_only_against_loopback():
    with pytest.raises(ValueError, match="at least 1 s"):
        TaskListWidget([], base_url="https://search.api.globus.org/", poll_interval=0.2)


# -- messages: coalescing on a fake clock ---------------------------------------------


def test_one_round_is_one_message_and_unchanged_rounds_stay_silent(fake_search, ticked, clock):
    docs = [task_doc(state="PENDING") for _ in range(10)]
    for doc in docs:
        fake_search.put_task(doc)
    w = offline_list(
        fake_search, ticked, [d["task_id"] for d in docs], poll_interval=1.0, index_id=FAKE_INDEX_ID
    )
    w.start()
    assert ticked.thread is None  # the test is the poller thread
    assert len(updates(w)) == 1  # start() is a user action: sent at once
    w.sent.clear()

    # Round 1: ten first answers from one task-list request, sent as one message.
    delay = ticked.tick()
    assert [r.path for r in fake_search.requests] == [TASK_LIST]
    (sent,) = updates(w)
    assert [r["state"] for r in sent["rows"]] == ["PENDING"] * 10
    assert sent["first_submitted"] == min(d["creation_date"] for d in docs)
    assert delay == pytest.approx(1.0)
    flushed_at = sent["last_checked"]
    w.sent.clear()

    # Unchanged rounds send nothing until 10 s passed, then one liveness stamp only.
    rounds = []
    while not updates(w):
        delay = run_round(ticked, clock, delay)
        rounds.append(clock.time() * 1000)
        assert len(rounds) < 20
    assert len(rounds) >= 3
    assert len(fake_search.requests_for(TASK_LIST)) == 1 + len(rounds)  # real rounds
    (stamp,) = updates(w)
    assert set(stamp) == {"last_checked"}
    assert stamp["last_checked"] - flushed_at >= 10_000
    assert rounds[-2] - flushed_at < 10_000  # the first round past 10 s, not later
    w.sent.clear()

    # A burst: all ten start running in one round: one message carries all ten.
    for doc in docs:
        fake_search.put_task(at(doc, "PROGRESS"))
    delay = run_round(ticked, clock, delay)
    (burst,) = updates(w)
    assert [r["state"] for r in burst["rows"]] == ["PROGRESS"] * 10
    delay = run_round(ticked, clock, delay)
    assert len(updates(w)) == 1  # unchanged again: silence
    w.sent.clear()

    # All end in one round: one message with the final states.
    for i, doc in enumerate(docs):
        fake_search.put_task(at(doc, "FAILED" if i % 4 == 0 else "SUCCESS"))
    run_round(ticked, clock, delay)
    (final,) = updates(w)
    assert all(r["state"] in ("SUCCESS", "FAILED") for r in final["rows"])
    assert (final["done"], final["failed"], final["polling"]) == (10, 3, False)
    assert final["last_completed"] == max(d["completion_date"] for d in w.tasks)
    assert len(w.wait(timeout=0)) == 10
    w.close()


def test_changes_of_separate_requests_in_one_round_are_one_message(fake_search, ticked, clock):
    docs = [task_doc(state="PENDING", index_id=None) for _ in range(3)]  # no index: one GET each
    for doc in docs:
        fake_search.put_task(doc)
    w = offline_list(fake_search, ticked, [d["task_id"] for d in docs], poll_interval=1.0)
    w.start()
    w.sent.clear()
    ticked.tick()
    assert len(per_task_requests(fake_search)) == 3
    assert len(updates(w)) == 1
    w.close()


def test_trouble_shows_per_row_and_overall_then_clears(fake_search, ticked, clock):
    doc = task_doc(state="PENDING")
    fake_search.script(doc["task_id"], [http_error(503), at(doc, "SUCCESS")])
    w = offline_list(fake_search, ticked, [doc["task_id"]], poll_interval=1.0)
    w.start()
    w.sent.clear()
    delay = run_round(ticked, clock, 0.0)
    (row,) = w.rows
    assert row["trouble"] == "retrying"
    assert row["error"].startswith("Search is unavailable (HTTP 503")
    assert w.error.startswith("Retrying 1 task: Search is unavailable")
    assert w.polling
    run_round(ticked, clock, delay)
    (row,) = w.rows
    assert (row["state"], row["error"], row["trouble"], w.error) == ("SUCCESS", "", "", "")
    assert len(updates(w)) == 2
    w.close()


def test_stale_callbacks_after_stop_change_nothing(fake_search, ticked):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = offline_list(fake_search, ticked, [doc["task_id"]])
    w.start()
    listener = w._entries[doc["task_id"]].listener
    w.stop()
    w.sent.clear()
    task = Task.from_document(at(doc, "SUCCESS"))
    listener.on_task(task, Schedule(1.0, None, 1.0, True))
    listener.on_fatal(stw.TaskAPIError("gone", http_status=404))
    assert w.counts == {"UNCHECKED": 1}
    assert updates(w) == []
    w.close()


# -- text form ------------------------------------------------------------------------


def test_text_form_counts_states_and_elapsed(fake_search, ticked, clock):
    docs = [
        task_doc(
            state="FAILED" if i == 4 else "SUCCESS",
            creation_date=f"2021-10-05T18:42:{49 - i}",
            completion_date=f"2021-10-05T18:4{3 + i % 2}:52.5",
        )
        for i in range(10)
    ]
    docs += [task_doc(state="PROGRESS"), task_doc(state="PROGRESS")]
    for doc in docs:
        fake_search.put_task(doc)
    w = offline_list(fake_search, ticked, [d["task_id"] for d in docs[:10]])
    w.start()
    ticked.tick()
    assert repr(w) == "<TaskListWidget 10 tasks: 9 SUCCESS, 1 FAILED; elapsed 2 min 12 s>"
    for doc in docs[10:]:
        w.add(doc["task_id"])
    ticked.tick()
    text = repr(w)
    assert re.fullmatch(
        r"<TaskListWidget 12 tasks: 9 SUCCESS, 1 FAILED, 2 PROGRESS; elapsed .+>", text
    )
    bundle = w._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == text
    assert "application/vnd.jupyter.widget-view+json" in data
    w.close()
    empty = TaskListWidget([], base_url=fake_search.base_url, start=False)
    assert repr(empty) == "<TaskListWidget 0 tasks>"
    assert empty.wait(timeout=1) == []
    empty.close()


def test_normalized_ids_in_rows(fake_search):
    tid = str(uuid.uuid4())
    w = TaskListWidget([tid.upper()], base_url=fake_search.base_url, start=False)
    assert w.rows[0]["task_id"] == normalize_task_id(tid)
    w.close()


def test_static_snapshot_summarises_and_escapes(fake_search, ticked, clock):
    hostile = '<img src=x onerror="window.__pwned=1">'
    ok, bad = task_doc(state="SUCCESS"), task_doc(state="FAILED", message=hostile)
    for doc in (ok, bad):
        fake_search.put_task(doc)
    w = offline_list(fake_search, ticked, [ok["task_id"], bad["task_id"]], index_id=FAKE_INDEX_ID)
    w.start()
    ticked.tick()
    bundle = w._repr_mimebundle_()
    assert "2 tasks" in bundle["text/plain"]
    snapshot = bundle["text/html"]
    assert "1 SUCCESS" in snapshot
    assert bad["task_id"] in snapshot
    assert snapshot.index(bad["task_id"]) < snapshot.index(ok["task_id"])  # failed first
    assert hostile not in snapshot
    assert "&lt;img" in snapshot
    assert set(bundle) == {"text/plain", "text/html"}  # every task ended: a document
    w.close()
