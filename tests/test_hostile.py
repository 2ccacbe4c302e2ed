"""Hostile services: no answer from one service, index or task freezes the other watches.

Each test puts a misbehaving loopback service (tests/fake_search.py's faults: a trickle, an
endless body, huge Retry-After values, a gzip bomb, oversized or too deep documents, tasks
missing from their index's list, an echoed Authorization header, unsendable tokens, control
characters) next to a healthy one, and checks that the healthy watches finish on time
(deadlines, never sleeps), that the poller thread is alive or honestly reported dead, that
sizes stay under their caps and that the token is nowhere.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import threading
import time
import tracemalloc
import uuid
import zlib
from collections.abc import Iterator

import pytest
from fake_search import (
    FAKE_INDEX_ID,
    FakeSearch,
    deep_json,
    echo_authorization,
    endless_body,
    gzip_bomb,
    http_error,
    task_doc,
    trickle,
)
from fakes import FakeClock, FixedBackoff

import search_task_widget as stw
from search_task_widget import Poller, SearchTaskError
from search_task_widget._model.task import MAX_SHOWN_DETAILS, Task
from search_task_widget._service.client import MAX_BODY_BYTES, TaskClient, shared_clients
from search_task_widget._service.retry_after import parse_retry_after
from search_task_widget._terminal.cli import main
from search_task_widget._tracking.poller import Schedule, Watch
from search_task_widget._tracking.schedule import (
    MAX_RETRY_AFTER,
    AdaptiveInterval,
)
from search_task_widget.simulator.loopback import Response

#: How long a healthy watch may be held up by a misbehaving neighbour.
ON_TIME = 3.0
TOKEN = "AgHostileTestToken" + uuid.uuid4().hex


class Recorder:
    """A listener that writes down what the poller told it."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object, Schedule | None]] = []
        self.finished = threading.Event()
        self.told = threading.Event()

    def on_task(self, task: Task, schedule: Schedule) -> None:
        self.events.append(("task", task, schedule))
        self.told.set()
        if task.is_terminal:
            self.finished.set()

    def on_trouble(self, error: SearchTaskError, schedule: Schedule) -> None:
        self.events.append(("trouble", error, schedule))
        self.told.set()

    def on_fatal(self, error: SearchTaskError) -> None:
        self.events.append(("fatal", error, None))
        self.told.set()
        self.finished.set()

    def errors(self) -> list[SearchTaskError]:
        return [e for kind, e, _ in self.events if kind != "task"]  # type: ignore[misc]


@pytest.fixture
def bad() -> Iterator[FakeSearch]:
    """The misbehaving service (the healthy one is the ``fake_search`` fixture)."""
    with FakeSearch() as service:
        yield service


@pytest.fixture
def threaded() -> Iterator[Poller]:
    instance = Poller(rate=50.0, burst=5.0, backoff=FixedBackoff(base=0.2, cap=1.0))
    yield instance
    instance.shutdown(1.0)


def watch(poller: Poller, client: TaskClient, task_id: str, **kwargs) -> Recorder:
    recorder = Recorder()
    interval = AdaptiveInterval(kwargs.pop("minimum", 0.05), 0.2)
    poller._add(Watch(task_id, client, recorder, interval, **kwargs))
    return recorder


def healthy_task(service: FakeSearch) -> str:
    """A task that is PENDING at the first check and SUCCESS at the second.

    Alone in its index: the fake's task lists show stored documents, which a scripted
    task's steps update only when asked for by id.
    """
    index = str(uuid.uuid4())
    doc = task_doc(state="PENDING", index_id=index)
    service.script(doc["task_id"], [doc, task_doc(doc["task_id"], "SUCCESS", index_id=index)])
    return doc["task_id"]


def assert_healthy_on_time(service: FakeSearch, poller: Poller, client: TaskClient) -> None:
    started = time.monotonic()
    recorder = watch(poller, client, healthy_task(service))
    assert recorder.finished.wait(ON_TIME), f"healthy watch stuck: {recorder.events}"
    assert recorder.events[-1][0] == "task", recorder.events
    assert time.monotonic() - started < ON_TIME


# -- isolation: a request has a deadline as a whole; others go on ----------------------


