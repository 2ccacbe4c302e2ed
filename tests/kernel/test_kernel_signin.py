"""Signing in, in real kernels: what the front end sends, what the kernel answers, and that
no secret ever travels over IOPub.

The test process plays the front end: it reads the widget's comm messages and sends the
sign-in panel's messages (``model.send`` in the browser is a ``comm_msg`` whose data is
``{"method": "custom", "content": ...}``). Globus Auth is mocked inside the kernel
(``tests/globus_auth.py``); the Search service is the test process's ``fake_search``.
Nothing sleeps and hopes: every wait is for a message or a condition, with a deadline.
"""

from __future__ import annotations

import base64
import json
import pickle
import stat
import sys
import time
import uuid
from typing import Any

import pytest
from fake_search import task_doc
from globus_auth import fake_token
from kernel_harness import (
    REPO_ROOT,
    WIDGET_VIEW_MIME,
    Cell,
    KernelHarness,
    Received,
    WidgetStream,
    describe_messages,
    distinct_in_order,
    problems,
    running_kernel,
    shown_view,
    update_state,
)

pytestmark = pytest.mark.kernel

TESTS_DIR = REPO_ROOT / "tests"

IMPORTS = "import search_task_widget as stw\n"

# Waits for the poller thread to end (it ends when no task is left to watch): whatever it
# sent is then on IOPub before this cell's idle status.
JOIN_POLLER = """
_thread = stw.default_poller().thread
if _thread is not None:
    _thread.join(10)
assert _thread is None or not _thread.is_alive(), "the poller thread is still running"
"""


# -- helpers ------------------------------------------------------------------------------


def displayed_model_id(cell: Cell) -> str:
    return shown_view(cell)[1]


def merged_state(messages: list[Received], comm_id: str) -> dict[str, Any]:
    """The model as a front end holds it: the opening state with every update applied."""
    stream = WidgetStream.of(messages, comm_id)
    state: dict[str, Any] = {}
    if stream.opened is not None:
        state.update(stream.opened.content["data"]["state"])
    for update in stream.updates:
        state.update(update_state(update))
    return state


def updates_with(kernel: KernelHarness, comm_id: str, trait: str) -> list[tuple[int, Any]]:
    """(IOPub index, value) of every update of ``comm_id`` that sets ``trait``, in order."""
    return [
        (index, update_state(r)[trait])
        for index, r in enumerate(kernel.iopub)
        if WidgetStream.is_update(r, comm_id) and trait in update_state(r)
    ]


def saw(kernel: KernelHarness, comm_id: str, trait: str, value: Any):
    """A collect_until predicate: some update of ``comm_id`` (ever read) set ``trait``."""

    def predicate(_new: list[Received]) -> bool:
        return any(v == value for _i, v in updates_with(kernel, comm_id, trait))

    return predicate


def assert_quiet(kernel: KernelHarness) -> None:
    bad = problems(kernel.iopub)
    assert not bad, "error/stream messages were published:\n" + describe_messages(bad)


def assert_no_secret_on_iopub(messages: list[Received], secrets: dict[str, str]) -> None:
    """None of ``secrets`` (name -> value) appears in any IOPub message, comm or not."""
    assert all(len(value) >= 16 for value in secrets.values()), "a secret too short to find"
    for r in messages:
        text = json.dumps(r.msg, default=str)
        for name, value in secrets.items():
            assert value not in text, f"the {name} was published in a {r.msg_type} message"


def new_task(fake_search, *states: str) -> tuple[str, str]:
    """Script a new task through ``states`` (the last one stays); return (id, path)."""
    first = task_doc(state=states[0])
    task_id = first["task_id"]
    steps = [first] + [
        task_doc(task_id, state, creation_date=first["creation_date"]) for state in states[1:]
    ]
    fake_search.script(task_id, steps)
    return task_id, f"/v1/task/{task_id}"


# -- 1. the sign-in panel's code, sent as a comm message ----------------------------------


