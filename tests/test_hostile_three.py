"""Hostile answers, round three: no credential shown, no field unbounded, no service starved.

Each test plants values of its own (a password in a URL, a token echoed with JSON
escapes, megabytes in every field, NaN and a 5000-digit number, a hundred trickling
services, a fork) against the loopback fake and checks the outcome: refused before any
request, redacted, bounded, JSON-safe, or served in its turn.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import globus_sdk
import pytest
from fake_search import http_error, task_doc

import search_task_widget as stw
from search_task_widget._documents.document import MAX_ROWS
from search_task_widget._model.errors import redact
from search_task_widget._model.task import (
    MAX_EXTRA_FIELDS,
    MAX_FIELD_JSON,
    MAX_FIELD_TEXT,
    MAX_NAME_CHARS,
    MAX_SHOWN_TEXT,
    Task,
    bounded_document,
)
from search_task_widget._service.client import MAX_LISTED_TASKS, TaskClient, held_secrets
from search_task_widget._service.requests import Job, RequestRunner
from search_task_widget._terminal.cli import main
from search_task_widget.simulator.loopback import Response

PASSWORD = "Pw" + uuid.uuid4().hex
TOKEN = "Ag/Round3/" + uuid.uuid4().hex  # a "/" the service may echo as "\/"
MEGABYTE = 1024 * 1024


def _raw_json(text: str) -> Response:
    """A 200 answer with exactly this JSON text (escapes and numbers as written)."""
    return Response(200, text.encode(), {"Content-Type": "application/json"})


# -- 1. credentials never come from a URL --------------------------------------------


def _hostile_urls(base_url: str) -> list[str]:
    root = base_url.split("//", 1)[1]
    return [
        f"http://alice:{PASSWORD}@{root}",
        f"http://{PASSWORD}@{root}",
        f"http://{root}?token={PASSWORD}",
        f"http://{root}#{PASSWORD}",
        f"http://{root}v1?",
    ]


@pytest.mark.parametrize("which", range(5))
def test_a_url_with_credentials_query_or_fragment_is_refused_unquoted(which, fake_search):
    url = _hostile_urls(fake_search.base_url)[which]
    for attempt in (
        lambda: TaskClient(url, globus_sdk.AccessTokenAuthorizer(TOKEN)),
        lambda: stw.TaskWidget(str(uuid.uuid4()), base_url=url, auth=TOKEN, start=False),
        lambda: stw.TaskListWidget([], base_url=url, auth=TOKEN, start=False),
    ):
        with pytest.raises(ValueError, match="base_url") as caught:
            attempt()
        assert PASSWORD not in str(caught.value)
        assert url not in str(caught.value)
    assert fake_search.requests == []  # refused before any request, Basic or Bearer


def test_a_service_url_from_the_environment_is_refused_naming_the_variable(
    fake_search, monkeypatch
):
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_SEARCH", _hostile_urls(fake_search.base_url)[0])
    with pytest.raises(ValueError, match=r"\$GLOBUS_SDK_SERVICE_URL_SEARCH") as caught:
        stw.TaskWidget(str(uuid.uuid4()), auth=TOKEN, start=False)
    assert PASSWORD not in str(caught.value)
    assert fake_search.requests == []


def test_the_cli_refuses_a_base_url_with_a_password_without_printing_it(fake_search):
    out, err = io.StringIO(), io.StringIO()
    url = _hostile_urls(fake_search.base_url)[0]
    code = main(["watch", str(uuid.uuid4()), "--base-url", url], stdout=out, stderr=err)
    assert code == 2
    assert "user name or password" in err.getvalue()
    assert PASSWORD not in out.getvalue() + err.getvalue()
    assert fake_search.requests == []


def test_any_url_userinfo_in_text_for_people_is_redacted():
    text = f"ConnectError talking to https://alice:{PASSWORD}@search.example.org/v1 (me@x.org)"
    shown = redact(text)
    assert PASSWORD not in shown
    assert "https://[redacted]@search.example.org/v1" in shown
    assert "me@x.org" in shown  # an address without a scheme is no URL


def test_a_redirect_location_with_a_password_is_redacted(fake_search):
    doc = task_doc()
    location = f"https://bob:{PASSWORD}@elsewhere.example.org/v1/task/{doc['task_id']}"
    fake_search.script(doc["task_id"], [Response(302, b"", {"Location": location})])
    with TaskClient(fake_search.base_url) as client, pytest.raises(stw.SearchTaskError) as caught:
        client.get_task(doc["task_id"])
    assert PASSWORD not in str(caught.value)
    assert "elsewhere.example.org" in str(caught.value)


# -- 2. redaction of decoded values --------------------------------------------------


def _escaped(text: str, how: str) -> str:
    if how == "slash":
        return text.replace("/", "\\/")
    return "".join(f"\\u{ord(c):04x}" for c in text)


@pytest.mark.parametrize("how", ["slash", "unicode"])
def test_a_token_echoed_with_json_escapes_is_redacted_after_decoding(how, fake_search, poller):
    doc = task_doc(state="SUCCESS")
    text = json.dumps(doc)[:-1] + (
        f', "echo": "{_escaped(TOKEN, how)}", "message": "token {_escaped(TOKEN, how)}",'
        f' "additional_details": {{"nested": ["{_escaped(TOKEN, how)}"],'
        f' "{_escaped(TOKEN, how)}": 1}}}}'
    )
    assert json.loads(text)["echo"] == TOKEN  # the fake really sends the escaped token
    fake_search.script(doc["task_id"], [_raw_json(text)])
    widget = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, auth=TOKEN,
                            poller=poller, poll_interval=0.05)  # fmt: skip
    document = widget.wait(timeout=10)
    seen = json.dumps(document) + json.dumps(widget.get_state(), default=str)
    seen += widget.to_html() + repr(widget) + json.dumps(widget.task)
    assert TOKEN not in seen
    assert document["echo"] == "[redacted]"
    widget.close()


def test_every_credential_an_authorizer_holds_is_redacted_too(fake_search):
    refresh = "Rt" + uuid.uuid4().hex
    access = "At" + uuid.uuid4().hex
    auth_client = globus_sdk.NativeAppAuthClient(str(uuid.uuid4()))
    authorizer = globus_sdk.RefreshTokenAuthorizer(
        refresh, auth_client, access_token=access, expires_at=2**40
    )
    assert set(held_secrets(authorizer)) >= {refresh, access}
    doc = task_doc(state="SUCCESS", message=f"refresh {_escaped(refresh, 'unicode')}")
    text = json.dumps(doc).replace(json.dumps(doc["message"]), f'"{doc["message"]}"')
    fake_search.script(doc["task_id"], [_raw_json(text)])
    with TaskClient(fake_search.base_url, authorizer) as client:
        task = client.get_task(doc["task_id"])
    assert refresh not in json.dumps(task.to_document())
    assert task.message == "refresh [redacted]"


# -- 3. one cap for every field ------------------------------------------------------


def _hostile_dict() -> dict:
    """:func:`_hostile_document`, decoded (the integer made without printing it)."""
    document = json.loads(_hostile_document().replace("7" * 5000, "0"))
    document["numbers"]["huge"] = 7 * (10**5000 - 1) // 9
    return document


def _hostile_document(
    state: str = "PROGRESS",
    task_id: str | None = None,
    size: int = MEGABYTE // 4,
    extras: int = MAX_EXTRA_FIELDS + 5,
) -> str:
    """A Task document with megabytes in every field, known or not, NaN, infinities and
    a 5000-digit integer, as raw JSON (Python cannot even write that integer)."""
    big = "x" * size  # 29 of them: 8 MiB by default, under the body cap
    doc = task_doc(
        task_id, state=state + big if state != "SUCCESS" else state,
        task_type="INGEST" + big, index_id=big, creation_date="2026-01-01T00:00:00" + big,
        completion_date=big, message=big, state_description=big,
        additional_details={"nested": [{"deep": big}] * 3, big: 1},
        numbers=None,  # its place: the first unknown field (replaced below, raw)
        **{f"extra_{n}": big for n in range(extras)},
    )  # fmt: skip
    numbers = '"nan": NaN, "inf": [Infinity, -Infinity], "huge": ' + "7" * 5000
    return json.dumps(doc)[:-1] + ', "numbers": {' + numbers + "}}"


def test_every_field_of_a_document_is_bounded_and_json_safe():
    task = Task.from_document(_hostile_dict())
    document = task.to_document()
    strict = json.dumps(document, allow_nan=False)  # NaN and infinities are gone
    assert len(strict) < 30 * MAX_FIELD_JSON
    for name in ("state", "task_type", "index_id", "creation_date", "completion_date"):
        assert len(document[name]) <= MAX_NAME_CHARS, name
    assert len(task.message or "") <= MAX_FIELD_TEXT
    assert sum(1 for key in document if key.startswith("extra_")) <= MAX_EXTRA_FIELDS
    details, numbers = document["additional_details"], document["numbers"]
    assert numbers["nan"] == "NaN"
    assert numbers["inf"] == ["Infinity", "-Infinity"]
    assert "at least 5000 digits" in numbers["huge"]
    assert all(len(key) <= MAX_NAME_CHARS for key in details)


def test_bounding_is_idempotent_and_keeps_ordinary_documents_as_they_are():
    doc = task_doc(state="FAILED")
    doc["ratio"], doc["count"] = 0.5, 2**52
    assert bounded_document(doc) == doc
    once = bounded_document(_hostile_dict())
    assert bounded_document(once) == once


def test_a_widget_on_a_hostile_document_stays_small_everywhere(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, [_raw_json(_hostile_document(task_id=task_id))] * 50)
    widget = stw.TaskWidget(task_id, base_url=fake_search.base_url, poller=poller,
                            poll_interval=0.05)  # fmt: skip
    assert _until(lambda: widget.state.startswith("PROGRESS")), widget.error
    state = json.dumps(widget.get_state(), default=str, allow_nan=False)
    assert len(state) < 8 * MAX_FIELD_JSON, len(state)
    html = widget.to_html()
    assert len(html) < 2 * MEGABYTE, len(html)  # the front end's code is most of it
    assert len(repr(widget)) < MAX_SHOWN_TEXT + 4 * MAX_NAME_CHARS
    assert json.dumps(widget.task, allow_nan=False)
    widget.close()


def test_a_list_of_hostile_rows_stays_small(fake_search, poller):
    documents = []
    for _ in range(40):
        task_id = str(uuid.uuid4())
        # Each field just over every cap: 40 such rows were 12 MB of rows before.
        hostile = _hostile_document(task_id=task_id, size=2 * MAX_FIELD_JSON, extras=0)
        fake_search.script(task_id, [_raw_json(hostile)] * 50)
        documents.append(task_id)
    widget = stw.TaskListWidget(documents, base_url=fake_search.base_url, poller=poller,
                                poll_interval=0.05)  # fmt: skip
    assert _until(lambda: all(row["state"] for row in widget.rows), seconds=30)
    rows = json.dumps(widget.rows, allow_nan=False)
    assert len(rows) < 40 * 20_000, len(rows)
    widget.close()


def test_a_task_list_of_100000_entries_is_read_up_to_the_cap(fake_search):
    index = str(uuid.uuid4())
    one = json.dumps({"task_id": str(uuid.uuid4()), "state": "SUCCESS"})  # 16 MiB in all
    tasks = ", ".join([one] * 100_000)
    body = f'{{"index_id": "{index}", "tasks": [{tasks}]}}'
    fake_search.script_list(index, [_raw_json(body)])
    with TaskClient(fake_search.base_url) as client:
        tasks = client.get_task_list(index)
    assert len(tasks) == MAX_LISTED_TASKS


def _until(condition, seconds: float = 10.0) -> bool:
    """Poll ``condition`` on the real clock until it holds (the widget's own thread moves
    the state; this only bounds the wait)."""
    done = threading.Event()
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        done.wait(0.02)
    return condition()


# -- 4. a healthy service always gets its turn -----------------------------------------


def test_a_healthy_service_is_served_while_slow_services_hold_every_worker():
    """Deterministic: the slow requests are held on an event, never released before the
    healthy one has started; the old runner kept it queued behind them."""
    release = threading.Event()
    started: list[str] = []
    healthy = threading.Event()

    def slow_call(service: str):
        def call() -> None:
            started.append(service)
            release.wait(30)

        return call

    runner = RequestRunner(lambda: None, per_service=4, max_workers=4)
    try:
        for n in range(12):  # 12 slow services, each with as many requests as allowed
            service = f"https://slow-{n}.example.org/"
            for _ in range(runner.per_service):
                runner.submit(Job(service, slow_call(service), _ignore, time.monotonic() + 60))
        runner.submit(Job("https://ok.example.org/", healthy.set, _ignore, time.monotonic() + 60))
        assert healthy.wait(10), "the healthy service's request never started"
        assert not release.is_set()  # every slow request is still held
        assert runner.in_flight("https://slow-0.example.org/") == runner.per_service
        # Bounded: the cap, plus at most one worker for each service past it.
        assert runner.workers <= runner.max_workers + 13
    finally:
        release.set()
        runner.close()


def _ignore(result: object, error: BaseException | None) -> None:
    """A job's delivery, unused: these tests look at when calls start."""


