"""Zero configuration from globus-sdk: a reply of a real ``globus_sdk.SearchClient`` carries
the client that sent it, so ``watch(sc.ingest(...))`` with no ``auth=`` polls with that
client's credentials and service URL, and with the index of the request. Real HTTP from
globus-sdk (``requests``) and from the poller (httpx) to the recording loopback fake."""

from __future__ import annotations

import globus_sdk
import pytest
from fake_search import FakeSearch
from globus_auth import fake_token

import search_task_widget as stw

pytestmark = pytest.mark.usefixtures("no_machine_credentials")

INDEX_ID = "1f1b5a51-7f8e-4c55-9a2b-0d6a1c1e2f30"
DOCUMENT = {
    "ingest_type": "GMetaEntry",
    "ingest_data": {"subject": "https://example.org/a", "visible_to": ["public"], "content": {}},
}


@pytest.fixture(autouse=True)
def no_display(monkeypatch):
    monkeypatch.setattr("IPython.display.display", lambda *args, **kwargs: None)


@pytest.fixture
def token(fake_search) -> str:
    value = fake_token("search")
    fake_search.require_bearer = value  # a request without it gets a 401
    return value


def search_client(service: FakeSearch, token: str) -> globus_sdk.SearchClient:
    return globus_sdk.SearchClient(
        base_url=service.base_url, authorizer=globus_sdk.AccessTokenAuthorizer(token)
    )


def polls(service: FakeSearch) -> list[tuple[str, str | None]]:
    """(path, Authorization) of every GET the poller sent."""
    return [(r.path, r.headers.get("authorization")) for r in service.requests if r.method == "GET"]


def test_watch_an_ingest_reply_with_no_auth_polls_as_its_client(fake_search, token, poller):
    sc = search_client(fake_search, token)
    widget = stw.watch(sc.ingest(INDEX_ID, DOCUMENT), poller=poller)
    assert widget.index_id == INDEX_ID  # from the request URL, before any check
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    # The client's service (not production) and its token.
    assert widget.base_url == fake_search.base_url
    assert polls(fake_search)
    assert {bearer for _path, bearer in polls(fake_search)} == {f"Bearer {token}"}
    widget.close()


def test_a_task_widget_and_a_get_task_reply_work_the_same(fake_search, token, poller):
    sc = search_client(fake_search, token)
    task_id = sc.ingest(INDEX_ID, DOCUMENT)["task_id"]
    widget = stw.TaskWidget(sc.get_task(task_id), poller=poller)  # index_id from the body
    assert widget.index_id == INDEX_ID
    assert widget.wait(timeout=10)["task_id"] == task_id
    assert {bearer for _path, bearer in polls(fake_search)} == {f"Bearer {token}"}
    widget.close()


def test_a_list_of_delete_replies_polls_their_index_as_their_client(fake_search, token, poller):
    sc = search_client(fake_search, token)
    replies = [
        sc.delete_by_query(INDEX_ID, {"q": "*"}),
        sc.batch_delete_by_subject(INDEX_ID, ["https://example.org/a"]),
    ]
    board = stw.TaskListWidget(replies, poller=poller)
    docs = board.wait(timeout=10)
    assert sorted(doc["task_type"] for doc in docs) == ["delete-by-query", "delete-by-subject"]
    # Both tasks' index came from their requests: one task_list covers them from the start.
    assert polls(fake_search) == [(f"/v1/task_list/{INDEX_ID}", f"Bearer {token}")]
    board.close()


def test_an_explicit_auth_wins_but_the_task_stays_where_it_was_created(fake_search, token, poller):
    sc = search_client(fake_search, token)
    reply = sc.ingest(INDEX_ID, DOCUMENT)
    other = fake_token("search")
    fake_search.require_bearer = None  # the fake now lets any token through
    widget = stw.watch(reply, auth=other, poller=poller)
    assert widget.wait(timeout=10)["state"] == "SUCCESS"
    assert widget.base_url == fake_search.base_url
    assert polls(fake_search)[-1][1] == f"Bearer {other}"
    widget.close()


def test_an_explicit_base_url_wins_over_the_replys_client(fake_search, token, poller):
    sc = search_client(fake_search, token)
    reply = sc.ingest(INDEX_ID, DOCUMENT)
    with FakeSearch() as elsewhere:
        elsewhere.put_task(fake_search._docs[reply["task_id"]])
        widget = stw.watch(reply, base_url=elsewhere.base_url, poller=poller)
        assert widget.wait(timeout=10)["state"] == "SUCCESS"
        # Still the client's credentials, sent to the service named.
        assert {bearer for _path, bearer in polls(elsewhere)} == {f"Bearer {token}"}
        widget.close()
    assert polls(fake_search) == []


def test_replies_from_two_services_are_refused(fake_search, token, poller):
    with FakeSearch() as elsewhere:
        elsewhere.require_bearer = token
        first = search_client(fake_search, token).ingest(INDEX_ID, DOCUMENT)
        second = search_client(elsewhere, token).ingest(INDEX_ID, DOCUMENT)
        with pytest.raises(ValueError, match="different services"):
            stw.TaskListWidget([first, second], poller=poller)


def test_zero_config_on_the_simulator_with_a_required_token(poller):
    from search_task_widget.simulator import Simulator

    token = fake_token("search")
    with Simulator(speed=20, required_token=token) as sim:  # a 401 for any other header
        sc = globus_sdk.SearchClient(
            base_url=sim.base_url, authorizer=globus_sdk.AccessTokenAuthorizer(token)
        )
        widget = stw.watch(sc.ingest(INDEX_ID, DOCUMENT), poll_interval=0.1, poller=poller)
        assert widget.wait(timeout=10)["state"] == "SUCCESS"
        assert widget.error == ""
        widget.close()