@pytest.mark.parametrize("fault", ["trickle", "endless", "silent"])
def test_a_stuck_service_never_holds_up_another(fault, bad, fake_search, threaded):
    doc = task_doc()
    steps = {
        "trickle": trickle(doc, pace=0.2),  # 1 byte every 0.2 s: no read ever times out
        "endless": endless_body(pace=0.01),  # a chunked body that never ends
        "silent": Response(delay=30.0),  # accepts, then says nothing
    }
    bad.script(doc["task_id"], [steps[fault]] * 5)
    with TaskClient(bad.base_url, deadline=1.0) as stuck, TaskClient(fake_search.base_url) as ok:
        started = time.monotonic()
        victim = watch(threaded, stuck, doc["task_id"])
        # Several healthy watches, one after another, while the bad service hangs.
        for _ in range(3):
            assert_healthy_on_time(fake_search, threaded, ok)
        assert victim.told.wait(ON_TIME), "the stuck request was never reported"
        error = victim.errors()[0]
        assert error.code == "Timeout"
        assert "answer from" in error.message
        assert time.monotonic() - started < 1.0 + ON_TIME  # the whole-request deadline held
        assert threaded.thread is not None
        assert threaded.thread.is_alive()


@pytest.mark.parametrize(
    "fault", ["gzip bomb", "huge document", "deep json", "echo", "control characters", "1e12"]
)
def test_whatever_one_service_sends_the_others_go_on(fault, bad, fake_search, threaded):
    doc = task_doc()
    step = {
        "gzip bomb": lambda: gzip_bomb(),
        "huge document": lambda: {**doc, "additional_details": {"blob": "x" * (4 << 20)}},
        "deep json": lambda: deep_json(),
        "echo": lambda: echo_authorization(502),
        "control characters": lambda: {**doc, "message": HOSTILE_TEXT},
        "1e12": lambda: http_error(429, retry_after="1e12"),
    }[fault]()
    bad.script(doc["task_id"], [step] * 5)
    sentinel = task_doc(state="PENDING")  # keeps a watch, so the thread has work to do
    fake_search.put_task(sentinel)
    with TaskClient(bad.base_url) as odd, TaskClient(fake_search.base_url) as ok:
        watch(threaded, ok, sentinel["task_id"])
        victim = watch(threaded, odd, doc["task_id"])
        assert_healthy_on_time(fake_search, threaded, ok)
        assert victim.told.wait(ON_TIME)
        assert threaded.thread is not None
        assert threaded.thread.is_alive()


def test_an_endless_fast_body_stops_at_the_size_cap(bad, fake_search, threaded):
    doc = task_doc()
    bad.script(doc["task_id"], [endless_body()])
    with (
        TaskClient(bad.base_url, max_body=1 << 20) as stuck,
        TaskClient(fake_search.base_url) as ok,
    ):
        victim = watch(threaded, stuck, doc["task_id"])
        assert_healthy_on_time(fake_search, threaded, ok)
        assert victim.finished.wait(ON_TIME)
        (error,) = victim.errors()
        assert (error.code, error.transient) == ("TooLarge", False)
        assert "1 MiB" in error.message


def test_one_slow_index_does_not_hold_up_another_index_of_the_same_service(fake_search, threaded):
    slow_index = str(uuid.uuid4())
    slow = [task_doc(index_id=slow_index) for _ in range(2)]
    fake_search.script_list(slow_index, [trickle({"tasks": slow}, pace=0.2)] * 5)
    for doc in slow:
        fake_search.put_task(doc)
    with TaskClient(fake_search.base_url, deadline=1.5) as client:
        for doc in slow:
            watch(threaded, client, doc["task_id"], index_id=slow_index)
        # Each in an index of its own (see healthy_task), the same service.
        recorders = [watch(threaded, client, healthy_task(fake_search)) for _ in range(2)]
        for recorder in recorders:
            assert recorder.finished.wait(ON_TIME + 1.5), recorder.events


def test_closed_widgets_release_their_clients_while_a_request_hangs(bad, monkeypatch):
    monkeypatch.setattr("search_task_widget._service.client.REQUEST_DEADLINE", 30.0)
    poller = Poller(rate=50.0)
    doc = task_doc()
    bad.script(doc["task_id"], [trickle(doc, pace=0.5)] * 100)
    try:
        clients = []
        for _ in range(20):
            widget = stw.TaskWidget(doc["task_id"], base_url=bad.base_url, poller=poller)
            clients.append(widget._client)
            widget.close()
        deadline = time.monotonic() + ON_TIME
        while not all(c.closed for c in clients) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert all(c.closed for c in clients)
        assert not [c for c in clients if c.base_url == bad.base_url and c in _pooled()]
        # The requests cut off by the close end too: no worker thread is left behind.
        runner = poller._runner
        assert runner is not None
        while runner.in_flight(clients[0].base_url) and time.monotonic() < deadline + ON_TIME:
            time.sleep(0.02)
        assert runner.in_flight(clients[0].base_url) == 0
    finally:
        poller.shutdown(1.0)


