"""The httpx client against a real HTTP server on 127.0.0.1 (the fake Search service)."""

from __future__ import annotations

import socket
import ssl
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import certifi
import pytest
from fake_search import (
    dropped,
    http_error,
    missing_fields,
    not_json,
    proxy_html,
    slow,
    task_doc,
    truncated_json,
)

from search_task_widget import TaskAPIError, TaskNetworkError, TaskResponseError
from search_task_widget._service.client import (
    TaskClient,
    _ssl_context,
    _verify_from_environment,
    resolve_base_url,
)
from search_task_widget.simulator.loopback import Response

SECRET = "AgSecretTokenValueThatMustNeverLeak0123456789"


class CountingAuthorizer:
    """A renewing authorizer: hands out token-1, then token-2 after a 401."""

    def __init__(self, renews: bool = True) -> None:
        self.generation = 1
        self.header_calls = 0
        self.renew_calls = 0
        self.renews = renews

    def get_authorization_header(self) -> str:
        self.header_calls += 1
        return f"Bearer token-{self.generation}"

    def handle_missing_authorization(self) -> bool:
        self.renew_calls += 1
        if self.renews:
            self.generation += 1
        return self.renews


def test_get_task_parses_the_document(fake_search):
    doc = task_doc(state="PROGRESS")
    fake_search.put_task(doc)
    with TaskClient(fake_search.base_url) as client:
        task = client.get_task(doc["task_id"])
    assert task.to_document() == doc
    assert fake_search.requests[-1].path == f"/v1/task/{doc['task_id']}"
    assert "authorization" not in fake_search.requests[-1].headers


def test_authorizer_is_asked_for_a_header_on_every_request(fake_search):
    doc = task_doc()
    fake_search.put_task(doc)
    authorizer = CountingAuthorizer()
    with TaskClient(fake_search.base_url, authorizer) as client:
        client.get_task(doc["task_id"])
        client.get_task(doc["task_id"])
    assert authorizer.header_calls == 2
    assert [r.headers["authorization"] for r in fake_search.requests] == ["Bearer token-1"] * 2


def test_401_renews_once_and_retries(fake_search):
    doc = task_doc()
    fake_search.put_task(doc)
    fake_search.require_bearer = "token-2"
    authorizer = CountingAuthorizer()
    with TaskClient(fake_search.base_url, authorizer) as client:
        assert client.get_task(doc["task_id"]).task_id == doc["task_id"]
    assert authorizer.renew_calls == 1
    sent = [r.headers.get("authorization") for r in fake_search.requests]
    assert sent == ["Bearer token-1", "Bearer token-2"]


def test_401_with_a_static_token_is_fatal_and_says_sign_in(fake_search):
    doc = task_doc()
    fake_search.put_task(doc)
    fake_search.require_bearer = "another-token"
    authorizer = CountingAuthorizer(renews=False)
    with (
        TaskClient(fake_search.base_url, authorizer) as client,
        pytest.raises(TaskAPIError) as caught,
    ):
        client.get_task(doc["task_id"])
    assert caught.value.http_status == 401
    assert not caught.value.transient
    assert "Sign-in needed" in str(caught.value)
    assert len(fake_search.requests) == 1  # no retry when the authorizer cannot renew


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (400, "BadRequest", False),
        (403, "Forbidden.Generic", False),
        (404, "NotFound.Generic", False),
        (409, "Conflict", False),
        (429, "TooManyRequests", True),
        (500, "InternalError", True),
        (502, "BadGateway", True),
        (503, "ServiceUnavailable", True),
        (504, "GatewayTimeout", True),
    ],
)
def test_gerror_answers_become_api_errors(fake_search, status, code, transient):
    doc = task_doc()
    fake_search.script(doc["task_id"], [http_error(status, code, "what the service said")])
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskAPIError) as caught:
        client.get_task(doc["task_id"])
    error = caught.value
    assert (error.http_status, error.code, error.message) == (status, code, "what the service said")
    assert error.transient is transient
    assert f"HTTP {status}" in str(error)


