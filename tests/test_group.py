"""The tracking core on its own: a TaskGroup drawn by a recording view (no widget, no kernel).

Real HTTP to the loopback FakeSearch; the poller runs only when the test calls ``tick()`` on
the fake clock, so every round is one the test chose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_search import http_error, task_doc

import search_task_widget as stw
from search_task_widget._model.errors import TaskListError
from search_task_widget._model.task import Task
from search_task_widget._service.auth import resolve_auth
from search_task_widget._service.client import shared_clients
from search_task_widget._tracking.group import News, TaskGroup
from search_task_widget._tracking.news import PerAnswer, PerRound
from search_task_widget._tracking.poller import Schedule
from search_task_widget._tracking.schedule import STAMP_EVERY

PACKAGE = Path(stw.__file__).parent


class RecordingView:
    """A GroupView that keeps what it is told."""

    def __init__(self, advice: str = "Get a fresh token.") -> None:
        self.news: list[News] = []
        self.ends = 0
        self.expired: list[stw.SearchTaskError] = []
        self.advice = advice

    def _render(self, news: News) -> None:
        self.news.append(news)

    def _group_ended(self) -> None:
        self.ends += 1

    def _credentials_expired(self, error: stw.SearchTaskError) -> str:
        self.expired.append(error)
        return self.advice

    def kinds(self) -> list[str]:
        return [news.kind for news in self.news]


def make_group(fake_search, poller, view, *, single: bool = False, **kwargs) -> TaskGroup:
    credentials = resolve_auth(None, loopback=True)
    news = PerAnswer() if single else PerRound()
    return TaskGroup(
        fake_search.base_url, credentials, view=view, poller=poller, news=news, **kwargs
    )


def at(doc: dict, state: str) -> dict:
    return task_doc(doc["task_id"], state, creation_date=doc["creation_date"])


def run_round(poller, clock, seconds: float) -> None:
    clock.advance(seconds)
    poller.tick()


# -- many tasks: one piece of news per round -----------------------------------------------


def test_a_round_that_moves_many_tasks_is_told_once_and_quiet_rounds_only_stamp(
    fake_search, ticked, clock
):
    docs = [task_doc(state="PENDING") for _ in range(3)]
    for doc in docs:
        fake_search.put_task(doc)
    view = RecordingView()
    group = make_group(fake_search, ticked, view, intervals=(1.0, 1.0))
    for doc in docs:
        group.add(doc["task_id"])
    group.start()
    view.news.clear()

    run_round(ticked, clock, 0.0)
    assert view.kinds() == ["round"]
    assert view.news[0].rows_changed
    assert [row["state"] for row in group.rows()] == ["PENDING"] * 3
    first_stamp = group.stamp.checked_at

    run_round(ticked, clock, 1.0)  # nothing changed, the stamp is not due: silence
    assert view.kinds() == ["round"]
    run_round(ticked, clock, STAMP_EVERY)
    assert view.kinds() == ["round", "round"]
    assert not view.news[-1].rows_changed  # only the stamp moved
    assert group.stamp.checked_at == pytest.approx(first_stamp + STAMP_EVERY + 1.0)

    for doc in docs:
        fake_search.put_task(at(doc, "SUCCESS"))
    run_round(ticked, clock, 1.0)
    assert view.kinds()[-1] == "round"
    assert view.ends == 1
    assert group.all_ended
    assert not group.polling
    assert [d["state"] for d in group.documents()] == ["SUCCESS"] * 3
    assert group.totals()["done"] == 3
    group.close()


def test_an_error_stops_one_watch_and_the_outcome_names_it(fake_search, ticked, clock):
    ok, gone = task_doc(state="PENDING"), task_doc(state="PENDING")
    fake_search.put_task(ok)
    fake_search.script(gone["task_id"], [http_error(404)])
    view = RecordingView()
    group = make_group(fake_search, ticked, view)
    group.add(ok["task_id"])
    group.add(gone["task_id"], index_id=gone["index_id"])
    group.start()

    run_round(ticked, clock, 0.0)
    entry = group.get(gone["task_id"])
    assert entry is not None
    assert entry.fatal is not None
    assert group.rows()[1]["trouble"] == "fatal"
    assert "Task not found (HTTP 404" in entry.fatal_text
    assert "base_url" in entry.fatal_advice  # says what to do
    assert group.totals()["error"].startswith("1 task could not be checked")
    assert view.ends == 0  # the other task still runs

    fake_search.put_task(at(ok, "FAILED"))
    run_round(ticked, clock, 2.0)
    assert view.ends == 1
    with pytest.raises(TaskListError) as caught:
        group.documents()
    assert list(caught.value.errors) == [gone["task_id"]]
    assert [d["state"] for d in caught.value.documents] == ["FAILED"]
    assert group.counts() == {"FAILED": 1, "UNCHECKED": 1}
    group.close()


def test_late_news_of_a_stopped_watch_changes_nothing(fake_search, ticked, clock):
    doc = task_doc(state="PENDING")
    fake_search.put_task(doc)
    view = RecordingView()
    group = make_group(fake_search, ticked, view)
    entry = group.add(doc["task_id"])
    assert entry is not None
    group.start()
    listener = entry.listener
    assert listener is not None
    group.stop()
    view.news.clear()

    listener.on_task(Task.from_document(at(doc, "SUCCESS")), Schedule(1.0, None, 1.0, True))
    listener.on_fatal(stw.TaskAPIError("gone", http_status=404))
    listener.on_round_end()

    assert (entry.task, entry.fatal, view.news) == (None, None, [])
    with pytest.raises(stw.PollingStoppedError, match="1 of 1 tasks had not ended"):
        group.documents()
    group.close()


def test_wait_times_out_saying_what_still_runs(fake_search, ticked):
    view = RecordingView()
    group = make_group(fake_search, ticked, view)
    group.add(task_doc()["task_id"])
    group.add(task_doc()["task_id"])
    group.start()

    with pytest.raises(TimeoutError, match=r"2 of 2 tasks still running after 0\.05 s"):
        group.wait_idle(0.05)
    group.close()
    group.wait_idle(0.05)  # closed: nothing runs, nothing to wait for


# -- one task: each answer at once -----------------------------------------------------------


def test_a_group_of_one_tells_each_answer_and_throttles_the_stamp(fake_search, ticked, clock):
    view = RecordingView()
    group = make_group(fake_search, ticked, view, single=True)
    entry = group.add(task_doc()["task_id"])
    assert entry is not None
    pending = Task.from_document(task_doc(entry.task_id, "PENDING"))

    group.task_seen(entry, pending, Schedule(100.0, 101.0, 1.0, changed=True))
    assert group.stamp.checked_at == 100.0
    group.task_seen(entry, pending, Schedule(105.0, 106.0, 1.0))
    assert group.stamp.checked_at == 100.0  # unchanged, stamp not due
    group.task_seen(entry, pending, Schedule(106.0, 101.0 - 5, 1.0))
    assert group.stamp.next_check == 96.0  # the next check moved clearly sooner: told
    group.task_seen(entry, pending, Schedule(115.0, 116.0, 2.0))
    assert group.stamp.checked_at == 106.0  # the last stamp was at 106: not due yet
    group.task_seen(entry, pending, Schedule(116.0, 118.0, 2.0))
    assert (group.stamp.checked_at, group.stamp.interval) == (116.0, 2.0)
    assert view.kinds() == ["task"] * 5  # a view of one hears every answer
    assert set(entry.stage_times) == {"PENDING"}
    group.close()


def test_trouble_counts_down_and_clears_on_the_next_answer(fake_search, ticked):
    view = RecordingView()
    group = make_group(fake_search, ticked, view, single=True)
    entry = group.add(task_doc()["task_id"])
    assert entry is not None
    busy = stw.TaskAPIError("busy", http_status=503, code="ServiceUnavailable", transient=True)

    group.trouble_seen(entry, busy, Schedule(60.0, 64.0, 1.0, failures=1))
    assert entry.trouble_kind == "retrying"
    assert entry.error_text.startswith("Retrying in 4 s: Search is unavailable (HTTP 503")
    assert group.stamp.next_check == 64.0

    done = Task.from_document(task_doc(entry.task_id, "SUCCESS"))
    group.task_seen(entry, done, Schedule(64.0, None, 1.0, changed=True))
    assert (entry.error_text, entry.trouble_kind) == ("", "")
    assert group.document()["state"] == "SUCCESS"
    assert view.ends == 1
    group.close()


def test_a_refused_token_asks_the_view_what_to_do(fake_search, ticked):
    view = RecordingView(advice="Set a fresh token.")
    group = make_group(fake_search, ticked, view, single=True)
    entry = group.add(task_doc()["task_id"])
    assert entry is not None
    refused = stw.TaskAPIError("expired", http_status=401, code="AuthenticationFailed")

    group.fatal_seen(entry, refused)

    assert view.expired == [refused]
    assert entry.fatal_advice == "Set a fresh token."
    assert entry.fatal_text.startswith("Sign-in needed")
    with pytest.raises(stw.TaskAPIError) as caught:
        group.document()
    assert (caught.value.http_status, caught.value.message) == (401, "Set a fresh token.")
    group.close()


def test_advice_for_an_error_without_one_is_the_views_choice(fake_search, ticked):
    gave_up = stw.TaskNetworkError("no answer for 300 s")
    widgets = make_group(fake_search, ticked, RecordingView())
    terminal = make_group(fake_search, ticked, RecordingView(), otherwise="")

    assert widgets.advice(gave_up) == "Call start() to try again."
    assert terminal.advice(gave_up) == ""
    widgets.close()
    terminal.close()


# -- the connection and the layers ----------------------------------------------------------


def test_groups_with_the_same_credentials_share_one_pooled_client(fake_search, ticked):
    before = len(shared_clients)
    one = make_group(fake_search, ticked, RecordingView())
    two = make_group(fake_search, ticked, RecordingView())
    assert one.client is not None
    assert one.client is two.client
    assert len(shared_clients) == before + 1
    one.close()
    two.close()
    assert len(shared_clients) == before
    assert one.client is None