def _pooled() -> list[TaskClient]:
    with shared_clients._lock:
        return [entry[0] for entry in shared_clients._entries.values()]


# -- bounds: Retry-After, intervals, bodies, what reaches the browser ------------------


@pytest.mark.parametrize(
    "header", ["1e12", "Fri, 31 Dec 9999 23:59:59 GMT", "3600", "1e308", "9" * 400]
)
def test_retry_after_is_clamped(header):
    seconds = parse_retry_after(header, time.time())
    assert seconds is None or 0 <= seconds <= MAX_RETRY_AFTER
    if header in ("1e12", "3600", "Fri, 31 Dec 9999 23:59:59 GMT"):
        assert seconds == MAX_RETRY_AFTER


@pytest.mark.parametrize("header", ["3600", "1e12", "Fri, 31 Dec 9999 23:59:59 GMT", "inf"])
def test_slow_down_pauses_only_that_service_and_says_the_real_wait(header, bad, fake_search):
    clock = FakeClock()
    poller = Poller(rate=5.0, burst=5.0, clock=clock, backoff=FixedBackoff(), threaded=False)
    doc = task_doc()
    bad.script(doc["task_id"], [http_error(429, retry_after=header)] * 3)
    with TaskClient(bad.base_url) as slowed, TaskClient(fake_search.base_url) as ok:
        victim = watch(poller, slowed, doc["task_id"], minimum=1.0)
        healthy = watch(poller, ok, healthy_task(fake_search), minimum=1.0)
        for _ in range(50):
            if healthy.finished.is_set():
                break
            clock.advance(min(poller.tick(), 1.0))
        assert healthy.finished.is_set()  # polled on its own schedule meanwhile
        assert clock.now - 1_000.0 < 10.0
        kind, _error, schedule = victim.events[0]
        assert kind == "trouble"
        assert schedule is not None
        assert schedule.next_check is not None
        wait = schedule.next_check - schedule.checked_at
        if header == "inf":  # unusable: ignored, the usual backoff applies
            assert wait == 1.0
        else:  # clamped, and the widget says the real wait
            assert wait == MAX_RETRY_AFTER
            assert len(bad.requests) == 1  # the paused service was not asked again
    poller.shutdown()


def test_huge_retry_after_never_kills_the_thread(bad, fake_search, threaded):
    doc = task_doc()
    bad.script(doc["task_id"], [http_error(503, retry_after="1e12")] * 3)
    with TaskClient(bad.base_url) as slowed, TaskClient(fake_search.base_url) as ok:
        victim = watch(threaded, slowed, doc["task_id"])
        assert victim.told.wait(ON_TIME)
        assert_healthy_on_time(fake_search, threaded, ok)
        assert threaded.thread is not None
        assert threaded.thread.is_alive()


@pytest.mark.parametrize("value", [1e10, float("inf"), float("nan"), 10**400, -1])
def test_impossible_poll_intervals_are_refused_naming_the_argument(value, fake_search):
    with pytest.raises(ValueError, match="poll_interval"):
        stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url, poll_interval=value)


def test_a_gzip_bomb_is_cut_at_the_cap_with_bounded_memory(bad):
    doc = task_doc()
    bad.script(doc["task_id"], [gzip_bomb(64 << 20)])
    with TaskClient(bad.base_url) as client:
        tracemalloc.start()
        try:
            with pytest.raises(SearchTaskError) as caught:
                client.get_task(doc["task_id"])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert caught.value.code == "TooLarge"
    assert peak < MAX_BODY_BYTES + (8 << 20), f"peak {peak / 1e6:.0f} MB"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate", "identity"])
def test_compressed_answers_still_read(encoding, fake_search):
    doc = task_doc()
    plain = json.dumps(doc).encode()
    packers = {
        "gzip": lambda: zlib.compressobj(wbits=zlib.MAX_WBITS | 16),
        "deflate": lambda: zlib.compressobj(),
        "raw-deflate": lambda: zlib.compressobj(wbits=-zlib.MAX_WBITS),
    }
    body, name = plain, encoding
    if encoding in packers:
        packer = packers[encoding]()
        body, name = packer.compress(plain) + packer.flush(), encoding.replace("raw-", "")
    headers = {"Content-Type": "application/json", "Content-Encoding": name}
    fake_search.script(doc["task_id"], [Response(200, body, headers)])
    with TaskClient(fake_search.base_url) as client:
        assert client.get_task(doc["task_id"]).raw == doc