def test_request_id_is_kept_for_support(fake_search):
    doc = task_doc()
    body = http_error(404, "NotFound.Generic", "gone", request_id="0cd6b6eee44d7b68")
    fake_search.script(doc["task_id"], [body])
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskAPIError) as caught:
        client.get_task(doc["task_id"])
    assert caught.value.request_id == "0cd6b6eee44d7b68"


def test_retry_after_seconds_and_http_date(fake_search):
    doc = task_doc()
    when = datetime.now(timezone.utc) + timedelta(seconds=40)
    fake_search.script(
        doc["task_id"],
        [
            http_error(429, retry_after=7),
            http_error(503, retry_after=format_datetime(when, usegmt=True)),
        ],
    )
    with TaskClient(fake_search.base_url) as client:
        with pytest.raises(TaskAPIError) as first:
            client.get_task(doc["task_id"])
        with pytest.raises(TaskAPIError) as second:
            client.get_task(doc["task_id"])
    assert first.value.retry_after == 7
    assert 35 <= second.value.retry_after <= 41


def test_proxy_html_page_is_a_transient_error_that_says_so(fake_search):
    doc = task_doc()
    fake_search.script(doc["task_id"], [proxy_html(502)])
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskAPIError) as caught:
        client.get_task(doc["task_id"])
    assert caught.value.http_status == 502
    assert caught.value.transient
    assert "HTML page" in caught.value.message


@pytest.mark.parametrize("fault", [not_json, truncated_json, missing_fields])
def test_unusable_200_bodies_are_transient_response_errors(fake_search, fault):
    doc = task_doc()
    fake_search.script(doc["task_id"], [fault()])
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskResponseError) as caught:
        client.get_task(doc["task_id"])
    assert caught.value.transient
    assert caught.value.http_status == 200


def test_dropped_connection_is_a_network_error(fake_search):
    doc = task_doc()
    fake_search.script(doc["task_id"], [dropped(), dropped()])
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskNetworkError) as caught:
        client.get_task(doc["task_id"])
    assert caught.value.transient
    assert caught.value.http_status is None


def test_slow_answer_times_out(fake_search):
    doc = task_doc()
    fake_search.script(doc["task_id"], [slow(2.0, doc)])
    with (
        TaskClient(fake_search.base_url, timeout=0.3) as client,
        pytest.raises(TaskNetworkError) as caught,
    ):
        client.get_task(doc["task_id"])
    assert caught.value.code == "Timeout"


def test_unreachable_service_is_a_network_error():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with (
        TaskClient(f"http://127.0.0.1:{port}/") as client,
        pytest.raises(TaskNetworkError) as caught,
    ):
        client.get_task("05c1ec1b-2400-44e2-9797-922c29199042")
    assert caught.value.transient
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_redirects_are_not_followed(fake_search):
    doc = task_doc()
    fake_search.script(
        doc["task_id"], [Response(302, b"", {"Location": "https://elsewhere.example/"})]
    )
    with (
        TaskClient(fake_search.base_url, CountingAuthorizer()) as client,
        pytest.raises(TaskAPIError) as caught,
    ):
        client.get_task(doc["task_id"])
    assert caught.value.code == "UnexpectedRedirect"
    assert len(fake_search.requests) == 1


def test_task_list_skips_malformed_entries(fake_search):
    good = task_doc(index_id="696af25c-8c24-469a-b5e0-67d3e4b71df7")
    fake_search.script_list(
        good["index_id"], [{"index_id": good["index_id"], "tasks": [good, {"state": "X"}]}]
    )
    with TaskClient(fake_search.base_url) as client:
        tasks = client.get_task_list(good["index_id"])
    assert [t.task_id for t in tasks] == [good["task_id"]]