# -- 5. a forked child polls -----------------------------------------------------------

# Runs in its own interpreter (forking pytest itself would copy the suite's threads). The
# parent polls (its thread and a request worker alive), then forks; the child waits for
# a widget it inherited ("inherited": no new widget restarts anything) or for a new one
# ("new": the parent's widget had ended, its worker idle).
_FORK_SCRIPT = """
import os, sys, threading
import search_task_widget as stw
base, mode, first_id, new_id = sys.argv[1:5]
first = stw.TaskWidget(first_id, base_url=base, poll_interval=0.05)
for _ in range(1000):  # at most 10 s for the first answer
    if first.state:
        break
    threading.Event().wait(0.01)
print("polling", flush=True)
sys.stdin.readline()  # the test turned the first task to SUCCESS
if mode == "new":
    first.wait(timeout=15)
pid = os.fork()
if pid == 0:
    try:
        widget = first if mode == "inherited" else stw.TaskWidget(new_id, base_url=base)
        os._exit(0 if widget.wait(timeout=15)["state"] == "SUCCESS" else 1)
    except BaseException as error:
        print("child:", type(error).__name__, error, flush=True)
        os._exit(2)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.mark.parametrize("mode", ["inherited", "new"])
def test_a_forked_child_polls(mode, fake_search):
    first, new = task_doc(state="PENDING"), task_doc(state="SUCCESS")
    fake_search.put_task(first)
    fake_search.put_task(new)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-c", _FORK_SCRIPT, fake_search.base_url, mode, first["task_id"],
         new["task_id"]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    ) as child:  # fmt: skip
        try:
            assert child.stdout.readline().strip() == "polling"
            fake_search.put_task(task_doc(first["task_id"], "SUCCESS"))
            out, _ = child.communicate("go\n", timeout=60)
        finally:
            child.kill()
    assert out.strip().endswith("child exit 0"), out


# -- 6. strict JSON from the terminal --------------------------------------------------


def _refuse(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_watch_format_json_prints_strict_json(fake_search, poller):
    doc = task_doc(state="SUCCESS")
    numbers = '"nan": NaN, "inf": Infinity, "big": 1e999, "long": ' + "9" * 5000
    fake_search.script(doc["task_id"], [_raw_json(json.dumps(doc)[:-1] + f", {numbers}}}")])
    out, err = io.StringIO(), io.StringIO()
    code = main(["watch", doc["task_id"], "--base-url", fake_search.base_url, "--format",
                 "json"], stdout=out, stderr=err, poller=poller)  # fmt: skip
    assert code == 0, err.getvalue()
    printed = json.loads(out.getvalue(), parse_constant=_refuse)  # as strict as JSON.parse
    assert (printed["nan"], printed["inf"], printed["big"]) == ("NaN", "Infinity", "Infinity")
    assert "at least 5000 digits" in printed["long"]


# -- 7. degraded cases: each a clear, bounded outcome ----------------------------------


def test_a_right_to_left_override_is_shown_as_an_escape_everywhere(fake_search, poller):
    rlo, isolate = "\u202e", "\u2067"
    doc = task_doc(state="FAILED", message=f"file {rlo}fdp.exe", task_type=f"{isolate}X",
                   additional_details={f"k{rlo}": [f"v{rlo}"]})  # fmt: skip
    fake_search.put_task(doc)
    widget = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=poller)
    document = widget.wait(timeout=10)
    saved = widget._repr_mimebundle_()["text/html"]  # what a saved notebook keeps
    shown = widget.to_html() + saved + json.dumps(widget.get_state(), ensure_ascii=False)
    shown += json.dumps(document, ensure_ascii=False)
    assert rlo not in shown
    assert isolate not in shown
    assert document["message"] == "file \\u202efdp.exe"
    widget.close()


def test_a_right_to_left_override_in_an_error_answer_is_an_escape_in_the_live_error(
    fake_search, poller
):
    rlo = "\u202e"
    doc = task_doc()
    answer = http_error(404, "NotFound.Generic", f"no task {rlo}fdp.exe here")
    fake_search.script(doc["task_id"], [answer] * 3)
    widget = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=poller)
    with pytest.raises(stw.SearchTaskError) as caught:
        widget.wait(timeout=10)
    assert "no task \\u202efdp.exe here" in str(caught.value)
    assert rlo not in str(caught.value)
    assert rlo not in widget.error  # the synced trait the live view draws
    assert "\\u202efdp.exe" in widget.error
    widget.close()


def test_a_redirect_with_an_invalid_location_is_a_redirect_with_advice(fake_search, poller):
    doc = task_doc()
    fake_search.script(doc["task_id"], [Response(301, b"", {"Location": "http://[::1"})] * 5)
    widget = stw.TaskWidget(doc["task_id"], base_url=fake_search.base_url, poller=poller)
    with pytest.raises(stw.SearchTaskError) as caught:
        widget.wait(timeout=10)
    assert caught.value.code == "UnexpectedRedirect"
    assert caught.value.http_status == 301
    assert not caught.value.transient
    assert "Check base_url" in widget.error
    assert len(fake_search.requests_for(doc["task_id"])) == 1  # stopped, not retried
    widget.close()


@pytest.fixture
def self_signed(tmp_path) -> Iterator[str]:
    """An https server on loopback whose certificate nobody trusts."""
    import datetime
    import http.server
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = tmp_path / "cert.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_self_signed_certificate_stops_polling_with_advice(self_signed, poller):
    widget = stw.TaskWidget(str(uuid.uuid4()), base_url=self_signed, poller=poller)
    with pytest.raises(stw.SearchTaskError) as caught:
        widget.wait(timeout=10)  # at once: not retried for give_up_after (5 minutes)
    assert caught.value.code == "CertificateError"
    assert not caught.value.transient
    assert "certificate" in str(caught.value)
    assert "GLOBUS_SDK_VERIFY_SSL" in widget.error
    widget.close()


def test_for_index_on_a_100000_entry_list_stays_bounded(fake_search, poller):
    index = str(uuid.uuid4())
    entries = ", ".join(
        json.dumps({"task_id": str(uuid.uuid4()), "state": "SUCCESS", "index_id": index})
        for _ in range(100_000)
    )
    fake_search.script_list(index, [_raw_json(f'{{"tasks": [{entries}]}}')])
    widget = stw.TaskListWidget.for_index(index, base_url=fake_search.base_url, poller=poller,
                                          limit=100_000)  # fmt: skip
    assert len(widget.rows) == MAX_LISTED_TASKS  # what the caller's thread parsed
    html = widget.to_html()
    assert f"{MAX_LISTED_TASKS - MAX_ROWS} more tasks" in html
    widget.close()