def test_a_task_list_of_1000_tasks_fits(fake_search):
    docs = [
        task_doc(state="FAILED", additional_details={"errors": ["x" * 200] * 3})
        for _ in range(1000)
    ]
    fake_search.script_list(FAKE_INDEX_ID, [{"index_id": FAKE_INDEX_ID, "tasks": docs}])
    with TaskClient(fake_search.base_url) as client:
        assert len(client.get_task_list(FAKE_INDEX_ID)) == 1000


def test_huge_additional_details_reach_the_browser_truncated(fake_search, poller):
    doc = task_doc(state="SUCCESS", additional_details={"blob": "x" * (8 << 20)})
    fake_search.put_task(doc)
    widget = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=poller)
    # Bounded where the document is read (round three): the task keeps a note and the
    # beginning, like what reaches the browser.
    kept = widget.wait(timeout=10)["additional_details"]
    assert "characters of JSON" in kept["truncated"]
    assert kept["beginning"].startswith('{"blob": "xxx')
    state = json.dumps(widget.get_state())
    assert len(state) < 2 * MAX_SHOWN_DETAILS
    assert widget.additional_details == kept
    assert widget.task["additional_details"] == kept
    rows = stw.TaskListWidget([doc["task_id"]], base_url=fake_search.base_url, poller=poller)
    rows.wait(timeout=10)
    assert len(json.dumps(rows.get_state())) < 2 * MAX_SHOWN_DETAILS
    for w in (widget, rows):
        w.close()


def test_too_deep_json_says_so_in_words(bad):
    doc = task_doc()
    bad.script(doc["task_id"], [deep_json()])
    with TaskClient(bad.base_url) as client, pytest.raises(SearchTaskError) as caught:
        client.get_task(doc["task_id"])
    assert caught.value.code == "TooDeep"
    assert "nested deeper than" in str(caught.value)
    assert "RecursionError" not in str(caught.value)


# -- supervision -----------------------------------------------------------------------


class DyingClock:
    """The real clock, except that once ``armed`` its next wait fails like
    ``Event.wait(1e12)`` did (an OverflowError nothing catches)."""

    def __init__(self) -> None:
        self.armed = False

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if self.armed:
            self.armed = False
            raise OverflowError("timeout value is too large")
        return event.wait(min(timeout, 0.1))


def test_a_dead_thread_is_reported_and_the_next_start_brings_a_new_one(fake_search):
    clock = DyingClock()
    poller = Poller(rate=50.0, clock=clock)
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    other = task_doc(state="PENDING")
    fake_search.put_task(other)
    rows = stw.TaskListWidget(
        [other["task_id"]], base_url=fake_search.base_url, poller=poller, poll_interval=0.05
    )
    widget = stw.TaskWidget(
        doc["task_id"], base_url=fake_search.base_url, poller=poller, poll_interval=0.05
    )
    try:
        clock.armed = True
        with pytest.raises(SearchTaskError, match="poller stopped"):
            widget.wait(timeout=ON_TIME)
        assert widget.polling is False
        assert "background poller stopped unexpectedly" in widget.error
        with pytest.raises(SearchTaskError, match="poller stopped"):
            rows.wait(timeout=ON_TIME)
        assert rows.polling is False
        assert "background poller stopped unexpectedly" in rows.error
        fake_search.put_task(task_doc(doc["task_id"], "SUCCESS"))
        widget.start()
        assert widget.wait(timeout=ON_TIME)["state"] == "SUCCESS"
        assert widget.error == ""
    finally:
        widget.close()
        rows.close()
        poller.shutdown(1.0)


def test_tasks_missing_from_their_index_list_are_each_checked(fake_search, clock):
    poller = Poller(rate=5.0, clock=clock, backoff=FixedBackoff(), threaded=False)
    fake_search.script_list(FAKE_INDEX_ID, [{"index_id": FAKE_INDEX_ID, "tasks": []}])
    docs = [task_doc() for _ in range(100)]
    for doc in docs:
        fake_search.put_task(doc)
    with TaskClient(fake_search.base_url) as client:
        recorders = [
            watch(poller, client, d["task_id"], index_id=FAKE_INDEX_ID, minimum=1.0) for d in docs
        ]
        for _ in range(2000):
            if all(r.told.is_set() for r in recorders):
                break
            clock.advance(poller.tick())
        assert all(r.told.is_set() for r in recorders)
        assert clock.now - 1_000.0 < 100 / 5.0 + 10.0  # about one budget slot each
    for doc in docs:
        assert fake_search.requests_for(f"/v1/task/{doc['task_id']}")
    poller.shutdown()


