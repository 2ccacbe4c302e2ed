"""TaskWidget: traits, messages per poll, wait(), lifecycle and secrets."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid

import ipywidgets.widgets.widget as widget_registry
import pytest
from fake_search import http_error, task_doc

import search_task_widget as stw
from search_task_widget._model.task import Task
from search_task_widget._service.client import shared_clients
from search_task_widget._tracking.poller import Schedule

# Shaped like a Globus access token; built at run time so no token-like text is committed.
SECRET = "Ag" + "PlantedSecretToken" + "0123456789abcdefghij" * 3
REMOTE = "https://search.api.globus.org/"


@pytest.fixture
def offline_widget():
    """A widget that never polls: the test plays the poller by calling its listener methods."""
    widget = stw.TaskWidget(str(uuid.uuid4()), base_url=REMOTE, auth=SECRET, start=False)
    sent: list[dict] = []
    widget._send = lambda msg, buffers=None: sent.append(msg)
    widget.sent = sent
    yield widget
    widget.close()


def schedule(at: float, *, changed: bool, interval: float = 1.0) -> Schedule:
    return Schedule(checked_at=at, next_check=at + interval, interval=interval, changed=changed)


def updates(widget) -> list[dict]:
    return [m["state"] for m in widget.sent if m.get("method") == "update"]


def test_each_poll_is_one_message_and_unchanged_polls_only_send_a_throttled_stamp(offline_widget):
    w = offline_widget
    pending = Task.from_document(task_doc(w.task_id, "PENDING"))
    w._group.task_seen(w._entry, pending, schedule(100.0, changed=True))
    first = updates(w)
    assert len(first) == 1
    assert first[0]["state"] == "PENDING"
    assert first[0]["state_description"] == "Task is waiting to start"
    assert first[0]["last_checked"] == 100_000.0
    for second in range(1, 10):  # nine unchanged polls inside the stamp period: silence
        w._group.task_seen(w._entry, pending, schedule(100.0 + second, changed=False))
    assert len(updates(w)) == 1
    w._group.task_seen(w._entry, pending, schedule(110.0, changed=False, interval=2.0))
    stamp = updates(w)[-1]
    assert set(stamp) == {"last_checked", "next_check", "poll_interval"}
    running = Task.from_document(
        task_doc(w.task_id, "PROGRESS", creation_date=pending.creation_date)
    )
    w._group.task_seen(w._entry, running, schedule(111.0, changed=True))
    assert len(updates(w)) == 3
    assert updates(w)[-1]["state"] == "PROGRESS"
    assert set(w.stage_times) == {"PENDING", "PROGRESS"}


def test_trouble_shows_retry_and_keeps_last_state(offline_widget):
    w = offline_widget
    w._group.task_seen(
        w._entry, Task.from_document(task_doc(w.task_id, "PENDING")), schedule(50.0, changed=True)
    )
    error = stw.TaskAPIError("busy", http_status=503, code="ServiceUnavailable", transient=True)
    w._group.trouble_seen(w._entry, error, Schedule(60.0, 64.0, 1.0, failures=1))
    assert w.state == "PENDING"
    assert w.trouble == "retrying"
    assert w.error.startswith("Retrying in 4 s: Search is unavailable (HTTP 503")
    assert len(updates(w)) == 2
    w._group.task_seen(
        w._entry, Task.from_document(task_doc(w.task_id, "SUCCESS")), schedule(64.0, changed=True)
    )
    assert (w.error, w.trouble, w.polling) == ("", "", False)
    assert w.done


def test_fatal_error_is_explained_and_raised_by_wait(offline_widget):
    w = offline_widget
    error = stw.TaskAPIError("No task with that id", http_status=404, code="NotFound.Generic")
    w._group.fatal_seen(w._entry, error)
    assert w.trouble == "fatal"
    assert "Task not found (HTTP 404 NotFound.Generic)" in w.error
    assert "base_url" in w.error  # says what to do
    with pytest.raises(stw.TaskAPIError) as caught:
        w.wait(timeout=1)
    assert (caught.value.http_status, caught.value.code) == (404, "NotFound.Generic")


def test_forbidden_names_the_index(offline_widget):
    w = offline_widget
    w._group.task_seen(
        w._entry, Task.from_document(task_doc(w.task_id, "PENDING")), schedule(1.0, changed=True)
    )
    w._group.fatal_seen(w._entry, stw.TaskAPIError("no", http_status=403, code="Forbidden.Generic"))
    assert w.index_id in w.error
    assert "writer role" in w.error


def test_text_form_says_id_state_description_and_elapsed(offline_widget):
    w = offline_widget
    running = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in running  # live while it runs
    doc = task_doc(
        w.task_id,
        "SUCCESS",
        creation_date="2021-10-05T18:42:49",
        completion_date="2021-10-05T18:44:52.5",
    )
    w._group.task_seen(w._entry, Task.from_document(doc), schedule(1.0, changed=True))
    text = repr(w)
    assert w.task_id in text
    assert "SUCCESS (Task succeeded)" in text
    assert "elapsed 2 min 03 s" in text  # 123.5 s, rounded down as the front end does
    data = w._repr_mimebundle_()
    assert data["text/plain"] == text
    # Ended: a document (text forms only), and the model is gone.
    assert set(data) == {"text/plain", "text/html"}
    assert "SUCCESS" in data["text/html"]
    assert w.comm is None


@pytest.mark.parametrize("bad", ["", "nope", "05c1ec1b-2400-44e2", None, 7])
def test_malformed_task_id_is_refused_before_any_request(fake_search, bad):
    with pytest.raises(ValueError, match="task id"):
        stw.TaskWidget(bad, base_url=fake_search.base_url)
    assert fake_search.requests == []


@pytest.mark.parametrize("interval", [0, -1, float("nan"), float("inf"), "1", True])
def test_bad_poll_interval_is_refused(interval):
    with pytest.raises(ValueError, match="poll_interval"):
        stw.TaskWidget(str(uuid.uuid4()), base_url=REMOTE, poll_interval=interval, start=False)


def test_sub_second_polling_only_against_loopback():
    with pytest.raises(ValueError, match="at least 1 s"):
        stw.TaskWidget(str(uuid.uuid4()), base_url=REMOTE, poll_interval=0.2, start=False)
    stw.TaskWidget(
        str(uuid.uuid4()), base_url="http://127.0.0.1:9/", poll_interval=0.2, start=False
    ).close()


def test_unknown_auth_is_a_type_error_listing_what_is_accepted():
    with pytest.raises(TypeError, match="GlobusAuthorizer"):
        stw.TaskWidget(str(uuid.uuid4()), base_url=REMOTE, auth=12345, start=False)


def test_lifecycle_against_the_fake_service(fake_search, poller):
    tid = str(uuid.uuid4())
    created = task_doc(tid)["creation_date"]
    steps = ["CREATING", "PENDING", "PROGRESS", "SUCCESS"]
    fake_search.script(tid, [task_doc(tid, s, creation_date=created) for s in steps])
    w = stw.TaskWidget(tid, base_url=fake_search.base_url, poll_interval=0.05, poller=poller)
    assert w.polling
    doc = w.wait(timeout=20)
    assert doc["state"] == "SUCCESS"
    assert doc == w.task
    assert list(w.stage_times) == steps
    assert not w.polling
    w.close()


def test_failed_task_is_a_normal_end(fake_search, poller):
    doc = task_doc(state="FAILED")
    fake_search.put_task(doc)
    w = stw.TaskWidget(
        doc["task_id"], base_url=fake_search.base_url, poll_interval=0.05, poller=poller
    )
    result = w.wait(timeout=10)
    assert result["state"] == "FAILED"
    assert result["message"] == doc["message"]
    assert w.additional_details == doc["additional_details"]
    w.close()


def test_wait_times_out_with_the_current_state(fake_search, poller):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = stw.TaskWidget(
        doc["task_id"], base_url=fake_search.base_url, poll_interval=0.05, poller=poller
    )
    with pytest.raises(TimeoutError, match="PENDING"):
        w.wait(timeout=0.3)
    w.close()


def test_404_stops_polling_and_wait_raises(fake_search, poller):
    tid = str(uuid.uuid4())
    w = stw.TaskWidget(tid, base_url=fake_search.base_url, poll_interval=0.05, poller=poller)
    with pytest.raises(stw.TaskAPIError) as caught:
        w.wait(timeout=10)
    assert caught.value.http_status == 404
    assert not w.polling
    assert len(fake_search.requests) == 1
    w.close()


def test_stop_during_wait_raises_polling_stopped(fake_search, poller):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = stw.TaskWidget(
        doc["task_id"], base_url=fake_search.base_url, poll_interval=0.05, poller=poller
    )
    threading.Timer(0.2, w.stop).start()
    with pytest.raises(stw.PollingStoppedError):
        w.wait(timeout=10)
    assert not w.polling
    w.start()
    assert w.polling
    w.close()
    with pytest.raises(stw.PollingStoppedError):
        w.start()


def test_transient_trouble_recovers_by_itself(fake_search, poller):
    tid = str(uuid.uuid4())
    fake_search.script(tid, [http_error(503, retry_after=0), task_doc(tid, "SUCCESS")])
    poller.backoff.floor = poller.backoff.base = 0.05
    errors: list[str] = []
    w = stw.TaskWidget(
        tid, base_url=fake_search.base_url, poll_interval=0.05, poller=poller, start=False
    )
    w.observe(lambda change: errors.append(change["new"]), names="error")
    w.start()
    assert w.wait(timeout=10)["state"] == "SUCCESS"
    assert errors[0].startswith("Retrying in")
    assert errors[-1] == ""
    w.close()


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_create_and_close_cycles_leave_nothing_behind(fake_search, poller):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)

    def cycle() -> None:
        w = stw.TaskWidget(
            doc["task_id"], base_url=fake_search.base_url, poll_interval=0.05, poller=poller
        )
        w.close()

    cycle()  # the first widget makes the kernel's one shared front-end model, kept
    clients_before = len(shared_clients)
    widget_models_before = len(widget_registry._instances)
    descriptors_before = open_descriptors()
    for _ in range(1000):  # ~2 ms each: one SSL context is shared, not built per client
        cycle()
    assert poller.watch_count == 0
    assert len(shared_clients) == clients_before
    assert len(widget_registry._instances) == widget_models_before  # no model left open
    thread = poller.thread
    if thread is not None:
        thread.join(5)
        assert not thread.is_alive()
    # Every connection was closed (a little slack for the fake server's own sockets).
    assert open_descriptors() <= descriptors_before + 4


def test_widgets_with_the_same_credentials_share_one_client(fake_search):
    a = stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url, auth="tok", start=False)
    b = stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url, auth="tok", start=False)
    c = stw.TaskWidget(str(uuid.uuid4()), base_url=fake_search.base_url, auth="other", start=False)
    assert a._client is b._client
    assert a._client is not c._client
    for w in (a, b, c):
        w.close()


def test_no_token_in_state_repr_errors_html_or_logs(fake_search, poller, tmp_path, caplog):
    from ipywidgets.embed import dependency_state, embed_minimal_html

    fake_search.require_bearer = "a-different-token"
    caplog.set_level(logging.DEBUG)
    w = stw.TaskWidget(
        str(uuid.uuid4()),
        base_url=fake_search.base_url,
        auth=SECRET,
        poll_interval=0.05,
        poller=poller,
    )
    with pytest.raises(stw.TaskAPIError) as caught:
        w.wait(timeout=10)
    assert caught.value.http_status == 401
    assert fake_search.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    page = tmp_path / "export.html"
    embed_minimal_html(
        page, views=[w], drop_defaults=False, state=dependency_state([w], drop_defaults=False)
    )
    places = {
        "state": json.dumps(w.get_state(), default=str),
        "repr": repr(w),
        "error trait": w.error,
        "exception": f"{caught.value} {caught.value!r} {caught.value.message}",
        "html export": page.read_text(),
        "logs": caplog.text,
    }
    assert "Sign-in needed" in w.error
    for where, text in places.items():
        assert SECRET not in text, f"token leaked into {where}"
    w.close()


class FakeIngestResponse:
    """Shaped like globus_sdk.GlobusHTTPResponse: dict-like with the body in .data."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def __getitem__(self, key: str) -> object:
        return self.data[key]


