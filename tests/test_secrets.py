"""Secrets planted everywhere are found nowhere they could leak from.

Every credential form is used in one session (an environment token, JupyterHub's
``GLOBUS_DATA``, a notebook sign-in with a refresh token, a client secret, a sign-in code),
through success, refusal, expiry and a failed refresh; then the synced state, an HTML
export of the widgets, their reprs and texts, the errors raised and every log record at
DEBUG (this package's, httpx's and globus-sdk's) are searched for each secret.
"""

from __future__ import annotations

import json
import logging
import uuid

import globus_sdk
import pytest
from fake_search import task_doc
from globus_auth import CLIENT_ID, code_grant_response, fake_token, globus_data, mocked_auth

import search_task_widget as stw
from search_task_widget._service.auth import resolve_auth

pytestmark = pytest.mark.usefixtures("no_machine_credentials")


def test_no_secret_anywhere(fake_search, poller, monkeypatch, caplog, tmp_path):
    from ipywidgets.embed import dependency_state, embed_minimal_html

    caplog.set_level(logging.DEBUG)  # every logger, globus-sdk's and httpx's included
    secrets = {
        "env token": fake_token("env"),
        "hub token": fake_token("hub"),
        "signed-in token": fake_token("signed-in"),
        "refresh token": fake_token("refresh"),
        "client secret": fake_token("secret"),
        "code": f"code-{uuid.uuid4().hex}",
    }
    widgets: list[stw.TaskWidget | stw.TaskListWidget] = []
    raised: list[BaseException] = []
    task_id = str(uuid.uuid4())
    fake_search.put_task(task_doc(task_id, "PENDING"))
    fake_search.require_bearer = fake_token("only-this-one-works")

    def watch(**kwargs) -> stw.TaskWidget:
        widget = stw.TaskWidget(
            task_id, base_url=fake_search.base_url, poller=poller, poll_interval=0.05, **kwargs
        )
        widgets.append(widget)
        return widget

    def expect_refusal(widget) -> None:
        with pytest.raises(stw.SearchTaskError) as caught:
            widget.wait(timeout=10)
        raised.append(caught.value)

    # An environment token, then a hub token, both refused (expired).
    monkeypatch.setenv("SEARCH_TASK_WIDGET_TOKEN", secrets["env token"])
    expect_refusal(watch())
    monkeypatch.delenv("SEARCH_TASK_WIDGET_TOKEN")
    monkeypatch.setenv("GLOBUS_DATA", globus_data(secrets["hub token"]))
    expect_refusal(watch())
    listing = stw.TaskListWidget([task_id], base_url=fake_search.base_url, poller=poller)
    widgets.append(listing)
    with pytest.raises(stw.TaskListError) as caught:
        listing.wait(timeout=10)
    raised.append(caught.value)

    # A notebook sign-in (code, refresh token), then its token is refused too and the
    # refresh fails.
    monkeypatch.setenv("SEARCH_TASK_WIDGET_CLIENT_ID", CLIENT_ID)
    with mocked_auth() as auth:
        signed_in = watch(auth=stw.login_app())
        fake_search.require_bearer = secrets["signed-in token"]
        auth.answer_token_request(
            code_grant_response(secrets["signed-in token"], secrets["refresh token"])
        )
        signed_in._on_front_end_message(
            signed_in, {"event": "sign-in-code", "code": secrets["code"]}, []
        )
        assert signed_in.sign_in == ""
        fake_search.require_bearer = fake_token("rotated")
        auth.answer_token_request({"error": "invalid_grant"}, status=400)
        expect_refusal(signed_in)

        # A client app's secret.
        auth.answer_token_request({"error": "invalid_client"}, status=401)
        app = globus_sdk.ClientApp(
            "gateway", client_id=CLIENT_ID, client_secret=secrets["client secret"],
            config=globus_sdk.GlobusAppConfig(token_storage="memory"),
        )  # fmt: skip
        try:
            watch(auth=app)
        except Exception as error:  # globus-sdk's own refusal, if it surfaces here
            raised.append(error)

    places = {"logs": caplog.text}
    for i, widget in enumerate(widgets):
        places[f"state {i}"] = json.dumps(widget.get_state(), default=str)
        places[f"repr {i}"] = repr(widget)
        places[f"bundle {i}"] = json.dumps(widget._repr_mimebundle_(), default=str)
        places[f"describe {i}"] = widget.describe()
        if isinstance(widget, stw.TaskWidget):
            places[f"export {i}"] = widget.to_html()
    page = tmp_path / "page.html"
    embed_minimal_html(
        page, views=widgets, drop_defaults=False,
        state=dependency_state(widgets, drop_defaults=False),
    )  # fmt: skip
    places["embed_minimal_html"] = page.read_text()
    for error in raised:
        places[f"error {error!r}"] = f"{error} {error!r} {getattr(error, 'message', '')}"
    places["credentials"] = repr(resolve_auth(None))

    assert len(raised) >= 4
    for name, secret in secrets.items():
        for where, text in places.items():
            assert secret not in text, f"the {name} leaked into {where}"
    for widget in widgets:
        widget.close()