# -- secrets ---------------------------------------------------------------------------


def _frames_hold(error: BaseException, secret: str) -> bool:
    """True if a frame kept by ``error`` (or a chained one) has ``secret`` in a local."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        pending += [item.__context__, item.__cause__]
        tb = item.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, (str, dict, list, tuple)) and secret in repr(value):
                    return True
            tb = tb.tb_next
    return False


def test_an_echoed_authorization_header_is_redacted_everywhere(fake_search, poller, caplog):
    caplog.set_level("DEBUG")
    fake_search.require_bearer = TOKEN
    doc = task_doc()
    fake_search.script(doc["task_id"], [echo_authorization(403)])
    widget = stw.TaskWidget(
        doc["task_id"], auth=TOKEN, base_url=fake_search.base_url, poller=poller
    )
    with pytest.raises(SearchTaskError) as caught:
        widget.wait(timeout=10)
    assert "echoed" in widget.error  # the service's message is shown...
    shown = [
        str(caught.value), repr(caught.value), widget.error, json.dumps(widget.get_state()),
        widget.to_html(), repr(widget), caplog.text,
    ]  # fmt: skip
    assert not [text for text in shown if TOKEN in text]  # ... but not the token
    assert not _frames_hold(caught.value, TOKEN)
    widget.close()


def test_a_token_written_into_a_document_is_redacted(fake_search, poller):
    doc = task_doc(state="SUCCESS", message=f"ingest by Bearer {TOKEN}",
                   additional_details={"seen": TOKEN})  # fmt: skip
    fake_search.put_task(doc)
    widget = stw.TaskWidget(
        doc["task_id"], auth=TOKEN, base_url=fake_search.base_url, poller=poller
    )
    document = widget.wait(timeout=10)
    assert TOKEN not in json.dumps(document) + json.dumps(widget.get_state())
    assert document["additional_details"] == {"seen": "[redacted]"}
    widget.close()


def test_the_cli_prints_no_echoed_token(fake_search, poller, monkeypatch):
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", TOKEN)
    doc = task_doc()
    fake_search.script(doc["task_id"], [echo_authorization(403)])
    out, err = io.StringIO(), io.StringIO()
    code = main(["watch", doc["task_id"], "--base-url", fake_search.base_url],
                stdout=out, stderr=err, poller=poller)  # fmt: skip
    assert code == 3
    assert "echoed" in err.getvalue()
    assert TOKEN not in out.getvalue() + err.getvalue()


def test_a_network_give_up_keeps_no_headers_in_its_frames(poller):
    poller.give_up_after = 0.0
    widget = stw.TaskWidget(
        str(uuid.uuid4()), auth=TOKEN, base_url="http://127.0.0.1:9/", poller=poller
    )
    with pytest.raises(SearchTaskError) as caught:
        widget.wait(timeout=10)
    assert caught.value.code in ("NetworkError", "Timeout")
    assert not _frames_hold(caught.value, TOKEN)
    assert TOKEN not in str(caught.value)
    widget.close()


BAD_TOKENS = [TOKEN[:10] + "\u200b" + TOKEN[10:], TOKEN[:10] + "\x00" + TOKEN[10:],
              TOKEN[:10] + "\n" + TOKEN[10:]]  # fmt: skip


@pytest.mark.parametrize("token", BAD_TOKENS, ids=["zero-width-space", "nul", "newline"])
def test_an_unsendable_token_is_refused_before_any_request(token, fake_search, monkeypatch):
    with pytest.raises(ValueError, match="cannot be sent") as caught:
        stw.TaskWidget(str(uuid.uuid4()), auth=token, base_url=fake_search.base_url)
    assert "cannot be sent in an HTTP header" in str(caught.value)
    texts = [str(caught.value)]
    if "\x00" not in token:  # an environment variable cannot hold NUL
        monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", token)
        with pytest.raises(ValueError, match="cannot be sent") as from_env:
            stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url)
        assert "SEARCH_TASK_WIDGET_TOKEN" in str(from_env.value)
        out, err = io.StringIO(), io.StringIO()
        code = main(["watch", str(uuid.uuid4()), "--base-url", fake_search.base_url],
                    stdout=out, stderr=err)  # fmt: skip
        assert code == 2
        texts += [str(from_env.value), out.getvalue(), err.getvalue()]
    for secret in (token, TOKEN[:10], TOKEN[11:]):
        assert not [text for text in texts if secret in text]
    assert fake_search.requests == []


class OddAuthorizer:
    """An authorizer whose header cannot be sent (a token pasted with a zero-width space)."""

    def get_authorization_header(self) -> str:
        return f"Bearer {BAD_TOKENS[0]}"

    def handle_missing_authorization(self) -> bool:
        return False


def test_an_unsendable_header_from_an_authorizer_is_refused(fake_search, poller):
    widget = stw.TaskWidget(
        str(uuid.uuid4()), auth=OddAuthorizer(), base_url=fake_search.base_url, poller=poller
    )
    with pytest.raises(SearchTaskError) as caught:
        widget.wait(timeout=10)
    assert caught.value.code == "UnsendableToken"
    assert "U+200B" in widget.error
    assert TOKEN[11:] not in widget.error + str(caught.value)
    assert fake_search.requests == []
    widget.close()


def test_ambient_tokens_go_to_loopback_only_when_asked(fake_search, poller, monkeypatch):
    monkeypatch.delenv("SEARCH_TASK_WIDGET_LOOPBACK_AUTH")
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", TOKEN)
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    widget = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=poller)
    widget.wait(timeout=10)
    assert all("authorization" not in r.headers for r in fake_search.requests)
    explicit = stw.TaskWidget(
        doc["task_id"], auth=TOKEN, base_url=fake_search.base_url, poller=poller
    )
    explicit.wait(timeout=10)
    assert fake_search.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    for w in (widget, explicit):
        w.close()


# -- terminal safety and clear errors --------------------------------------------------

HOSTILE_TEXT = "done\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07 \u202eexe.txt\u202c \x00\r bell\x07"


def test_the_cli_never_writes_control_characters_raw(fake_search, poller):
    doc = task_doc(
        state="FAILED", message=HOSTILE_TEXT, state_description=HOSTILE_TEXT,
        additional_details={"note": HOSTILE_TEXT},
    )  # fmt: skip
    fake_search.put_task(doc)
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["watch", doc["task_id"], "--base-url", fake_search.base_url, "--polling-interval",
         "0.05"], stdout=out, stderr=err, poller=poller,
    )  # fmt: skip
    assert code == 1
    text = out.getvalue() + err.getvalue()
    raw = {c for c in text if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) < 0xA0}
    assert raw == set()
    assert "\u202e" not in text
    assert "\u202c" not in text
    assert "\\x1b]52;c;" in text
    assert "\\u202e" in text


def test_clear_errors_for_wrong_arguments(fake_search):
    unraisable: list[object] = []
    previous, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with pytest.raises(TypeError, match="poller"):
            stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url, poller="x")
        with pytest.raises(TypeError, match="poller"):
            stw.TaskListWidget([], base_url=fake_search.base_url, poller="x")
        with pytest.raises(TypeError, match="index_id"):
            stw.TaskListWidget.for_index(None, base_url=fake_search.base_url)
        with pytest.raises(ValueError, match="base_url"):
            stw.TaskWidget(str(uuid.uuid4()), base_url="http://127.0.0.1:80:80/")
        with pytest.raises(ValueError, match="give_up_after"):
            Poller(give_up_after="soon")
        with pytest.raises(ValueError, match="burst"):
            Poller(burst="many")
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []
    out, err = io.StringIO(), io.StringIO()
    code = main(["watch", str(uuid.uuid4()), "--base-url", "http://127.0.0.1:80:80/"],
                stdout=out, stderr=err)  # fmt: skip
    assert code == 2
    assert "usage" in err.getvalue()
    assert "Traceback" not in err.getvalue()


# -- the front end ---------------------------------------------------------------------
# A state named like an Object.prototype member ("constructor", "__proto__"): its stage
# and text are tested under Node, js/test/stages.test.js.


def test_redaction_hides_echoed_tokens_and_keeps_words():
    from search_task_widget._model.errors import redact

    echoed = f"upstream said {{'authorization': 'Bearer {TOKEN}'}} and Authorization={TOKEN}"
    assert TOKEN not in redact(echoed)
    assert redact(f"bare {TOKEN} here", [TOKEN]) == "bare [redacted] here"
    plain = "Bearer token is invalid or expired; Authorization failed"
    assert redact(plain) == plain