def test_sign_in_code_from_the_front_end_starts_polling(kernel, fake_search, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    grant_file = tmp_path / "grant.json"  # the mocked answer, for this process only
    pending = task_doc(state="PENDING")
    task_id, path = pending["task_id"], f"/v1/task/{pending['task_id']}"
    fake_search.put_task(pending)

    # Every secret is made inside the kernel (the id_token must be signed by the kernel's
    # mock key) and reaches this process through a file, never through IOPub, so that
    # finding one on IOPub below is a leak.
    setup = kernel.execute(
        "import json, os, sys\n"
        f"sys.path.insert(0, {str(TESTS_DIR)!r})\n"
        f"os.environ['HOME'] = {str(home)!r}\n"
        + IMPORTS
        + "from globus_auth import CLIENT_ID, code_grant_response, fake_token, mocked_auth\n"
        "_mocked = mocked_auth()\n"
        "auth_mock = _mocked.__enter__()\n"
        "_grant = code_grant_response(fake_token('search'), fake_token('refresh'))\n"
        "auth_mock.answer_token_request(_grant)\n"
        f"with open({str(grant_file)!r}, 'w') as _f:\n"
        "    json.dump(_grant, _f)\n"
        "del _grant, _f\n"
        "app = stw.login_app(CLIENT_ID)\n"
        f"w = stw.TaskWidget({task_id!r}, auth=app, base_url={fake_search.base_url!r}, "
        "poll_interval=0.2)\n"
        "display(w)\n"
    )
    comm_id = displayed_model_id(setup)
    grant = json.loads(grant_file.read_text())
    search = grant["other_tokens"][0]
    secrets = {
        "Search access token": search["access_token"],
        "Search refresh token": search["refresh_token"],
        "Auth access token": grant["access_token"],
        "Auth refresh token": grant["refresh_token"],
        "id_token": grant["id_token"],
    }
    code = f"code-{uuid.uuid4().hex}"
    fake_search.require_bearer = search["access_token"]

    # Before the code: the panel shows the link and code box, and nothing is polled.
    before = merged_state(kernel.iopub, comm_id)
    assert before["sign_in"] == "code", before
    assert before["sign_in_url"].startswith("https://auth.globus.org/v2/oauth2/authorize?")
    assert before["polling"] is False
    assert before["state"] == ""
    assert fake_search.requests_for(path) == []

    sent_at = time.monotonic()
    handled = kernel.send_comm_msg(
        comm_id, {"method": "custom", "content": {"event": "sign-in-code", "code": code}}
    )
    # The task ends only once the kernel is idle again, so SUCCESS can only come from the
    # poller thread, unprompted (no request of this process is being handled).
    polled = len(fake_search.requests_for(path))
    kernel.collect_until(
        lambda _new: len(fake_search.requests_for(path)) >= polled + 2, 10, "polls after idle"
    )
    fake_search.put_task(task_doc(task_id, "SUCCESS", creation_date=pending["creation_date"]))
    kernel.collect_until(saw(kernel, comm_id, "state", "SUCCESS"), 20, "update to SUCCESS")

    # The kernel answered the code message itself: "busy" while checking, then "".
    sign_ins = [(i, v) for i, v in updates_with(kernel, comm_id, "sign_in") if i > setup.ended]
    assert [v for _i, v in sign_ins] == ["busy", ""], sign_ins
    assert all(handled.started < i < handled.ended for i, _v in sign_ins), handled.describe()

    # The states came from the poller thread: none before the code, and SUCCESS after the
    # code's idle status while the kernel handled no request at all (no status message
    # between that idle and SUCCESS: nothing was executed meanwhile).
    states = updates_with(kernel, comm_id, "state")
    assert all(i > handled.started for i, _v in states), states
    assert distinct_in_order(v for _i, v in states) == ["PENDING", "SUCCESS"], states
    success_at = next(i for i, v in states if v == "SUCCESS")
    assert success_at > handled.ended, (success_at, handled.ended)
    between = kernel.iopub[handled.ended + 1 : success_at]
    busy = [r for r in between if r.msg_type == "status"]
    assert busy == [], describe_messages(between)

    kernel.execute(JOIN_POLLER)
    final = merged_state(kernel.iopub, comm_id)
    assert (final["state"], final["trouble"], final["error"]) == ("SUCCESS", "", ""), final
    assert (final["sign_in"], final["sign_in_url"], final["sign_in_message"]) == ("", "", "")

    # The service saw the Search token, and only after the sign-in.
    polls = fake_search.requests_for(path)
    assert len(polls) >= 3, polls
    assert all(r.at > sent_at for r in polls)
    assert {r.headers.get("authorization") for r in polls} == {f"Bearer {search['access_token']}"}

    # globus-sdk stored the tokens, readable by the owner only.
    stored = list(home.glob(".globus/app/*/search-task-widget/*.json"))
    assert len(stored) == 1, list(home.rglob("*"))
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600, oct(stored[0].stat().st_mode)
    assert search["access_token"] in stored[0].read_text()

    # No secret, nor the code, in anything the kernel published: comm messages, displays,
    # outputs. (Checked before the cell below, whose code quotes the code.)
    assert_no_secret_on_iopub(kernel.iopub, {**secrets, "sign-in code": code})
    assert_quiet(kernel)

    # One exchange, of this very code (read in the kernel; only a bool comes back).
    exchanged = kernel.run_and_echo(
        "_posted = auth_mock.token_requests()\n"
        f"[(r['grant_type'], r['code'] == {code!r}) for r in _posted]"
    )
    assert exchanged == "[('authorization_code', True)]", exchanged
    kernel.execute("w.close()\n_mocked.__exit__(None, None, None)")
    assert_no_secret_on_iopub(kernel.iopub, secrets)


# -- 2. JupyterHub's tokens in $GLOBUS_DATA -----------------------------------------------


def hub_auth_state(search_token: str) -> dict[str, Any]:
    """An auth_state as oauthenticator's GlobusOAuthenticator keeps it."""

    def entry(resource_server: str, scope: str, token: str) -> dict[str, Any]:
        return {
            "access_token": token,
            "refresh_token": fake_token("hub-refresh"),
            "scope": scope,
            "expires_at": int(time.time()) + 172800,
            "resource_server": resource_server,
            "token_type": "Bearer",
        }

    return {
        "client_id": str(uuid.uuid4()),
        "tokens": {
            "auth.globus.org": entry("auth.globus.org", "openid profile", fake_token("hub-auth")),
            "transfer.api.globus.org": entry(
                "transfer.api.globus.org",
                "urn:globus:auth:scope:transfer.api.globus.org:all",
                fake_token("hub-transfer"),
            ),
            "search.api.globus.org": entry(
                "search.api.globus.org",
                "urn:globus:auth:scope:search.api.globus.org:ingest",
                search_token,
            ),
        },
    }


def test_hub_tokens_in_globus_data_are_used(fake_search):
    token = fake_token("hub-search")
    auth_state = hub_auth_state(token)
    globus_data = base64.b64encode(pickle.dumps(auth_state)).decode()
    secrets = {
        f"{server} {kind}": entry[kind]
        for server, entry in auth_state["tokens"].items()
        for kind in ("access_token", "refresh_token")
    }
    task_id, path = new_task(fake_search, "PENDING", "SUCCESS")
    fake_search.require_bearer = token

    with running_kernel(sys.executable, env={"GLOBUS_DATA": globus_data}) as kernel:
        cell = kernel.execute(
            IMPORTS + f"w = stw.TaskWidget({task_id!r}, base_url={fake_search.base_url!r}, "
            "poll_interval=0.2)\ndisplay(w)\n"
        )
        comm_id = displayed_model_id(cell)
        kernel.collect_until(saw(kernel, comm_id, "state", "SUCCESS"), 20, "update to SUCCESS")
        kernel.execute(JOIN_POLLER)
        final = merged_state(kernel.iopub, comm_id)
        assert (final["state"], final["trouble"], final["sign_in"]) == ("SUCCESS", "", ""), final
        polls = fake_search.requests_for(path)
        assert len(polls) >= 2, polls
        assert {r.headers.get("authorization") for r in polls} == {f"Bearer {token}"}
        assert_no_secret_on_iopub(kernel.iopub, secrets)
        assert_quiet(kernel)
        kernel.execute("w.close()")


# -- 3. a static token that expires mid-session -------------------------------------------


def test_expired_token_stops_and_set_auth_resumes(kernel, fake_search):
    token_a, token_b = fake_token("token-a"), fake_token("token-b")
    pending = task_doc(state="PENDING")
    task_id = pending["task_id"]
    path = f"/v1/task/{task_id}"
    fake_search.put_task(pending)
    fake_search.require_bearer = token_a

    cell = kernel.execute(
        IMPORTS + f"w = stw.TaskWidget({task_id!r}, auth={token_a!r}, "
        f"base_url={fake_search.base_url!r}, poll_interval=0.2)\ndisplay(w)\n"
    )
    comm_id = displayed_model_id(cell)
    kernel.collect_until(saw(kernel, comm_id, "state", "PENDING"), 10, "update to PENDING")
    pending_times = [v for _i, v in updates_with(kernel, comm_id, "stage_times")]
    observed = pending_times[-1]["PENDING"]
    # A second accepted poll, so the token did work for a while.
    kernel.collect_until(
        lambda _new: len(fake_search.requests_for(path)) >= 2, 10, "a second poll with A"
    )

    expired_from = len(fake_search.requests_for(path))
    fake_search.require_bearer = token_b  # A is refused from now on
    kernel.collect_until(saw(kernel, comm_id, "trouble", "fatal"), 10, "the fatal 401")
    kernel.execute(JOIN_POLLER)  # the poller stops: nothing left to watch

    stopped = merged_state(kernel.iopub, comm_id)
    assert stopped["trouble"] == "fatal", stopped
    assert stopped["polling"] is False
    assert "refused" in stopped["error"], stopped["error"]
    assert "expired" in stopped["error"], stopped["error"]
    assert stopped["sign_in"] == "unavailable", stopped  # no client id configured
    assert "set_auth" in stopped["sign_in_message"], stopped["sign_in_message"]
    assert stopped["state"] == "PENDING"
    assert stopped["stage_times"] == {"PENDING": observed}, stopped["stage_times"]
    refused = fake_search.requests_for(path)[expired_from:]
    assert len(refused) == 1, refused  # a static token cannot be renewed: no retry
    assert refused[0].headers.get("authorization") == f"Bearer {token_a}"

    # The task ended meanwhile; fresh credentials resume polling where it stopped.
    fake_search.put_task(task_doc(task_id, "SUCCESS", creation_date=pending["creation_date"]))
    resumed_from = len(fake_search.requests_for(path))
    kernel.execute(f"w.set_auth({token_b!r})")
    kernel.collect_until(saw(kernel, comm_id, "state", "SUCCESS"), 10, "update to SUCCESS")
    kernel.execute(JOIN_POLLER)

    final = merged_state(kernel.iopub, comm_id)
    assert (final["state"], final["trouble"], final["error"]) == ("SUCCESS", "", ""), final
    assert (final["sign_in"], final["sign_in_message"], final["polling"]) == ("", "", False)
    assert final["stage_times"]["PENDING"] == observed, final["stage_times"]
    assert final["stage_times"]["SUCCESS"] >= observed, final["stage_times"]
    after = fake_search.requests_for(path)[resumed_from:]
    assert after, "no poll after set_auth"
    assert {r.headers.get("authorization") for r in after} == {f"Bearer {token_b}"}
    assert_quiet(kernel)
    kernel.execute("w.close()")


@pytest.mark.parametrize(
    "last_line",
    [
        "stw.sign_in()",
        "stw.demo('success', speed=50)",
    ],
)
def test_a_helper_as_the_cells_last_line_shows_one_view(kernel, last_line):
    """``stw.sign_in()`` / ``stw.watch()`` display the widget and return it: the returned
    widget, as the cell's result, must not add a second view."""
    kernel.execute("import search_task_widget as stw")
    cell = kernel.execute(last_line)
    views = [  # a task widget's live view comes in an update of its display (shown_view)
        r
        for r in cell.of_type("display_data", "execute_result", "update_display_data")
        if WIDGET_VIEW_MIME in r.content.get("data", {})
    ]
    assert len(views) == 1, cell.describe()
    assert not cell.of_type("execute_result"), cell.describe()
    # Not as the last line's value (assigned), it still shows once.
    cell = kernel.execute(f"shown = {last_line}")
    assert len(cell.of_type("display_data")) == 1, cell.describe()