def test_token_is_refused_over_plain_http_to_a_remote_host():
    with pytest.raises(ValueError, match="plain http"):
        TaskClient("http://search.example.org/", CountingAuthorizer())
    TaskClient("http://search.example.org/").close()  # no token: nothing to protect
    TaskClient("http://localhost:9/", CountingAuthorizer()).close()
    TaskClient("http://[::1]:9/", CountingAuthorizer()).close()


def test_no_token_in_errors_or_repr(fake_search):
    from search_task_widget._service.auth import resolve_auth

    doc = task_doc()
    fake_search.require_bearer = "the-right-one"
    fake_search.put_task(doc)
    client = TaskClient(fake_search.base_url, resolve_auth(SECRET).authorizer)
    with client, pytest.raises(TaskAPIError) as caught:
        client.get_task(doc["task_id"])
    assert fake_search.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    for text in (str(caught.value), repr(caught.value), repr(client), caught.value.message):
        assert SECRET not in text


def test_base_url_follows_globus_sdk_environment(monkeypatch):
    monkeypatch.delenv("GLOBUS_SDK_SERVICE_URL_SEARCH", raising=False)
    monkeypatch.delenv("GLOBUS_SDK_ENVIRONMENT", raising=False)
    assert resolve_base_url(None) == "https://search.api.globus.org/"
    monkeypatch.setenv("GLOBUS_SDK_ENVIRONMENT", "preview")
    assert resolve_base_url(None) == "https://search.api.preview.globus.org/"
    monkeypatch.setenv("GLOBUS_SDK_SERVICE_URL_SEARCH", "https://search.test.example/")
    assert resolve_base_url(None) == "https://search.test.example/"
    assert resolve_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/"
    with pytest.raises(ValueError, match="http"):
        resolve_base_url("ftp://search.example/")


def test_globus_sdk_http_settings_are_honoured(monkeypatch, fake_search):
    doc = task_doc()
    fake_search.script(doc["task_id"], [slow(1.0, doc)])
    monkeypatch.setenv("GLOBUS_SDK_HTTP_TIMEOUT", "0.2")
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskNetworkError) as caught:
        client.get_task(doc["task_id"])
    assert caught.value.code == "Timeout"

    monkeypatch.delenv("GLOBUS_SDK_VERIFY_SSL", raising=False)
    default = _verify_from_environment()
    assert default.verify_mode == ssl.CERT_REQUIRED
    assert default.check_hostname
    monkeypatch.setenv("GLOBUS_SDK_VERIFY_SSL", "false")
    assert _verify_from_environment().verify_mode == ssl.CERT_NONE
    monkeypatch.setenv("GLOBUS_SDK_VERIFY_SSL", certifi.where())  # a CA bundle to trust
    context = _verify_from_environment()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context is not default
    monkeypatch.delenv("GLOBUS_SDK_VERIFY_SSL")
    assert _verify_from_environment() is default  # back to the first setting's context


def test_clients_share_one_ssl_context(monkeypatch):
    built = []
    create = ssl.create_default_context

    def counting(*args, **kwargs):
        built.append(kwargs.get("cafile"))
        return create(*args, **kwargs)

    monkeypatch.delenv("GLOBUS_SDK_VERIFY_SSL", raising=False)
    monkeypatch.setattr(ssl, "create_default_context", counting)
    _ssl_context.cache_clear()  # as in a new process
    services = ["https://search.api.globus.org/", "https://search.api.preview.globus.org/"]
    clients = [TaskClient(url) for url in services * 3]
    for client in clients:
        client.close()

    assert len(built) == 1  # loading the CA bundle is what made each widget cost ~50 ms


def test_an_answer_about_another_task_is_refused(fake_search):
    asked, other = task_doc(), task_doc(state="SUCCESS")
    fake_search.script(asked["task_id"], [Response.json(other)])
    with TaskClient(fake_search.base_url) as client, pytest.raises(TaskResponseError) as caught:
        client.get_task(asked["task_id"])
    assert caught.value.code == "WrongTask"
    assert caught.value.transient