def test_task_id_of_accepts_ids_and_ingest_replies():
    tid = str(uuid.uuid4())
    assert stw.task_id_of(tid.upper()) == tid
    assert stw.task_id_of(uuid.UUID(tid)) == tid
    assert stw.task_id_of({"acknowledged": True, "task_id": tid}) == tid
    assert stw.task_id_of(FakeIngestResponse({"acknowledged": True, "task_id": tid})) == tid
    with pytest.raises(ValueError, match="task_id"):
        stw.task_id_of({"acknowledged": True})
    with pytest.raises(TypeError):
        stw.task_id_of(3.5)


def test_watch_displays_and_returns_a_widget(fake_search, poller, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    monkeypatch.setattr("search_task_widget._views.display.in_ipython", lambda: True)
    doc = task_doc(state="SUCCESS")
    fake_search.put_task(doc)
    w = stw.watch(
        {"task_id": doc["task_id"]},
        base_url=fake_search.base_url,
        poll_interval=0.05,
        poller=poller,
    )
    assert shown == [w]
    assert isinstance(w, stw.TaskWidget)
    assert w.wait(timeout=10)["state"] == "SUCCESS"
    w.close()


def test_demo_runs_on_the_simulator_with_no_account(monkeypatch):
    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    w = stw.demo("success", speed=4, poll_interval=0.2)
    assert w.wait(timeout=30)["state"] == "SUCCESS"
    assert {"PROGRESS", "SUCCESS"} <= set(w.stage_times)
    w.close()


def test_the_demo_speed_variable_speeds_up_every_demo(monkeypatch):
    from search_task_widget.simulator import shared_simulator

    monkeypatch.setattr("IPython.display.display", lambda obj: None)
    monkeypatch.setenv("SEARCH_TASK_WIDGET_DEMO_SPEED", "8")
    w = stw.demo("success", speed=0.5)
    # The task went to the process's simulator running at 0.5 x 8, and is checked 8 times
    # as often as by default (a given poll_interval would win).
    assert w.base_url == shared_simulator(4.0).base_url
    assert w.poll_interval == 1 / 8
    assert w.wait(timeout=30)["state"] == "SUCCESS"
    w.close()
    given = stw.demo("success", speed=0.5, poll_interval=0.3)
    assert given.poll_interval == 0.3
    given.close()


@pytest.mark.parametrize("value", ["fast", "0", "-2", "inf", "nan"])
def test_a_demo_speed_that_is_no_positive_number_is_refused_by_name(monkeypatch, value):
    monkeypatch.setenv("SEARCH_TASK_WIDGET_DEMO_SPEED", value)
    with pytest.raises(ValueError, match=r"SEARCH_TASK_WIDGET_DEMO_SPEED must be a positive"):
        stw.demo("success")


def test_importing_the_package_does_not_import_globus_sdk():
    code = "import sys, search_task_widget; sys.exit('globus_sdk' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_ctrl_c_during_wait_stops_polling(fake_search, poller):
    import _thread

    # Python's own Ctrl-C handler, even where the suite was started with SIGINT ignored
    # (a background job, nohup, some CI runners): interrupt_main() then does nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_wait(fake_search, poller, _thread.interrupt_main)
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_wait(fake_search, poller, interrupt) -> None:
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    w = stw.TaskWidget(
        doc["task_id"], base_url=fake_search.base_url, poll_interval=0.05, poller=poller
    )
    threading.Timer(0.2, interrupt).start()
    with pytest.raises(KeyboardInterrupt):
        w.wait(timeout=10)
    assert not w.polling
    assert poller.watch_count == 0
    w.close()


def test_kernel_exit_is_not_held_up_by_polling(fake_search):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    code = (
        "import search_task_widget as stw\n"
        f"w = stw.TaskWidget({doc['task_id']!r}, base_url={fake_search.base_url!r}, poll_interval=0.1)\n"
        "try:\n"
        "    w.wait(timeout=1)\n"
        "except TimeoutError as error:\n"
        "    assert 'PENDING' in str(error) and w.polling, w\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], timeout=60, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_saved_widget_state_stays_small(offline_widget):
    # Saved notebooks store every synced trait of every widget, _esm included.
    state = offline_widget.get_state()
    assert len(json.dumps(state, default=str)) < 40_000


@pytest.mark.parametrize("mode", ["script", "prompt"])
def test_watch_outside_ipython_prints_nothing_itself(fake_search, mode):
    """A plain script prints nothing; the plain Python prompt prints the widget once (the
    value it echoes), not a second time from display()."""
    code = (
        "import search_task_widget as stw\n"
        f"stw.watch('{uuid.uuid4()}', base_url='{fake_search.base_url}', start=False)\n"
    )
    args = [sys.executable, "-c", code] if mode == "script" else [sys.executable, "-q", "-i"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        args, input=code if mode == "prompt" else None, capture_output=True, text=True,
        timeout=60, env=env, check=True,
    )  # fmt: skip
    assert result.stdout.count("<TaskWidget task") == (0 if mode == "script" else 1), result


def test_a_next_check_moved_earlier_is_sent_at_once(offline_widget):
    w = offline_widget
    pending = Task.from_document(task_doc(w.task_id, "PENDING"))
    w._group.task_seen(w._entry, pending, schedule(100.0, changed=True, interval=120.0))
    assert w.next_check == 220_000.0
    # Another task of the index changed: its list now comes in 1 s, for this task too.
    w._group.task_seen(w._entry, pending, schedule(103.0, changed=False, interval=1.0))
    assert w.next_check == 104_000.0
    assert len(updates(w)) == 2
    # Looks that come as announced, a little sooner or later, stay silent until the stamp.
    w._group.task_seen(w._entry, pending, schedule(104.0, changed=False, interval=1.5))
    w._group.task_seen(w._entry, pending, schedule(105.5, changed=False, interval=1.2))
    assert len(updates(w)) == 2
