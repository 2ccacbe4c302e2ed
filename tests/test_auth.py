"""Every form of ``auth=``, the order of ``auth=None``, JupyterHub's ``GLOBUS_DATA``, the
notebook sign-in, refresh and expiry: against the loopback fake Search service, with
Globus Auth mocked through ``globus_sdk.testing`` (see ``globus_auth.py``)."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import stat
import uuid
from pathlib import Path

import globus_sdk
import pytest
from fake_search import task_doc
from globus_auth import (
    CLIENT_ID,
    code_grant_response,
    fake_token,
    globus_data,
    mocked_auth,
    refresh_grant_response,
    store_sign_in,
)
from globus_sdk.scopes import SearchScopes
from globus_sdk.token_storage.validating_token_storage import MissingTokenError

import search_task_widget as stw
from search_task_widget._service.auth import resolve_auth
from search_task_widget._service.hub import hub_search_token

AUTHORIZE_URL = "https://auth.globus.org/v2/oauth2/authorize?"


pytestmark = pytest.mark.usefixtures("no_machine_credentials")


def token_file(home: Path) -> Path:
    return home / ".globus" / "app" / CLIENT_ID / "search-task-widget" / "tokens.json"


def finished_task(fake_search) -> str:
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "SUCCESS", completion_date="2026-11-28T10:00:05.000001"))
    return task_id


def bearers(fake_search) -> list[str | None]:
    return [r.headers.get("authorization") for r in fake_search.requests]


# -- each form of auth= ---------------------------------------------------------------


@pytest.mark.parametrize("form", ["token string", "GlobusAuthorizer"])
def test_a_token_or_an_authorizer(fake_search, poller, form):
    token = fake_token("search")
    fake_search.require_bearer = token
    auth = token if form == "token string" else globus_sdk.AccessTokenAuthorizer(token)
    widget = stw.TaskWidget(
        finished_task(fake_search), auth=auth, base_url=fake_search.base_url, poller=poller
    )
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search) == [f"Bearer {token}"]
    widget.close()


def test_a_search_client_lends_its_authorizer_and_its_service(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    client = globus_sdk.SearchClient(
        base_url=fake_search.base_url, authorizer=globus_sdk.AccessTokenAuthorizer(token)
    )
    # No base_url: the client's is used, so watch(sc.ingest(...), auth=sc) just works.
    widget = stw.TaskWidget(finished_task(fake_search), auth=client, poller=poller)
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search) == [f"Bearer {token}"]
    widget.close()


def test_watch_an_ingest_reply_with_the_search_client(fake_search, poller, monkeypatch):
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    token = fake_token("search")
    fake_search.require_bearer = token
    client = globus_sdk.SearchClient(
        base_url=fake_search.base_url, authorizer=globus_sdk.AccessTokenAuthorizer(token)
    )
    reply = {"acknowledged": True, "task_id": finished_task(fake_search)}
    widget = stw.watch(reply, auth=client, poller=poller)
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    widget.close()


def test_a_search_client_with_an_app_that_holds_tokens(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    app = memory_app()
    with mocked_auth() as auth:
        store_sign_in(app, auth, token)
        client = globus_sdk.SearchClient(
            app=app, app_scopes=[SearchScopes.ingest], base_url=fake_search.base_url
        )
        widget = stw.TaskWidget(finished_task(fake_search), auth=client, poller=poller)
        assert widget.sign_in == ""
        assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search) == [f"Bearer {token}"]
    widget.close()


def test_a_user_app_gets_the_ingest_scope_added(fake_search, poller):
    app = memory_app(scopes={})
    widget = stw.TaskWidget(
        str(uuid.uuid4()), auth=app, base_url=fake_search.base_url, poller=poller
    )
    required = [str(s) for s in app.scope_requirements["search.api.globus.org"]]
    assert required == [str(SearchScopes.ingest)]
    # Not signed in yet: the panel asks, nothing is polled, wait() says so at once.
    assert widget.sign_in == "code"
    assert widget.sign_in_url.startswith(AUTHORIZE_URL)
    assert "client_id=" + CLIENT_ID in widget.sign_in_url
    assert "code_challenge=" in widget.sign_in_url
    assert "search.api.globus.org%3Aingest" in widget.sign_in_url
    with pytest.raises(stw.SignInRequiredError, match="Sign in with Globus"):
        widget.wait(timeout=10)
    assert fake_search.requests == []
    assert widget.polling is False
    widget.close()


def test_an_app_that_already_asks_for_all_gets_nothing_added(fake_search, poller):
    app = memory_app(scopes={"search.api.globus.org": [SearchScopes.all]})
    widget = stw.TaskWidget(
        str(uuid.uuid4()), auth=app, base_url=fake_search.base_url, poller=poller, start=False
    )
    required = [str(s) for s in app.scope_requirements["search.api.globus.org"]]
    assert required == [str(SearchScopes.all)]
    widget.close()


def test_a_client_app_needs_no_person(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    secret = fake_token("client-secret")
    with mocked_auth() as auth:
        auth.answer_token_request(refresh_grant_response(token))
        app = globus_sdk.ClientApp(
            "gateway",
            client_id=CLIENT_ID,
            client_secret=secret,
            config=globus_sdk.GlobusAppConfig(token_storage="memory"),
        )
        widget = stw.TaskWidget(
            finished_task(fake_search), auth=app, base_url=fake_search.base_url, poller=poller
        )
        assert widget.sign_in == ""
        assert widget.wait(timeout=10)["state"] == "SUCCESS"
        grants = [body["grant_type"] for body in auth.token_requests()]
    assert grants == ["client_credentials"]
    assert bearers(fake_search) == [f"Bearer {token}"]
    assert secret not in repr(widget) + json.dumps(widget.get_state(), default=str)
    widget.close()


@pytest.mark.parametrize("auth", [42, b"bytes-token", {"token": "x"}, object()])
def test_anything_else_is_a_type_error_listing_what_is_accepted(auth):
    with pytest.raises(TypeError) as caught:
        stw.TaskWidget(str(uuid.uuid4()), auth=auth, start=False)
    for accepted in ("SearchClient", "GlobusApp", "GlobusAuthorizer", "access token", "None"):
        assert accepted in str(caught.value)


def test_an_empty_token_is_refused():
    with pytest.raises(ValueError, match="empty"):
        stw.TaskWidget(str(uuid.uuid4()), auth="  ", start=False)


@pytest.mark.parametrize("form", ["token", "search client", "app"])
def test_no_token_over_plain_http_to_another_host(form):
    token = fake_token("search")
    url = "http://search.example.org/"
    auth: object = {
        "token": token,
        "search client": globus_sdk.SearchClient(
            base_url=url, authorizer=globus_sdk.AccessTokenAuthorizer(token)
        ),
        "app": None,
    }[form]
    if form == "app":
        with mocked_auth() as mock:
            app = memory_app()
            store_sign_in(app, mock, token)
        auth = app
    kwargs = {} if form == "search client" else {"base_url": url}
    with pytest.raises(ValueError, match="refusing to send a token over plain http") as caught:
        stw.TaskWidget(str(uuid.uuid4()), auth=auth, start=False, **kwargs)
    assert token not in str(caught.value)


# -- auth=None: the order ---------------------------------------------------------------


def test_order_env_token_first(monkeypatch):
    env_token, hub_token = fake_token("env"), fake_token("hub")
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", env_token)
    monkeypatch.setenv("GLOBUS_DATA", globus_data(hub_token))
    credentials = resolve_auth(None)
    assert credentials.authorizer.get_authorization_header() == f"Bearer {env_token}"
    assert "SEARCH_TASK_WIDGET_TOKEN" in credentials.source


def test_order_hub_token_second(monkeypatch):
    hub_token = fake_token("hub")
    monkeypatch.setenv("GLOBUS_DATA", globus_data(hub_token))
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    credentials = resolve_auth(None)
    assert credentials.authorizer.get_authorization_header() == f"Bearer {hub_token}"
    assert "GLOBUS_DATA" in credentials.source
    # A client id is configured, so an expired hub token can be replaced by a sign-in.
    assert credentials.login is not None


def test_order_stored_sign_in_third(monkeypatch, tmp_path):
    monkeypatch.setenv("GLOBUS_DATA", globus_data(None))  # a hub without a Search scope
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    token = fake_token("search")
    with mocked_auth() as auth:
        store_sign_in(stw.login_app(), auth, token)
    assert token_file(tmp_path).is_file()
    credentials = resolve_auth(None)
    assert credentials.authorizer.get_authorization_header() == f"Bearer {token}"
    assert credentials.source == "notebook sign-in"


def test_order_sign_in_panel_last(monkeypatch):
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    credentials = resolve_auth(None)
    assert credentials.needs_sign_in
    assert credentials.authorizer is None
    assert credentials.login is not None


def test_nothing_configured_says_what_to_do(fake_search, poller):
    widget = stw.TaskWidget(
        str(uuid.uuid4()), base_url="https://search.example.org/", poller=poller
    )
    assert widget.sign_in == "unavailable"
    for hint in ("SEARCH_TASK_WIDGET_TOKEN", "SEARCH_TASK_WIDGET_CLIENT_ID", "auth="):
        assert hint in widget.sign_in_message
    with pytest.raises(stw.SignInRequiredError, match="SEARCH_TASK_WIDGET_CLIENT_ID"):
        widget.wait(timeout=5)
    with pytest.raises(stw.SignInRequiredError):
        widget.start_sign_in()
    widget.close()


def test_a_loopback_service_needs_no_token_even_with_a_client_id(fake_search, poller, monkeypatch):
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    widget = stw.TaskWidget(
        finished_task(fake_search), base_url=fake_search.base_url, poller=poller
    )
    assert widget.sign_in == ""
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search) == [None]
    widget.close()


# -- GLOBUS_DATA --------------------------------------------------------------------------


def test_globus_data_with_a_search_token():
    token = fake_token("hub")
    assert hub_search_token({"GLOBUS_DATA": globus_data(token)}) == token


def test_globus_data_without_a_search_token(caplog):
    caplog.set_level(logging.DEBUG)
    assert hub_search_token({"GLOBUS_DATA": globus_data(None)}) is None
    assert "Search scope" in caplog.text


@pytest.mark.parametrize(
    "value",
    [
        "not base64 at all!!",
        base64.b64encode(b"not a pickle").decode(),
        base64.b64encode(pickle.dumps(["a", "list"])).decode(),
        base64.b64encode(pickle.dumps({"tokens": {"search.api.globus.org": "flat"}})).decode(),
        "",
    ],
)
def test_unreadable_globus_data_is_ignored_without_quoting_it(value, caplog):
    caplog.set_level(logging.DEBUG)
    assert hub_search_token({"GLOBUS_DATA": value}) is None
    if value:
        assert value not in caplog.text


def test_a_widget_on_a_hub_polls_with_the_hub_token(fake_search, poller, monkeypatch):
    token = fake_token("hub")
    fake_search.require_bearer = token
    monkeypatch.setenv("GLOBUS_DATA", globus_data(token))
    widget = stw.TaskWidget(
        finished_task(fake_search), base_url=fake_search.base_url, poller=poller
    )
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search) == [f"Bearer {token}"]
    widget.close()


# -- the notebook sign-in ---------------------------------------------------------------


def test_notebook_sign_in_end_to_end(fake_search, poller, tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    token, refresh = fake_token("search"), fake_token("refresh")
    fake_search.require_bearer = token
    task_id = finished_task(fake_search)
    with mocked_auth() as auth:
        # The widget asks (no token stored yet) and polls nothing meanwhile.
        app = stw.login_app()
        widget = stw.TaskWidget(task_id, auth=app, base_url=fake_search.base_url, poller=poller)
        assert (widget.sign_in, widget.polling) == ("code", False)
        url = widget.sign_in_url
        assert widget.start_sign_in() == url  # the same flow until it is used
        assert "redirect_uri=https%3A%2F%2Fauth.globus.org%2Fv2%2Fweb%2Fauth-code" in url
        assert "access_type=offline" in url  # refresh tokens: a session outlives 2 h

        auth.answer_token_request(code_grant_response(token, refresh))
        widget.finish_sign_in("  the-code  ")
        exchange = auth.token_requests()[-1]
        assert exchange["grant_type"] == "authorization_code"
        assert exchange["code"] == "the-code"
        assert exchange["code_verifier"]  # PKCE: the verifier never left the kernel before
        assert (widget.sign_in, widget.sign_in_url, widget.sign_in_message) == ("", "", "")
        assert widget.wait(timeout=10)["state"] == "SUCCESS"

    assert bearers(fake_search) == [f"Bearer {token}"]
    stored = token_file(tmp_path)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert refresh in stored.read_text()
    # The next widget (even in a new kernel: nothing cached in memory) needs no sign-in.
    monkeypatch.setattr("search_task_widget._service.login._default_apps", {})
    second = stw.TaskWidget(
        task_id, auth=stw.login_app(), base_url=fake_search.base_url, poller=poller
    )
    assert second.sign_in == ""
    assert second.wait(timeout=10)["state"] == "SUCCESS"
    for w in (widget, second):
        w.close()


def test_one_code_signs_in_every_waiting_widget(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    app = stw.login_app(CLIENT_ID)
    url = fake_search.base_url
    widgets = [
        stw.TaskWidget(finished_task(fake_search), auth=app, base_url=url, poller=poller)
        for _ in range(2)
    ]
    listing = stw.TaskListWidget(
        [finished_task(fake_search)], auth=app, base_url=fake_search.base_url, poller=poller
    )
    assert {w.sign_in_url for w in [*widgets, listing]} == {widgets[0].sign_in_url}
    with mocked_auth() as auth:
        auth.answer_token_request(code_grant_response(token, fake_token("refresh")))
        widgets[1].finish_sign_in("code")
    assert [w.wait(timeout=10)["state"] for w in widgets] == ["SUCCESS", "SUCCESS"]
    assert [d["state"] for d in listing.wait(timeout=10)] == ["SUCCESS"]
    assert listing.sign_in == ""
    for w in [*widgets, listing]:
        w.close()


def test_a_refused_code_offers_a_fresh_link(fake_search, poller):
    widget = stw.TaskWidget(
        str(uuid.uuid4()), auth=stw.login_app(CLIENT_ID), base_url=fake_search.base_url,
        poller=poller,
    )  # fmt: skip
    first_url = widget.sign_in_url
    with mocked_auth() as auth:
        auth.answer_token_request({"error": "invalid_grant"}, status=401)
        with pytest.raises(stw.SignInRequiredError, match="refused the code"):
            widget.finish_sign_in("stale-code")
    assert widget.sign_in == "code"
    assert widget.sign_in_url.startswith(AUTHORIZE_URL)
    assert widget.sign_in_url != first_url
    assert "refused the code" in widget.sign_in_message
    with pytest.raises(stw.SignInRequiredError, match="paste the code"):
        widget.finish_sign_in("   ")
    assert fake_search.requests == []
    widget.close()


def test_the_front_end_messages_drive_the_sign_in(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    widget = stw.TaskWidget(
        finished_task(fake_search), auth=stw.login_app(CLIENT_ID),
        base_url=fake_search.base_url, poller=poller,
    )  # fmt: skip
    handle = widget._on_front_end_message  # what ipywidgets calls for model.send(...)
    handle(widget, {"event": "sign-in-code", "code": ""}, [])
    assert "paste the code" in widget.sign_in_message
    with mocked_auth() as auth:
        auth.answer_token_request(code_grant_response(token, fake_token("refresh")))
        handle(widget, {"event": "sign-in-code", "code": "abc"}, [])
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    handle(widget, "not a dict", [])
    handle(widget, {"event": "unknown"}, [])
    assert widget.sign_in == ""
    widget.close()


# -- expiry and refresh -------------------------------------------------------------------


def test_401_refreshes_a_refresh_token_authorizer_and_retries_once(fake_search, poller):
    old, new, refresh = fake_token("old"), fake_token("new"), fake_token("refresh")
    fake_search.require_bearer = new
    with mocked_auth() as auth:
        auth.answer_token_request(refresh_grant_response(new))
        authorizer = globus_sdk.RefreshTokenAuthorizer(
            refresh,
            globus_sdk.NativeAppAuthClient(client_id=CLIENT_ID),
            access_token=old,
            expires_at=2_000_000_000,  # far ahead: only the 401 can make it refresh
        )
        widget = stw.TaskWidget(
            finished_task(fake_search), auth=authorizer, base_url=fake_search.base_url,
            poller=poller,
        )  # fmt: skip
        assert widget.wait(timeout=10)["state"] == "SUCCESS"
        grants = auth.token_requests()
    assert [g["grant_type"] for g in grants] == ["refresh_token"]
    assert grants[0]["refresh_token"] == refresh
    assert bearers(fake_search) == [f"Bearer {old}", f"Bearer {new}"]
    widget.close()


def test_a_refresh_that_fails_asks_to_sign_in_again(fake_search, poller, caplog):
    caplog.set_level(logging.DEBUG)
    refresh = fake_token("refresh")
    fake_search.require_bearer = fake_token("other")
    with mocked_auth() as auth:
        auth.answer_token_request({"error": "invalid_grant"}, status=400)
        authorizer = globus_sdk.RefreshTokenAuthorizer(
            refresh, globus_sdk.NativeAppAuthClient(client_id=CLIENT_ID),
            access_token=fake_token("old"), expires_at=2_000_000_000,
        )  # fmt: skip
        widget = stw.TaskWidget(
            str(uuid.uuid4()), auth=authorizer, base_url=fake_search.base_url, poller=poller
        )
        with pytest.raises(stw.TaskAPIError) as caught:
            widget.wait(timeout=10)
    assert caught.value.http_status == 401
    assert "could not be renewed" in widget.error
    assert widget.sign_in == "unavailable"  # no client id: the message says what to do
    assert refresh not in widget.error + str(caught.value) + caplog.text
    widget.close()


def test_an_expired_static_token_stops_then_resumes_keeping_timings(fake_search, poller):
    first, fresh = fake_token("first"), fake_token("fresh")
    fake_search.require_bearer = first
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PENDING"))
    widget = stw.TaskWidget(
        task_id, auth=first, base_url=fake_search.base_url, poller=poller, poll_interval=0.05
    )
    wait_for(lambda: widget.state == "PENDING")
    pending_seen = widget.stage_times["PENDING"]

    fake_search.require_bearer = fresh  # the hub token expired mid-session
    with pytest.raises(stw.TaskAPIError) as caught:
        widget.wait(timeout=10)
    assert caught.value.http_status == 401
    assert "expired or were revoked" in str(caught.value)
    assert "set_auth" in str(caught.value)  # what to do
    assert (widget.trouble, widget.sign_in) == ("fatal", "unavailable")
    assert "the access token passed as auth=" in widget.sign_in_message

    fake_search.put_task(task_doc(task_id, "SUCCESS", completion_date="2026-11-28T10:00:05"))
    widget.set_auth(fresh)
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert widget.stage_times["PENDING"] == pending_seen
    assert (widget.sign_in, widget.error, widget.trouble) == ("", "", "")
    widget.close()


def test_an_expired_hub_token_is_replaced_by_a_sign_in(fake_search, poller, monkeypatch):
    hub, signed_in = fake_token("hub"), fake_token("signed-in")
    monkeypatch.setenv("GLOBUS_DATA", globus_data(hub))
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    fake_search.require_bearer = signed_in  # the hub's token is already refused
    task_id = finished_task(fake_search)
    widget = stw.TaskWidget(task_id, base_url=fake_search.base_url, poller=poller)
    with pytest.raises(stw.TaskAPIError):
        widget.wait(timeout=10)
    assert widget.sign_in == "offer"
    assert "JupyterHub" in widget.sign_in_message
    widget._on_front_end_message(widget, {"event": "sign-in"}, [])  # "Sign in again"
    assert widget.sign_in == "code"
    assert widget.sign_in_url.startswith(AUTHORIZE_URL)
    with mocked_auth() as auth:
        auth.answer_token_request(code_grant_response(signed_in, fake_token("refresh")))
        widget.finish_sign_in("code")
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search) == [f"Bearer {hub}", f"Bearer {signed_in}"]
    widget.close()


def test_a_list_with_an_expired_token_resumes_after_set_auth(fake_search, poller):
    stale, fresh = fake_token("stale"), fake_token("fresh")
    fake_search.require_bearer = fresh
    ids = [finished_task(fake_search) for _ in range(3)]
    listing = stw.TaskListWidget(ids, auth=stale, base_url=fake_search.base_url, poller=poller)
    with pytest.raises(stw.TaskListError) as caught:
        listing.wait(timeout=10)
    assert caught.value.http_status == 401
    assert "set_auth" in str(caught.value)  # says what to do
    assert listing.sign_in == "unavailable"
    assert "expired" in listing.sign_in_message
    listing.set_auth(fresh)
    assert [d["state"] for d in listing.wait(timeout=10)] == ["SUCCESS"] * 3
    listing.close()


def test_the_poller_thread_never_starts_a_login(fake_search, poller):
    """An app whose tokens are gone must not run its login flow from get_authorizer."""
    calls = []

    class Refuse(globus_sdk.login_flows.LoginFlowManager):
        def run_login_flow(self, auth_parameters):
            calls.append(auth_parameters)
            raise AssertionError("a login flow was started")

    app = globus_sdk.UserApp(
        "refusing", client_id=CLIENT_ID,
        config=globus_sdk.GlobusAppConfig(
            token_storage="memory",
            login_flow_manager=Refuse(globus_sdk.NativeAppAuthClient(client_id=CLIENT_ID)),
        ),
    )  # fmt: skip
    widget = stw.TaskWidget(
        str(uuid.uuid4()), auth=app, base_url=fake_search.base_url, poller=poller
    )
    assert widget.sign_in == "code"  # the notebook sign-in instead of the app's own flow
    assert calls == []
    widget.close()


# -- helpers ------------------------------------------------------------------------------


def memory_app(scopes: dict | None = None) -> globus_sdk.UserApp:
    return globus_sdk.UserApp(
        "memory-app",
        client_id=CLIENT_ID,
        scope_requirements=scopes,
        config=globus_sdk.GlobusAppConfig(
            token_storage="memory", token_validation_error_handler=None
        ),
    )


def wait_for(condition, timeout: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_for_index_waits_for_the_sign_in_then_lists(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    index_id = str(uuid.uuid4())
    ids = [str(uuid.uuid4()) for _ in range(2)]
    for task_id in ids:
        fake_search.put_task(
            task_doc(task_id, "SUCCESS", index_id=index_id, completion_date="2026-11-28T10:00:05")
        )
    listing = stw.TaskListWidget.for_index(
        index_id, auth=stw.login_app(CLIENT_ID), base_url=fake_search.base_url, poller=poller
    )
    assert (listing.sign_in, listing.total) == ("code", 0)
    assert "sign-in needed" in repr(listing)
    assert fake_search.requests == []
    with mocked_auth() as auth:
        auth.answer_token_request(code_grant_response(token, fake_token("refresh")))
        listing.finish_sign_in("code")
    assert sorted(d["task_id"] for d in listing.wait(timeout=10)) == sorted(ids)
    assert listing.sign_in == ""
    listing.close()


def test_signing_in_again_replaces_the_apps_cached_authorizer(fake_search, poller):
    first, second = fake_token("first"), fake_token("second")
    fake_search.require_bearer = first
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PENDING"))
    app = stw.login_app(CLIENT_ID)
    with mocked_auth() as auth:
        store_sign_in(app, auth, first)
        widget = stw.TaskWidget(
            task_id, auth=app, base_url=fake_search.base_url, poller=poller, poll_interval=0.05
        )
        wait_for(lambda: widget.state == "PENDING")
        # The session is revoked: the token is refused and so is the refresh.
        fake_search.require_bearer = second
        auth.answer_token_request({"error": "invalid_grant"}, status=400)
        with pytest.raises(stw.TaskAPIError):
            widget.wait(timeout=10)
        assert widget.sign_in == "offer"
        widget.start_sign_in()
        fake_search.put_task(task_doc(task_id, "SUCCESS", completion_date="2026-11-28T10:00:05"))
        auth.answer_token_request(code_grant_response(second, fake_token("refresh")))
        widget.finish_sign_in("code")
        assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert bearers(fake_search)[-1] == f"Bearer {second}"
    widget.close()


@pytest.mark.parametrize("environment", ["preview", "sandbox"])
def test_an_apps_environment_picks_the_service(poller, environment):
    app = globus_sdk.UserApp(
        "env-app",
        client_id=CLIENT_ID,
        config=globus_sdk.GlobusAppConfig(token_storage="memory", environment=environment),
    )
    widget = stw.TaskWidget(str(uuid.uuid4()), auth=app, start=False, poller=poller)
    expected = globus_sdk.SearchClient(environment=environment).base_url
    assert widget.base_url == expected
    assert environment in widget.base_url
    explicit = stw.TaskWidget(
        str(uuid.uuid4()), auth=app, base_url="https://search.example.org/", poller=poller,
        start=False,
    )  # fmt: skip
    assert explicit.base_url == "https://search.example.org/"
    for w in (widget, explicit):
        w.close()


# -- signing in before anything is watched --------------------------------------------


def test_sign_in_first_then_ingest_with_the_same_app(fake_search, poller, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: shown.extend(args))
    monkeypatch.setattr("search_task_widget._views.display.in_ipython", lambda: True)
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    token = fake_token("search")
    fake_search.require_bearer = token
    panel = stw.sign_in()
    assert shown == [panel]
    assert (panel.signed_in, panel.sign_in, panel.source) == (False, "code", "")
    assert repr(panel) == "<SignInWidget: sign-in needed>"
    # A SearchClient on the same app cannot call Search yet, and never prompts by itself.
    client = globus_sdk.SearchClient(app=stw.login_app(), app_scopes=[SearchScopes.ingest])
    with pytest.raises(MissingTokenError):
        client.get_task(str(uuid.uuid4()))
    # A task widget created meanwhile resumes with the same sign-in.
    widget = stw.TaskWidget(
        finished_task(fake_search), auth=stw.login_app(), base_url=fake_search.base_url,
        poller=poller,
    )  # fmt: skip
    assert widget.sign_in_url == panel.sign_in_url
    with mocked_auth() as auth:
        auth.answer_token_request(code_grant_response(token, fake_token("refresh")))
        panel._on_front_end_message(panel, {"event": "sign-in-code", "code": "abc"}, [])
    assert (panel.signed_in, panel.sign_in, panel.source) == (True, "", "notebook sign-in")
    assert client.authorizer is None  # the client asks the app, which now has tokens
    assert stw.login_app().get_authorizer("search.api.globus.org").get_authorization_header() == (
        f"Bearer {token}"
    )
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    for w in (panel, widget):
        w.close()


def test_sign_in_with_usable_credentials_says_signed_in(monkeypatch):
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    monkeypatch.setenv("GLOBUS_DATA", globus_data(fake_token("hub")))
    panel = stw.sign_in()
    assert panel.signed_in
    assert panel.sign_in == ""
    assert "GLOBUS_DATA" in panel.source
    panel.close()


def test_sign_in_with_nothing_configured_says_what_to_do(monkeypatch):
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)
    panel = stw.sign_in()
    assert (panel.signed_in, panel.sign_in) == (False, "unavailable")
    assert "SEARCH_TASK_WIDGET_CLIENT_ID" in panel.sign_in_message
    with pytest.raises(TypeError):
        stw.sign_in(auth=3.5)
    panel.close()


def test_signing_in_as_another_identity_is_refused_clearly(fake_search, poller):
    app = stw.login_app(CLIENT_ID)
    with mocked_auth() as auth:
        store_sign_in(app, auth, fake_token("first"))
        widget = stw.TaskWidget(
            str(uuid.uuid4()), auth=app, base_url=fake_search.base_url, poller=poller,
            start=False,
        )  # fmt: skip
        widget.start_sign_in()
        other = code_grant_response(fake_token("other"), identity_id=str(uuid.uuid4()))
        auth.answer_token_request(other)
        with pytest.raises(stw.SignInRequiredError, match="another identity"):
            widget.finish_sign_in("code")
    assert widget.sign_in == "code"
    assert "another identity" in widget.sign_in_message
    widget.close()


def test_the_client_id_can_be_an_argument(fake_search, poller):
    token = fake_token("search")
    fake_search.require_bearer = token
    widget = stw.TaskWidget(
        finished_task(fake_search), client_id=CLIENT_ID, base_url="https://search.example.org/",
        poller=poller, start=False,
    )  # fmt: skip
    assert widget.sign_in == "code"
    assert f"client_id={CLIENT_ID}" in widget.sign_in_url
    widget.close()
    # A static token that expires can be replaced by a sign-in with that client id too.
    stale = stw.TaskListWidget(
        [finished_task(fake_search)], auth=fake_token("stale"), client_id=CLIENT_ID,
        base_url=fake_search.base_url, poller=poller,
    )  # fmt: skip
    with pytest.raises(stw.TaskListError):
        stale.wait(timeout=10)
    assert stale.sign_in == "offer"
    stale.start_sign_in()
    with mocked_auth() as auth:
        auth.answer_token_request(code_grant_response(token, fake_token("refresh")))
        stale.finish_sign_in("code")
    assert [d["state"] for d in stale.wait(timeout=10)] == ["SUCCESS"]
    stale.close()
    with pytest.raises(TypeError, match="client_id"):
        stw.TaskWidget(str(uuid.uuid4()), client_id=42, start=False)
