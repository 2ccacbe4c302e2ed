"""The terminal watcher, end to end: real HTTP to the loopback FakeSearch (and the simulator).

Most tests run ``main([...])`` in-process with StringIO streams and their own fast Poller;
a few run ``python -m search_task_widget`` as a real subprocess.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_search import FakeSearch, http_error, proxy_html, task_doc

from search_task_widget import Poller
from search_task_widget._terminal.cli import CLEAR_LINE, DEFAULT_TIMEOUT_EXIT_CODE, main
from search_task_widget._terminal.view import fit
from search_task_widget._tracking.schedule import Backoff

REPO = Path(__file__).resolve().parents[1]
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"  # the progress lines' UTC dates
LINE = re.compile(rf"^({STAMP}) (\S+) ?(.*)$")
FAST = ["--polling-interval", "0.05"]


@dataclass
class Result:
    code: int
    out: str
    err: str

    def lines(self, text: str | None = None) -> list[tuple[str, str]]:
        """(STATE, rest) of each timestamped progress line (as it stays on a terminal's
        screen: what follows the last erasing of its line)."""
        found = []
        for line in (self.out if text is None else text).split("\n"):
            match = LINE.match(line.rsplit(CLEAR_LINE, 1)[-1])
            if match:
                found.append((match.group(2), match.group(3)))
        return found


class ThreadCheckingStream(io.StringIO):
    """A StringIO that remembers which threads wrote to it."""

    def __init__(self, tty: bool = False) -> None:
        super().__init__()
        self.tty = tty
        self.writers: set[str] = set()

    def write(self, text: str) -> int:
        self.writers.add(threading.current_thread().name)
        return super().write(text)

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in (
        "SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_SDK_ENVIRONMENT", "GLOBUS_DATA",
        "SEARCH_TASK_WIDGET_CLIENT_ID",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GLOBUS_SDK_SERVICE_URL_SEARCH", raising=False)


def run(argv: list[str], poller: Poller | None = None, **kwargs) -> Result:
    out = kwargs.pop("stdout", None) or ThreadCheckingStream()
    err = kwargs.pop("stderr", None) or ThreadCheckingStream()
    code = main(argv, stdout=out, stderr=err, poller=poller, **kwargs)
    return Result(code, out.getvalue(), err.getvalue())


def lifecycle(task_id: str, *states: str) -> list[dict]:
    """Documents of one task going through ``states`` (one per poll)."""
    created = task_doc(task_id)["creation_date"]
    return [task_doc(task_id, state, creation_date=created) for state in states]


def watch_args(fake_search: FakeSearch, task_id: str, *extra: str) -> list[str]:
    return ["watch", task_id, "--base-url", fake_search.base_url, *FAST, *extra]


# -- outcomes and exit statuses ------------------------------------------------------------


def test_success_exits_0_with_one_line_per_change_and_a_summary(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(
        task_id, lifecycle(task_id, "PENDING", "PENDING", "PENDING", "PROGRESS", "SUCCESS")
    )
    out, err = ThreadCheckingStream(), ThreadCheckingStream()

    result = run(watch_args(fake_search, task_id), poller, stdout=out, stderr=err)

    assert result.code == 0, result
    assert result.lines() == [
        ("PENDING", "Task is waiting to start"),
        ("PROGRESS", "Task is running"),
        ("SUCCESS", "Task succeeded"),
    ]
    assert re.search(r"^State:\s+SUCCESS \(Task succeeded\)$", result.out, re.M)
    assert re.search(rf"^Task ID:\s+{task_id}$", result.out, re.M)
    assert re.search(r"^Index ID:\s+696af25c-8c24-469a-b5e0-67d3e4b71df7$", result.out, re.M)
    # The summary's dates are written as the progress lines write theirs: UTC, with its Z.
    assert re.search(rf"^Creation Date:\s+{STAMP}$", result.out, re.M)
    assert re.search(rf"^Completion Date:\s+{STAMP}$", result.out, re.M)
    assert re.search(r"^Elapsed:\s+\d+ s$", result.out, re.M)
    assert "Message:" not in result.out  # a success has none: no "Message: None"
    assert "None" not in result.out
    assert "Additional Details" not in result.out
    assert CLEAR_LINE not in result.out  # not a terminal: no live line
    assert result.err == ""
    # Only the main thread writes: the poller thread merely records events.
    assert out.writers == {threading.main_thread().name}
    assert len(fake_search.requests_for(f"/v1/task/{task_id}")) == 5


def test_failed_task_exits_1_and_shows_message_and_details(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "PROGRESS", "FAILED"))

    result = run(watch_args(fake_search, task_id), poller)

    assert result.code == 1, result
    assert re.search(r"^State:\s+FAILED \(Task failed\)$", result.out, re.M)
    assert re.search(
        r"^Message:\s+1 of 3 ingest documents failed: 'subject' is required$", result.out, re.M
    )
    details_text = result.out.split("Additional Details:\n", 1)[1]
    assert json.loads(details_text) == task_doc(task_id, "FAILED")["additional_details"]


def test_cancelled_task_exits_1_and_is_shown_as_it_is(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "PENDING", "CANCELLED"))

    result = run(watch_args(fake_search, task_id), poller)

    assert result.code == 1
    assert ("CANCELLED", "Task cancelled because its index was deleted") in result.lines()
    assert re.search(r"^State:\s+CANCELLED \(", result.out, re.M)


def test_json_output_is_exactly_the_final_document_and_progress_goes_to_stderr(fake_search, poller):
    task_id = str(uuid.uuid4())
    docs = lifecycle(task_id, "CREATING", "PENDING", "SUCCESS")
    fake_search.script(task_id, docs)

    result = run(watch_args(fake_search, task_id, "--format", "json"), poller)

    assert result.code == 0
    assert json.loads(result.out) == docs[-1]
    assert [state for state, _ in result.lines(result.err)] == ["CREATING", "PENDING", "SUCCESS"]


def test_timeout_exits_with_124_by_default_and_reports_the_last_state(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PENDING"))
    started = time.monotonic()

    result = run(watch_args(fake_search, task_id, "--timeout", "0.4"), poller)

    assert result.code == DEFAULT_TIMEOUT_EXIT_CODE == 124
    assert time.monotonic() - started < 10
    assert "Timed out after 0.4 s" in result.err
    assert "still PENDING (Task is waiting to start)" in result.err
    assert re.search(r"^State:\s+PENDING", result.out, re.M)


def test_timeout_exit_code_can_be_chosen(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PROGRESS"))

    result = run(
        watch_args(
            fake_search, task_id, "--timeout", "0.3", "--timeout-exit-code", "1", "--format", "json"
        ),
        poller,
    )

    assert result.code == 1
    assert json.loads(result.out)["state"] == "PROGRESS"  # the last known document


@pytest.mark.parametrize(
    ("status", "summary"),
    [
        (404, "Task not found (HTTP 404 NotFound.Generic)"),
        (403, "Not allowed to see this task (HTTP 403 Forbidden.Generic)"),
    ],
)
def test_fatal_polling_error_exits_3_with_the_errors_sentence(fake_search, poller, status, summary):
    task_id = str(uuid.uuid4())
    if status != 404:  # an unknown task is a 404 by itself
        fake_search.script(task_id, [http_error(status)])

    result = run(watch_args(fake_search, task_id, "--format", "json"), poller)

    assert result.code == 3
    assert f"Error: {summary}" in result.err
    assert "Hint:" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""  # no document to report


def test_transient_trouble_prints_retry_lines_and_recovers(fake_search):
    poller = Poller(rate=100, backoff=Backoff(base=0.05, cap=0.2, floor=0.01))
    task_id = str(uuid.uuid4())
    first, *rest = lifecycle(task_id, "PENDING", "PROGRESS", "SUCCESS")
    fake_search.script(task_id, [first, http_error(503, retry_after=0), proxy_html(502), *rest])

    try:
        result = run(watch_args(fake_search, task_id), poller)
    finally:
        poller.shutdown()

    assert result.code == 0, result
    states = [state for state, _ in result.lines()]
    assert states == ["PENDING", "RETRYING", "RETRYING", "PROGRESS", "SUCCESS"]
    retries = [rest for state, rest in result.lines() if state == "RETRYING"]
    assert "Search is unavailable (HTTP 503 ServiceUnavailable)" in retries[0]
    assert "HTML page" in retries[1]


def test_heartbeat_prints_a_line_for_each_unchanged_check(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(
        task_id, lifecycle(task_id, "PENDING", "PENDING", "PENDING", "PENDING", "SUCCESS")
    )

    result = run(watch_args(fake_search, task_id, "--heartbeat"), poller)

    assert result.code == 0
    lines = result.lines()
    assert lines[0] == ("PENDING", "Task is waiting to start")
    assert [rest.split(",")[0] for _, rest in lines[1:4]] == ["still"] * 3
    assert lines[4] == ("SUCCESS", "Task succeeded")


# -- the token -----------------------------------------------------------------------------


def test_token_from_the_environment_is_sent_as_bearer_and_never_printed(
    fake_search, poller, monkeypatch
):
    token = "AgTestToken" + uuid.uuid4().hex
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", token)
    fake_search.require_bearer = token
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "PENDING", "SUCCESS"))

    result = run(watch_args(fake_search, task_id), poller)

    assert result.code == 0, result
    requests = fake_search.requests_for(f"/v1/task/{task_id}")
    assert requests
    assert {r.headers.get("authorization") for r in requests} == {f"Bearer {token}"}
    assert token not in result.out + result.err


def test_no_token_means_no_authorization_header(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "SUCCESS"))

    assert run(watch_args(fake_search, task_id), poller).code == 0
    assert all("authorization" not in r.headers for r in fake_search.requests)


def test_rejected_token_exits_3_without_printing_it(fake_search, poller, monkeypatch):
    token = "AgExpiredToken" + uuid.uuid4().hex
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", token)
    fake_search.require_bearer = "some-other-token"
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id))

    result = run(watch_args(fake_search, task_id), poller)

    assert result.code == 3
    assert "Sign-in needed" in result.err
    assert "SEARCH_TASK_WIDGET_TOKEN" in result.err  # the hint says where the token comes from
    assert token not in result.out + result.err


def test_a_token_is_never_sent_over_plain_http_off_this_machine(poller, monkeypatch):
    token = "AgSecret" + uuid.uuid4().hex
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", token)

    result = run(["watch", str(uuid.uuid4()), "--base-url", "http://search.example.org/"], poller)

    assert result.code == 2
    assert "refusing to send a token over plain http" in result.err
    assert token not in result.out + result.err


def test_the_hub_token_in_globus_data_is_used(fake_search, poller, monkeypatch):
    from globus_auth import fake_token, globus_data

    token = fake_token("hub")
    monkeypatch.setenv("GLOBUS_DATA", globus_data(token))
    fake_search.require_bearer = token
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "SUCCESS"))

    result = run(watch_args(fake_search, task_id), poller)

    assert result.code == 0, result
    assert token not in result.out + result.err


def test_a_notebook_sign_in_is_reused(fake_search, poller, monkeypatch, tmp_path):
    from globus_auth import CLIENT_ID, fake_token, mocked_auth, store_sign_in

    import search_task_widget as stw

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    monkeypatch.setattr("search_task_widget._service.login._default_apps", {})
    token = fake_token("search")
    with mocked_auth() as auth:
        store_sign_in(stw.login_app(), auth, token)
    fake_search.require_bearer = token
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "SUCCESS"))

    result = run(watch_args(fake_search, task_id), poller)

    assert result.code == 0, result
    assert {r.headers.get("authorization") for r in fake_search.requests} == {f"Bearer {token}"}


def test_no_credentials_for_a_remote_service_is_a_usage_error(poller):
    result = run(["watch", str(uuid.uuid4()), "--base-url", "https://search.example.org/"], poller)

    assert result.code == 2
    assert "export SEARCH_TASK_WIDGET_TOKEN" in result.err
    assert "export SEARCH_TASK_WIDGET_CLIENT_ID=" in result.err
    # The command line was right: the advice alone, without the usage block before it.
    assert re.match(r"\S.* watch: error: no Globus credentials for https:", result.err)
    assert "usage:" not in result.err
    # Terminal advice: environment variables, not Python arguments.
    assert "auth=" not in result.err
    assert "client_id=" not in result.err
    assert "GLOBUS_DATA" not in result.err  # not set: nothing to say about it


def test_no_credentials_says_when_globus_data_holds_no_search_token(poller, monkeypatch, tmp_path):
    from globus_auth import CLIENT_ID, globus_data

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr("search_task_widget._service.login._default_apps", {})
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    # The hub's tokens, but for another service only (the Search scope was not added).
    monkeypatch.setenv("GLOBUS_DATA", globus_data(None))

    result = run(["watch", str(uuid.uuid4()), "--base-url", "https://search.example.org/"], poller)

    assert result.code == 2
    assert "$GLOBUS_DATA is set (JupyterHub) but holds no Search token" in result.err
    assert f"none is stored yet for {CLIENT_ID}" in result.err


# -- usage errors --------------------------------------------------------------------------


ID = "05c1ec1b-2400-44e2-9797-922c29199042"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: COMMAND"),
        (["watch"], "TASK_ID argument is required"),
        (["watch", "not-a-task-id"], "is not a valid Search task id"),
        (["watch", ID, "--format", "xml"], "invalid choice: 'xml'"),
        (["watch", ID, "--timeout", "-1"], "must be a number of seconds above 0"),
        (["watch", ID, "--timeout", "soon"], "expected a number of seconds"),
        (["watch", ID, "--timeout-exit-code", "300"], "must be from 0 to 255"),
        (["watch", ID, "--token", "abc"], "unrecognized arguments: --token"),
        (
            [
                "watch",
                ID,
                "--base-url",
                "https://search.api.globus.org/",
                "--polling-interval",
                "0.5",
            ],
            "--polling-interval must be at least 1 s against search.api.globus.org",
        ),
        (["watch", ID, "--base-url", "ftp://example.org/"], "base_url must be an http(s) URL"),
        (["watch", "--demo", "nosuch"], "unknown demo scenario 'nosuch'"),
        (["watch", ID, "--demo"], "give no TASK_ID"),
        (["watch", "--demo", "--base-url", "http://127.0.0.1:1/"], "give no --base-url"),
        (["frobnicate"], "'frobnicate' is not a valid Search task id"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(argv, message, fake_search, poller):
    result = run(argv, poller)

    assert result.code == 2
    assert message in result.err
    assert "usage:" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    assert fake_search.requests == []  # nothing was sent anywhere


def test_help_goes_to_stdout_and_documents_exit_statuses(poller):
    result = run(["watch", "--help"], poller)

    assert result.code == 0
    assert result.out.startswith("usage: ")
    for code in ("0", "1", "2", "3", "124", "130"):
        assert re.search(rf"^\s+{code}  \S", result.out, re.M), code
    assert "SEARCH_TASK_WIDGET_TOKEN" in result.out
    assert result.err == ""


# -- a terminal ----------------------------------------------------------------------------


class SteppingClock:
    """Starts at the real time; each wait that nothing interrupts moves it on by its timeout."""

    def __init__(self) -> None:
        self._monotonic = 1000.0
        self._epoch = time.time()

    def monotonic(self) -> float:
        return self._monotonic

    def time(self) -> float:
        return self._epoch + self._monotonic - 1000.0

    def wait(self, event: threading.Event, timeout: float) -> bool:
        if event.wait(0.05):
            return True
        self._monotonic += max(0.0, timeout)
        return False


def test_terminal_shows_one_live_line_with_elapsed_time_ticking(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PENDING"))  # created 3 s ago, stays PENDING
    out = ThreadCheckingStream(tty=True)

    result = run(
        watch_args(fake_search, task_id, "--timeout", "8"),
        poller,
        stdout=out,
        clock=SteppingClock(),
    )

    assert result.code == 124
    live = result.out.split("\n", 1)[1]  # after the "Watching task ..." header
    frames = [frame for frame in live.split(CLEAR_LINE) if frame]
    pending = [f for f in frames if f.startswith("PENDING (Task is waiting to start) - elapsed ")]
    ticks = [int(re.search(r"elapsed (\d+) s", f).group(1)) for f in pending]
    assert len(set(ticks)) >= 3, frames
    assert ticks == sorted(ticks)
    # The state's line stays above the live line, which is cleared before the summary.
    assert result.lines() == [("PENDING", "Task is waiting to start")]
    assert CLEAR_LINE + "\nState:" in result.out


def test_terminal_keeps_the_history_of_states_above_the_summary(fake_search, poller):
    task_id = str(uuid.uuid4())
    fake_search.script(task_id, lifecycle(task_id, "PENDING", "PENDING", "PROGRESS", "SUCCESS"))

    result = run(watch_args(fake_search, task_id), poller, stdout=ThreadCheckingStream(tty=True))

    assert result.code == 0, result
    # What stays on screen once the live line is erased: the header, a line per state, the
    # summary.
    screen = [line.rsplit(CLEAR_LINE, 1)[-1] for line in result.out.split("\n")]
    assert result.lines() == [
        ("PENDING", "Task is waiting to start"),
        ("PROGRESS", "Task is running"),
        ("SUCCESS", "Task succeeded"),
    ]
    assert screen.index("State:           SUCCESS (Task succeeded)") > 3


def test_the_live_line_is_cut_at_a_word_to_the_terminal_width(fake_search, poller):
    task_id = str(uuid.uuid4())
    # A long outage: the live line says "retrying in 30 s: Search is unavailable (HTTP 503)".
    fake_search.script(task_id, [task_doc(task_id, "PENDING"), http_error(503, retry_after=30)])

    result = run(
        watch_args(fake_search, task_id, "--timeout", "6"),
        poller,
        stdout=ThreadCheckingStream(tty=True),  # a StringIO has no size: 80 columns
        clock=SteppingClock(),
    )

    frames = [frame for frame in result.out.split(CLEAR_LINE) if "\n" not in frame and frame]
    assert all(len(frame) <= 79 for frame in frames), frames  # the last column would wrap
    retrying = [frame for frame in frames if " - retrying " in frame]
    assert retrying, frames
    for frame in retrying:  # cut between two words of the whole line, never inside one
        assert re.fullmatch(
            r"PENDING \(Task is waiting to start\) - elapsed \d+ s - retrying (in \d+ s|now)"
            r"(: Search( is( unavailable)?)?)?\.\.\.",
            frame,
        ), frame


@pytest.mark.parametrize(
    ("width", "fitted"),
    [
        (99, "PROGRESS (Task is running) - retrying in 2 s: Search is unavailable"),
        (60, "PROGRESS (Task is running) - retrying in 2 s: Search is..."),
        (57, "PROGRESS (Task is running) - retrying in 2 s: Search..."),
        (30, "PROGRESS (Task is running)..."),
        (12, "PROGRESS..."),
        (8, "PROGR..."),  # one word longer than the line: cut inside it
    ],
)
def test_fit_cuts_after_the_last_whole_word_with_an_ellipsis(width, fitted):
    line = "PROGRESS (Task is running) - retrying in 2 s: Search is unavailable"
    assert fit(line, width) == fitted
    assert len(fitted) <= width


# -- the demo ------------------------------------------------------------------------------


def test_demo_failure_exits_1(poller):
    result = run(["watch", "--demo", "failure", "--demo-speed", "20", *FAST], poller)

    assert result.code == 1, result
    assert "Demo: scenario 'failure' on the built-in simulator at http://127.0.0.1:" in result.out
    assert re.search(r"^Message:\s+1 of 3 ingest documents failed", result.out, re.M)


def test_demo_defaults_to_success_with_the_default_poller():
    result = run(["watch", "--demo", "--demo-speed", "20", *FAST])

    assert result.code == 0, result
    assert result.lines()[-1] == ("SUCCESS", "Task succeeded")


# -- real processes ------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCH_TASK_WIDGET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("PYTHONUNBUFFERED", None)  # the CLI must flush by itself
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "search_task_widget", *args]


def test_subprocess_json_success(fake_search):
    task_id = str(uuid.uuid4())
    docs = lifecycle(task_id, "PENDING", "PROGRESS", "SUCCESS")
    fake_search.script(task_id, docs)

    done = subprocess.run(
        _cli("watch", task_id, "--base-url", fake_search.base_url, *FAST, "--format", "json"),
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=REPO,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == docs[-1]
    assert "PROGRESS Task is running" in done.stderr


def test_subprocess_demo_failure_exits_1_and_bad_id_exits_2():
    failed = subprocess.run(
        _cli("watch", "--demo", "failure", "--demo-speed", "20", *FAST),
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=REPO,
        check=False,
    )
    bad = subprocess.run(
        _cli("watch", "12345"),
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=REPO,
        check=False,
    )

    assert failed.returncode == 1, failed.stderr
    assert "FAILED (Task failed)" in failed.stdout
    assert bad.returncode == 2
    assert "usage: python -m search_task_widget watch" in bad.stderr
    assert "'12345' is not a valid Search task id" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_subprocess_ctrl_c_exits_130_cleanly(fake_search):
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PENDING"))
    proc = subprocess.Popen(
        _cli("watch", task_id, "--base-url", fake_search.base_url, *FAST),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=REPO,
        # Python installs its Ctrl-C handler only if SIGINT is not ignored at start, and a
        # child inherits SIG_IGN from a suite started by nohup or in the background.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if " PENDING " in line:
                break
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    assert code == 130
    assert "Interrupted: stopped watching task" in err
    assert "Traceback" not in err


def test_console_script_entry_point_is_main():
    from search_task_widget import __main__ as entry
    from search_task_widget._terminal import cli as _cli

    assert entry.main is _cli.main
