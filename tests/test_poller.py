"""The shared poller: schedule, faults, budget and batching (fake clock, real HTTP)."""

from __future__ import annotations

import logging
import threading
from itertools import pairwise

import pytest
from fake_search import FAKE_INDEX_ID, dropped, http_error, proxy_html, task_doc
from fakes import FakeClock, FixedBackoff

from search_task_widget import Poller, SearchTaskError
from search_task_widget._model.task import Task
from search_task_widget._service.client import TaskClient
from search_task_widget._tracking.poller import Schedule, Watch
from search_task_widget._tracking.schedule import AdaptiveInterval


class Recorder:
    """A listener that writes down what the poller told it, with the fake time."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.events: list[tuple[str, object, object]] = []
        self.clock = clock
        self.finished = threading.Event()

    def on_task(self, task: Task, schedule: Schedule) -> None:
        self.events.append(("task", task, schedule))
        if task.is_terminal:
            self.finished.set()

    def on_trouble(self, error: SearchTaskError, schedule: Schedule) -> None:
        self.events.append(("trouble", error, schedule))

    def on_fatal(self, error: SearchTaskError) -> None:
        self.events.append(("fatal", error, None))
        self.finished.set()

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]


@pytest.fixture
def client(fake_search):
    with TaskClient(fake_search.base_url) as instance:
        yield instance


@pytest.fixture
def fake_poller(clock):
    instance = Poller(
        rate=5.0, burst=1.0, clock=clock, backoff=FixedBackoff(base=1.0, cap=60.0), threaded=False
    )
    yield instance
    instance.shutdown()


def add(poller, client, task_id, listener, *, index_id=None, minimum=1.0, maximum=10.0):
    watch = Watch(task_id, client, listener, AdaptiveInterval(minimum, maximum), index_id=index_id)
    return poller._add(watch)


def run(poller, clock, until, limit=200):
    """Tick the poller on the fake clock until ``until()`` holds."""
    for _ in range(limit):
        if until():
            return
        clock.advance(poller.tick())
    raise AssertionError("the poller did not get there")


def test_lifecycle_schedule_grows_while_unchanged_and_resets_on_change(
    fake_search, client, clock, fake_poller
):
    first = task_doc(state="CREATING")
    tid, created = first["task_id"], first["creation_date"]
    states = ["CREATING", "PENDING", "PENDING", "PENDING", "PROGRESS", "SUCCESS"]
    fake_search.script(tid, [task_doc(tid, state, creation_date=created) for state in states])
    recorder = Recorder()
    add(fake_poller, client, tid, recorder)
    run(fake_poller, clock, recorder.finished.is_set)
    seen = [
        (task.state, schedule.changed, schedule.interval) for _, task, schedule in recorder.events
    ]
    assert seen == [
        ("CREATING", True, 1.0),
        ("PENDING", True, 1.0),
        ("PENDING", False, 1.25),
        ("PENDING", False, 1.5625),
        ("PROGRESS", True, 1.0),
        ("SUCCESS", True, 1.0),
    ]
    last = recorder.events[-1][2]
    assert last.next_check is None
    assert fake_poller.watch_count == 0
    clock.advance(60)
    fake_poller.tick()
    assert len(fake_search.requests) == len(states)  # nothing after the end


def test_transient_faults_back_off_then_recover(fake_search, client, clock, fake_poller):
    tid = task_doc()["task_id"]
    fake_search.script(
        tid,
        [http_error(503, retry_after=3), proxy_html(502), dropped(), task_doc(tid, "SUCCESS")],
    )
    recorder = Recorder()
    add(fake_poller, client, tid, recorder)
    run(fake_poller, clock, recorder.finished.is_set)
    assert recorder.kinds() == ["trouble", "trouble", "trouble", "task"]
    waits = [s.next_check - s.checked_at for kind, _, s in recorder.events if kind == "trouble"]
    assert waits == [3.0, 2.0, 4.0]  # Retry-After as a floor, then 2**(n-1)
    errors = [e for kind, e, _ in recorder.events if kind == "trouble"]
    assert [e.http_status for e in errors] == [503, 502, None]


def test_retry_after_pauses_every_watch_of_that_service(fake_search, client, clock, fake_poller):
    first, second = task_doc(), task_doc(index_id="d0e5b5a2-7f0b-4a36-9b38-bb1f1b0c0a11")
    fake_search.script(first["task_id"], [http_error(429, retry_after=5), first])
    fake_search.put_task(second)
    waiting = Recorder(clock)
    add(fake_poller, client, first["task_id"], Recorder())
    add(fake_poller, client, second["task_id"], waiting)
    fake_poller.tick()
    assert len(fake_search.requests) == 1  # the 429 spent the budget's only token
    run(fake_poller, clock, lambda: waiting.events)
    assert len(fake_search.requests) == 1  # paused: the second task of that service waits too
    # ... and its widget says until when: the end of the pause, 5 s after the 429.
    kind, error, schedule = waiting.events[-1]
    assert (kind, error.http_status) == ("trouble", 429)
    assert schedule.next_check == pytest.approx(clock.time() - (clock.now - 1_000.0) + 5.0)
    run(fake_poller, clock, lambda: len(fake_search.requests) == 2)
    assert 1_000.0 + 5.0 - 1e-9 <= clock.now < 1_000.0 + 6.0  # the pause ends on time


@pytest.mark.parametrize("status", [400, 403, 404])
def test_fatal_answers_stop_polling(fake_search, client, clock, fake_poller, status):
    tid = task_doc()["task_id"]
    fake_search.script(tid, [http_error(status)])
    recorder = Recorder()
    add(fake_poller, client, tid, recorder)
    run(fake_poller, clock, recorder.finished.is_set)
    kind, error, _ = recorder.events[-1]
    assert (kind, error.http_status) == ("fatal", status)
    clock.advance(120)
    fake_poller.tick()
    assert len(fake_search.requests) == 1


def test_gives_up_after_continuous_trouble(fake_search, client, clock):
    poller = Poller(
        rate=5.0,
        clock=clock,
        give_up_after=30.0,
        backoff=FixedBackoff(base=1.0, cap=8.0),
        threaded=False,
    )
    tid = task_doc()["task_id"]
    fake_search.script(tid, [http_error(503)] * 50)
    recorder = Recorder()
    add(poller, client, tid, recorder)
    run(poller, clock, recorder.finished.is_set)
    kind, error, _ = recorder.events[-1]
    assert kind == "fatal"
    assert error.http_status == 503
    assert "gave up after" in error.message
    assert 30.0 <= clock.now - 1_000.0 < 40.0


def test_budget_caps_requests_per_second_across_watches(fake_search, client, clock, fake_poller):
    docs = [task_doc(index_id=None) for _ in range(25)]
    for doc in docs:
        fake_search.put_task(doc)
    stamps: list[float] = []

    class Stamping(Recorder):
        def on_task(self, task, schedule):
            stamps.append(clock.now)

    for doc in docs:
        add(fake_poller, client, doc["task_id"], Stamping())
    end = clock.now + 20.0
    while clock.now < end:
        clock.advance(fake_poller.tick())
    assert len(stamps) >= 90  # the budget was used...
    for start in stamps:  # ...but never more than 5 in any one-second window
        assert sum(1 for t in stamps if start <= t < start + 1.0) <= 5


def test_watches_sharing_an_index_are_batched_into_one_list_request(
    fake_search, client, clock, fake_poller
):
    docs = [task_doc(state="PENDING") for _ in range(3)]
    for doc in docs:
        fake_search.put_task(doc)
    recorders = [Recorder() for _ in docs]
    for doc, recorder in zip(docs, recorders, strict=True):
        add(fake_poller, client, doc["task_id"], recorder, index_id=FAKE_INDEX_ID)
    fake_poller.tick()
    assert [r.path for r in fake_search.requests] == [f"/v1/task_list/{FAKE_INDEX_ID}"]
    assert all(r.kinds() == ["task"] for r in recorders)


def test_tasks_of_unknown_index_are_found_in_a_known_index_list(
    fake_search, client, clock, fake_poller
):
    known, stray = task_doc(), task_doc()
    fake_search.put_task(known)
    fake_search.put_task(stray)
    known_recorder, stray_recorder = Recorder(), Recorder()
    add(fake_poller, client, known["task_id"], known_recorder, index_id=FAKE_INDEX_ID)
    add(fake_poller, client, stray["task_id"], stray_recorder)  # index unknown yet
    fake_poller.tick()
    assert len(fake_search.requests) == 1
    assert stray_recorder.kinds() == ["task"]


def test_task_missing_from_the_list_falls_back_to_its_own_request(fake_search, client, clock):
    poller = Poller(rate=5.0, burst=5.0, clock=clock, threaded=False)
    listed, old = task_doc(), task_doc()
    fake_search.put_task(old)
    fake_search.script_list(FAKE_INDEX_ID, [{"index_id": FAKE_INDEX_ID, "tasks": [listed]}])
    recorders = [Recorder(), Recorder()]
    add(poller, client, listed["task_id"], recorders[0], index_id=FAKE_INDEX_ID)
    add(poller, client, old["task_id"], recorders[1], index_id=FAKE_INDEX_ID)
    poller.tick()
    paths = [r.path for r in fake_search.requests]
    assert paths == [f"/v1/task_list/{FAKE_INDEX_ID}", f"/v1/task/{old['task_id']}"]
    assert [r.kinds() for r in recorders] == [["task"], ["task"]]


def test_forbidden_list_falls_back_to_one_request_per_task(fake_search, client, clock):
    poller = Poller(rate=5.0, burst=5.0, clock=clock, threaded=False)
    docs = [task_doc(), task_doc()]
    for doc in docs:
        fake_search.put_task(doc)
    fake_search.script_list(FAKE_INDEX_ID, [http_error(403)])
    recorders = [Recorder(), Recorder()]
    for doc, recorder in zip(docs, recorders, strict=True):
        add(poller, client, doc["task_id"], recorder, index_id=FAKE_INDEX_ID)
    poller.tick()
    clock.advance(2.0)
    poller.tick()
    lists = fake_search.requests_for(FAKE_INDEX_ID)
    assert len(lists) == 1  # never asked again
    assert all(r.kinds() == ["task", "task"] for r in recorders)


def test_a_failing_listener_does_not_stop_the_others(
    fake_search, client, clock, fake_poller, caplog
):
    class Broken(Recorder):
        def on_task(self, task, schedule):
            raise RuntimeError("listener bug")

    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    healthy = Recorder()
    add(fake_poller, client, doc["task_id"], Broken())
    add(fake_poller, client, doc["task_id"], healthy)
    with caplog.at_level(logging.ERROR, logger="search_task_widget"):
        run(fake_poller, clock, healthy.finished.is_set)
    assert "listener bug" in caplog.text


def test_removed_watch_gets_no_more_calls(fake_search, client, clock, fake_poller):
    doc = task_doc()
    fake_search.put_task(doc)
    recorder = Recorder()
    watch = add(fake_poller, client, doc["task_id"], recorder)
    fake_poller.tick()
    fake_poller._remove(watch)
    clock.advance(30)
    fake_poller.tick()
    assert recorder.kinds() == ["task"]
    assert len(fake_search.requests) == 1


def test_background_thread_runs_and_ends_when_nothing_is_watched(fake_search, client):
    poller = Poller(rate=50.0)
    tid = task_doc()["task_id"]
    fake_search.script(tid, [task_doc(tid, "PENDING"), task_doc(tid, "SUCCESS")])
    recorder = Recorder()
    poller._add(Watch(tid, client, recorder, AdaptiveInterval(0.05, 0.05)))
    thread = poller.thread
    assert thread is not None
    assert thread.daemon
    assert recorder.finished.wait(10)
    thread.join(10)
    assert not thread.is_alive()
    assert poller.thread is None
    assert not [t for t in threading.enumerate() if t.name == "search-task-poller"]


def test_a_garbage_collected_listener_ends_its_watch(fake_search, client, clock, fake_poller):
    import gc
    import weakref

    doc = task_doc()
    fake_search.put_task(doc)
    recorder = Recorder()
    add(fake_poller, client, doc["task_id"], weakref.ref(recorder))
    fake_poller.tick()
    assert recorder.kinds() == ["task"]
    del recorder
    gc.collect()
    clock.advance(5)
    fake_poller.tick()  # the answer finds nobody listening: the watch goes away
    assert fake_poller.watch_count == 0
    clock.advance(60)
    fake_poller.tick()
    assert len(fake_search.requests) == 2


def test_shutdown_stops_the_thread_and_refuses_new_watches(fake_search, client):
    poller = Poller(rate=50.0)
    doc = task_doc()
    fake_search.put_task(doc)
    poller._add(Watch(doc["task_id"], client, Recorder(), AdaptiveInterval(0.05, 0.05)))
    thread = poller.thread
    poller.shutdown()
    assert not thread.is_alive()
    assert poller.watch_count == 0
    with pytest.raises(RuntimeError, match="shut down"):
        poller._add(Watch(doc["task_id"], client, Recorder(), AdaptiveInterval(1, 1)))


def test_new_tasks_are_found_through_an_index_seen_before(fake_search, client, clock, fake_poller):
    known, *new = (task_doc() for _ in range(3))
    for doc in (known, *new):
        fake_search.put_task(doc)
    known_recorder = Recorder()
    add(fake_poller, client, known["task_id"], known_recorder)
    fake_poller.tick()  # a single GET: now the index is known
    assert [r.path for r in fake_search.requests] == [f"/v1/task/{known['task_id']}"]
    recorders = [Recorder() for _ in new]
    for doc, recorder in zip(new, recorders, strict=True):
        add(fake_poller, client, doc["task_id"], recorder)  # index unknown to the poller
    clock.advance(fake_poller.tick())
    fake_poller.tick()
    assert [r.path for r in fake_search.requests[1:]] == [f"/v1/task_list/{FAKE_INDEX_ID}"]
    assert all(r.kinds() == ["task"] for r in recorders)


def test_a_task_of_another_index_is_not_starved_by_lists(fake_search, client, clock, fake_poller):
    other_index = "3f1d0b9e-2c4a-4e8b-9a7d-5c6b7a8e9f01"
    running = task_doc(state="PROGRESS")
    elsewhere = task_doc(state="SUCCESS", index_id=other_index)
    fake_search.put_task(running)
    fake_search.put_task(elsewhere)
    add(fake_poller, client, running["task_id"], Recorder())
    fake_poller.tick()  # the first index is now known
    recorder = Recorder()
    add(fake_poller, client, elsewhere["task_id"], recorder)
    run(fake_poller, clock, recorder.finished.is_set, limit=20)
    lists = fake_search.requests_for(f"/v1/task_list/{FAKE_INDEX_ID}")
    assert len(lists) == 1  # looked for once in the known index, then asked for directly
    assert fake_search.requests_for(f"/v1/task/{elsewhere['task_id']}")


def test_an_index_is_listed_at_the_pace_of_its_most_urgent_task(
    fake_search, client, clock, fake_poller
):
    calm, busy = task_doc(state="PENDING"), task_doc(state="PENDING")
    fake_search.put_task(calm)
    steps = ["PENDING", "PROGRESS", "PROGRESS", "PROGRESS"]
    fake_search.script_list(
        FAKE_INDEX_ID,
        [{"index_id": FAKE_INDEX_ID, "tasks": [calm, {**busy, "state": s}]} for s in steps],
    )
    recorders = [Recorder(), Recorder()]
    add(fake_poller, client, calm["task_id"], recorders[0], index_id=FAKE_INDEX_ID)
    add(fake_poller, client, busy["task_id"], recorders[1], index_id=FAKE_INDEX_ID)
    for _ in range(4):
        clock.advance(fake_poller.tick())
    # One list request per look serves both tasks; the busy one changed at the 2nd look,
    # so the 3rd comes 1 s later for both, though the calm one alone would wait 1.25 s.
    assert [r.path for r in fake_search.requests] == [f"/v1/task_list/{FAKE_INDEX_ID}"] * 4
    looks = [s.checked_at for _, _, s in recorders[0].events]
    assert [b - a for a, b in pairwise(looks)] == [1.0, 1.0, 1.25]
    for calm_event, busy_event in zip(recorders[0].events, recorders[1].events, strict=True):
        assert calm_event[2].next_check == busy_event[2].next_check  # the same next list
    assert [s.interval for _, _, s in recorders[0].events] == [1.0, 1.0, 1.25, 1.5625]
