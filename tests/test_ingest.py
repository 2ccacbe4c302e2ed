"""The ingest job end to end, over loopback HTTP (tests/fake_ingest.py): validation per
rule, order, the request budget, 429 and unknown fate, failures mapped to entries (named
subjects and bisection), retry_failed, files, and resuming from the journal after the
process was killed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_ingest import INDEX_ID, FakeIngest
from fakes import FakeClock

import search_task_widget as stw
from search_task_widget._ingest.batches import grouped
from search_task_widget._ingest.entries import Catalogue
from search_task_widget._ingest.failures import bisection_bound, named_subjects
from search_task_widget._ingest.job import IngestJob, ingest
from search_task_widget._ingest.validate import RULES, Invalid, Item, Validator
from search_task_widget._model.limits import Limits
from search_task_widget._tracking.poller import Poller
from search_task_widget._tracking.schedule import RateBudget
from search_task_widget.simulator.scenarios import http_error

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60.0  # generous bound on a wait that ends as soon as the job does


def entry(n: int, **content: Any) -> dict[str, Any]:
    return {"subject": f"s{n}", "visible_to": ["public"], "content": content or {"n": n}}


def catalogue(count: int) -> Iterator[dict[str, Any]]:
    return (entry(n) for n in range(count))


class RecordingClock(FakeClock):
    """A fake clock that remembers every wait it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, event: threading.Event, timeout: float) -> bool:
        self.waits.append(timeout)
        return super().wait(event, timeout)


@pytest.fixture
def fake() -> Iterator[FakeIngest]:
    with FakeIngest() as server:
        yield server


@pytest.fixture
def poller() -> Iterator[Poller]:
    poller = Poller(rate=200.0, burst=20.0)
    yield poller
    poller.shutdown(2.0)


def run(fake: FakeIngest, poller: Poller, entries: object, **options: Any) -> IngestJob:
    options.setdefault("limits", Limits(batch_entries=10))
    job = ingest(
        INDEX_ID, entries, base_url=fake.base_url, poller=poller, poll_interval=0.05, **options
    )
    job.wait(WAIT)
    return job


# -- validation -------------------------------------------------------------------------


BROKEN = {
    "shape": {"subject": "a", "content": {}},
    "subject_bytes": entry(0) | {"subject": "é" * 251},
    "visible_to": entry(0) | {"visible_to": ["public"] * 101},
    "depth": entry(0) | {"content": json.loads('{"a":' * 21 + "1" + "}" * 21)},
    "field_bytes": entry(0) | {"content": {"text": "x" * 32_001}},
    "entry_bytes": entry(0) | {"content": {f"f{n}": "x" * 30_000 for n in range(400)}},
    "json": entry(0) | {"content": {"bad": float("nan")}},
}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_an_entry_that_breaks_a_rule_is_refused_with_the_rule_named(rule: str):
    from search_task_widget._ingest.entries import Read

    checked = Validator(Limits()).check(Read(3, BROKEN[rule], "entry"))

    assert isinstance(checked, Invalid)
    assert checked.position == 3
    assert checked.reason.startswith(f"{rule}: "), checked.reason
    assert rule in RULES


def test_request_bytes_and_fields_per_index_are_checked_against_configured_limits():
    from search_task_widget._ingest.entries import Read

    small = Validator(Limits(request_bytes=200, entry_bytes=190))
    too_big = small.check(Read(0, entry(0, text="x" * 100), "entry"))
    few = Validator(Limits(fields_per_index=3))
    first = few.check(Read(0, entry(0, a=1, b=2), "entry"))
    second = few.check(Read(1, entry(1, c=1, d=2), "entry"))

    assert isinstance(too_big, Invalid)
    assert too_big.reason.startswith("request_bytes: ")
    assert isinstance(first, Item)
    assert isinstance(second, Invalid)
    assert second.reason.startswith("fields_per_index: ")


def test_ids_per_subject_counts_the_distinct_ids_sent_under_a_subject():
    from search_task_widget._ingest.entries import Read

    def under(subject: str, entry_id: str | None, position: int) -> Read:
        return Read(position, {**entry(position), "subject": subject, "id": entry_id}, "entry")

    validator = Validator(Limits(ids_per_subject=2))
    checked = [
        validator.check(under("s", "a", 0)),
        validator.check(under("s", "a", 1)),  # the same entry again (an upsert): not new
        validator.check(under("s", None, 2)),  # no id: not counted
        validator.check(under("t", "c", 3)),  # another subject counts on its own
        validator.check(under("s", "b", 4)),
        validator.check(under("s", "c", 5)),  # a third id under "s"
        validator.check(under("s", "b", 6)),  # an id already there is still fine
    ]

    assert [type(c).__name__ for c in checked] == ["Item"] * 5 + ["Invalid", "Item"]
    assert checked[5].reason == (
        "ids_per_subject: 2 entries with other ids were already sent under this subject; "
        "a subject holds at most 2"
    )
    assert Limits().ids_per_subject == 10  # Search's Limits page


def test_an_entry_refused_for_another_rule_takes_no_id_of_its_subject():
    from search_task_widget._ingest.entries import Read

    validator = Validator(Limits(ids_per_subject=1, fields_per_index=1))
    refused = validator.check(Read(0, {**entry(0, a=1, b=2), "subject": "s", "id": "x"}, "e"))
    accepted = validator.check(Read(1, {**entry(1, a=1), "subject": "s", "id": "y"}, "e"))

    assert refused.reason.startswith("fields_per_index: ")
    assert isinstance(accepted, Item)


def test_invalid_entries_are_not_sent_and_are_reported(fake, poller):
    entries = [entry(0), BROKEN["subject_bytes"], entry(2), 42, entry(4)]

    job = run(fake, poller, entries)

    assert job.summary()["entries"] == {
        "read": 5, "invalid": 2, "sent": 3, "indexed": 3, "failed": 0, "superseded": 0,
    }  # fmt: skip
    assert [f["position"] for f in job.failed] == [1, 3]
    assert [f["reason"].split(":")[0] for f in job.failed] == ["subject_bytes", "shape"]
    assert all(f["task_id"] is None for f in job.failed)
    assert sum(fake.sent.values()) == 3


# -- batching, order, budget --------------------------------------------------------------


def test_batches_fit_the_request_limit_and_keep_the_order():
    limits = Limits(request_bytes=400, batch_entries=4)
    items = [Item(n, f"s{n}", n, b"x" * (30 + 20 * (n % 5))) for n in range(40)]

    groups = list(grouped(items, limits))

    assert [i.position for g in groups for i in g] == list(range(40))
    for group in groups:
        assert len(group) <= 4
        assert 52 + len(group) - 1 + sum(len(i.data) for i in group) <= 400


def test_the_catalogue_arrives_in_order(fake, poller):
    job = run(fake, poller, catalogue(95))

    assert [s for post in fake.posts for s in post] == [f"s{n}" for n in range(95)]
    assert job.summary()["batches"]["submitted"] == 10
    assert job.summary()["entries"]["indexed"] == 95


def test_submissions_spend_from_the_budget_the_poller_spends_from():
    clock = FakeClock()
    budget = RateBudget(2.0, 1.0, clock)
    stop = threading.Event()

    assert budget.try_take()  # the poller's request
    assert budget.take(stop)  # a submission waits for the next token
    assert clock.now == pytest.approx(1000.5)
    budget.pause(3.0)  # a 429 pauses polls and submissions alike
    assert not budget.try_take()
    assert budget.take(stop)
    assert clock.now == pytest.approx(1003.5)


# -- 429 and unknown fate -----------------------------------------------------------------


def test_a_429_is_retried_after_its_retry_after(fake, poller):
    clock = RecordingClock()
    fake.script("ok", http_error(429, retry_after=1))

    job = run(fake, poller, catalogue(30), clock=clock)

    assert len(fake.posts) == 4  # three batches, one of them twice
    assert max(clock.waits) >= 1.0
    assert job.summary()["entries"]["indexed"] == 30


def test_a_request_without_an_answer_is_sent_again_and_said(fake, poller):
    fake.script("ok", "stored-then-dropped")

    job = run(fake, poller, catalogue(30))

    summary = job.summary()
    assert summary["batches"]["resent_unknown_fate"] == 1
    assert summary["entries"]["indexed"] == 30
    assert [fake.sent[f"s{n}"] for n in range(30)] == [1] * 10 + [2] * 10 + [1] * 10
    assert len(fake.index) == 30  # the upsert: each entry once
    assert any("no answer" in note and "safe" in note for note in job.notes)
    assert "sent again" in repr(job)


# -- failures mapped to entries -------------------------------------------------------------


def test_named_subjects_fail_and_the_rest_of_their_batch_is_sent_again(fake, poller):
    fake.failing = {"s13": "type conflict on n"}

    job = run(fake, poller, catalogue(30))

    assert job.failed == [
        {"subject": "s13", "reason": job.failed[0]["reason"], "task_id": job.failed[0]["task_id"],
         "position": 13},
    ]  # fmt: skip
    assert "type conflict on n" in job.failed[0]["reason"]
    assert job.summary()["entries"]["indexed"] == 29
    assert len(fake.posts) == 4  # the failed batch's nine others, once more
    # (sent as soon as the failure was known: before or after the third batch)
    assert [f"s{n}" for n in range(10, 20) if n != 13] in fake.posts[2:]


def test_a_failure_naming_nothing_is_bisected_within_the_bound():
    with FakeIngest(name_subjects=False) as fake:
        poller = Poller(rate=200.0, burst=20.0)
        try:
            fake.failing = {"s5": "no details"}
            job = run(fake, poller, catalogue(16), limits=Limits(batch_entries=16))
        finally:
            poller.shutdown(2.0)

    assert [f["subject"] for f in job.failed] == ["s5"]
    assert job.summary()["entries"]["indexed"] == 15
    assert len(fake.posts) - 1 <= bisection_bound(16, 1)
    assert len(fake.index) == 15


def test_retry_failed_sends_the_failed_entries_again_not_the_invalid_ones(fake, poller):
    fake.failing = {"s3": "temporary"}
    job = run(fake, poller, [*catalogue(8), {"subject": ""}])
    assert [f["subject"] for f in job.failed] == ["s3", ""]

    fake.failing = {}
    assert job.retry_failed() == 1
    job.wait(WAIT)

    assert [f["position"] for f in job.failed] == [8]
    assert job.summary()["entries"]["indexed"] == 8
    assert fake.posts[-1] == ["s3"]


def test_named_subjects_are_found_anywhere_in_the_details():
    details = {"errors": [{"subject": "a", "message": "bad"}], "failed_subjects": ["b", "zz"]}

    assert named_subjects(details, {"a", "b", "c"}) == {"a": "bad", "b": ""}


# -- reading ----------------------------------------------------------------------------------


def test_entries_come_from_jsonl_json_and_gingest_documents(tmp_path, fake, poller):
    lines = tmp_path / "part.jsonl"
    lines.write_text("\n".join(json.dumps(entry(n)) for n in range(3)) + "\n{oops\n\n")
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([entry(10), entry(11)]))
    gingest = {"ingest_type": "GMetaList", "ingest_data": {"gmeta": [entry(20)]}}

    reads = list(Catalogue([lines, str(listed), gingest, entry(30)]))
    job = run(fake, poller, [lines, listed, gingest, entry(30)])

    assert [r.position for r in reads] == list(range(8))
    assert reads[3].problem is not None
    assert reads[3].problem.startswith("json: ")
    assert job.summary()["entries"]["indexed"] == 7
    assert job.failed[0]["position"] == 3


def test_bad_arguments_are_refused_before_anything_is_sent(tmp_path, fake):
    with pytest.raises(TypeError, match="entries must be"):
        ingest(INDEX_ID, 42, base_url=fake.base_url)
    with pytest.raises(FileNotFoundError):
        ingest(INDEX_ID, tmp_path / "missing.jsonl", base_url=fake.base_url)
    with pytest.raises(ValueError, match="index id"):
        ingest("not-a-uuid", [], base_url=fake.base_url)
    assert fake.posts == []


# -- the public API -----------------------------------------------------------------------------


def test_stw_ingest_returns_a_job_whose_repr_says_how_it_went(fake, poller):
    fake.failing = {"s1": "rejected"}
    job = stw.ingest(
        INDEX_ID, catalogue(3), base_url=fake.base_url, poller=poller, poll_interval=0.05
    )

    summary = job.wait(WAIT)

    assert summary["entries"]["indexed"] == 2
    assert summary["done"]
    text = repr(job)
    assert "3 read, 0 invalid, 3 sent, 2 indexed, 1 failed" in text
    assert "failed: s1: task" in text
    assert "rejected" in text


# -- the journal -----------------------------------------------------------------------------

_CHILD = """
import sys
from search_task_widget._ingest.job import ingest
from search_task_widget._model.limits import Limits
from search_task_widget._tracking.poller import Poller
entries = ({"subject": f"s{n}", "visible_to": ["public"], "content": {"n": n}} for n in range(60))
job = ingest(sys.argv[1], entries, base_url=sys.argv[2], journal=sys.argv[3],
             limits=Limits(batch_entries=10), poller=Poller(rate=200), poll_interval=0.05)
job.wait(60)
"""


def _states(journal: Path) -> dict[str, list[int]]:
    """Batch state -> the positions of its entries (read while the file is not in use)."""
    found: dict[str, list[int]] = {}
    with sqlite3.connect(journal) as db:
        for state, items in db.execute("SELECT state, items FROM batches"):
            found.setdefault(state, []).extend(p for p, _s, _k in json.loads(items or "[]"))
    return found


def test_a_killed_ingest_resumes_from_its_journal_sending_nothing_twice(tmp_path, fake, poller):
    journal = tmp_path / "ingest.sqlite"
    gate = threading.Event()
    fake.script("ok", "ok", gate)  # the third request hangs until the process is gone
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, INDEX_ID, fake.base_url, str(journal)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert fake.arrived.wait(WAIT)
        child.send_signal(signal.SIGKILL)
        child.wait(WAIT)
    finally:
        gate.set()
    before = _states(journal)
    posts_before = len(fake.posts)
    assert before["sending"] == list(range(20, 30))  # the request in flight when it died

    job = run(fake, poller, catalogue(60), journal=journal)

    summary = job.summary()
    assert summary["entries"]["indexed"] == 60
    assert summary["entries"]["read"] == 60
    assert sorted(fake.index) == sorted((f"s{n}", None) for n in range(60))
    resent = [s for post in fake.posts[posts_before:] for s in post]
    assert sorted(resent, key=lambda s: int(s[1:])) == [f"s{n}" for n in range(20, 60)]
    assert [fake.sent[f"s{n}"] for n in range(20)] == [1] * 20  # sent before: not again
    assert any("fate is unknown" in note for note in job.notes)


_SLOW_CHILD = _CHILD.replace("Poller(rate=200)", "Poller(rate=10)").replace(
    "range(60)", "range(400)"
)


def _succeeded_tasks(journal: Path) -> list[str]:
    """The task ids of the batches the journal says succeeded (none before it exists)."""
    if not journal.exists():
        return []
    try:
        with sqlite3.connect(f"{journal.as_uri()}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT task_id FROM batches WHERE state = 'succeeded'").fetchall()
    except sqlite3.OperationalError:  # the schema is being created
        return []
    return [task_id for (task_id,) in rows]


def test_killed_after_some_batches_succeeded_it_resends_none_of_them(tmp_path, fake, poller):
    journal = tmp_path / "ingest.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CHILD, INDEX_ID, fake.base_url, str(journal)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        # 40 batches at 10 requests a second take 4 s at least: it is killed mid-run.
        deadline = time.monotonic() + WAIT
        while len(_succeeded_tasks(journal)) < 3 and time.monotonic() < deadline:
            assert child.poll() is None, "the ingest ended before it could be killed"
            time.sleep(0.05)  # a bounded wait for a condition in another process
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(WAIT)
    succeeded = {s for task in _succeeded_tasks(journal) for s in fake.task_subjects[task]}
    assert len(succeeded) >= 30
    posts_before = len(fake.posts)

    job = run(fake, poller, catalogue(400), journal=journal)

    assert job.summary()["entries"]["indexed"] == 400
    assert sorted(fake.index) == sorted((f"s{n}", None) for n in range(400))
    resent = {s for post in fake.posts[posts_before:] for s in post}
    assert resent & succeeded == set()
    assert all(fake.sent[s] == 1 for s in succeeded)


def test_a_journal_that_cannot_be_used_is_a_clear_error(tmp_path, fake):
    not_a_journal = tmp_path / "notes.txt"
    not_a_journal.write_text("shopping list\n" * 100)

    with pytest.raises(OSError, match="as a journal"):
        ingest(INDEX_ID, [], base_url=fake.base_url, journal=tmp_path / "no" / "such.sqlite")
    with pytest.raises(OSError, match="as a journal"):
        ingest(INDEX_ID, [], base_url=fake.base_url, journal=not_a_journal)
    assert not_a_journal.read_text() == "shopping list\n" * 100


def _until(condition, what: str) -> None:
    """Poll ``condition`` (something another thread does) for up to WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT:g} s: {what}"
        time.sleep(0.01)


def test_one_job_at_a_time_sends_from_a_journal(tmp_path, fake, poller):
    journal = tmp_path / "j.sqlite"
    options = dict(base_url=fake.base_url, poller=poller, poll_interval=0.05, journal=journal)
    options["limits"] = Limits(batch_entries=10)
    fake.queued = True  # the first job's batches stay in flight: it keeps sending and watching
    first = ingest(INDEX_ID, catalogue(20), **options)
    _until(lambda: len(fake.posts) == 2, "the first job sent its two batches")

    with pytest.raises(stw.SearchTaskError) as refused:
        ingest(INDEX_ID, catalogue(20), **options)

    assert refused.value.code == "JournalInUse"
    assert f"the journal {journal} is in use by another ingest job" in refused.value.message
    assert (tmp_path / "j.sqlite.lock").exists()
    first.stop()  # lets go of the journal
    fake.finish_queued()
    second = ingest(INDEX_ID, catalogue(20), **options)  # takes up what the first left
    assert second.wait(WAIT)["entries"]["indexed"] == 20
    assert len(fake.posts) == 2  # nothing was sent twice
    # The first job's picture of what is left is stale now: it may not go on.
    with pytest.raises(stw.SearchTaskError, match=r"used the journal .* since this one stopped"):
        first.wait(WAIT)
    assert len(fake.posts) == 2
    # Ended, the second job let go: a third run is welcome (and has nothing to send).
    assert run(fake, poller, catalogue(20), journal=journal).summary()["entries"]["indexed"] == 20
    assert len(fake.posts) == 2


def test_a_retry_that_sends_nothing_lets_go_of_the_journal(tmp_path, fake, poller):
    journal = tmp_path / "j.sqlite"
    fake.failing = {"s1": "bad"}
    job = run(fake, poller, catalogue(3), journal=journal)

    with pytest.raises(KeyError):
        job.retry_failed(fix=lambda entry: {}["fix raises"])
    assert job.retry_failed(fix=lambda entry: None) == 0  # left failed: nothing to send

    again = run(fake, poller, catalogue(3), journal=journal)  # not refused
    assert [f["subject"] for f in again.failed] == ["s1"]


def test_a_journal_of_another_index_is_refused(tmp_path, fake, poller):
    journal = tmp_path / "j.sqlite"
    run(fake, poller, catalogue(3), journal=journal)

    with pytest.raises(ValueError, match="belongs to an ingest into index"):
        ingest("11111111-2222-3333-4444-555555555555", [], base_url=fake.base_url, journal=journal)


def test_ingesting_again_with_a_finished_journal_sends_nothing(tmp_path, fake, poller):
    journal = tmp_path / "j.sqlite"
    run(fake, poller, catalogue(25), journal=journal)
    posts = len(fake.posts)

    again = run(fake, poller, catalogue(25), journal=journal)

    assert len(fake.posts) == posts
    assert again.summary()["entries"]["indexed"] == 25


def test_an_entry_replaced_later_in_the_catalogue_is_not_resent(tmp_path):
    from search_task_widget._ingest.journal import Journal
    from search_task_widget._ingest.validate import entry_key

    journal = Journal(None, INDEX_ID, "test")
    key = entry_key("a", None)
    early, late = Item(2, "a", key, b"{}"), Item(7, "a", key, b"{}")
    other = Item(3, "b", entry_key("b", None), b"{}")
    journal.new_batch([early, other], read_upto=4, parent=None)
    assert journal.superseded_among([early, other]) == set()

    journal.new_batch([late], read_upto=8, parent=None)

    assert journal.superseded_among([early, other]) == {2}


def test_retry_failed_can_fix_each_entry_on_the_way(fake, poller):
    fake.failing = {"s2": "n must be a number", "s4": "n must be a number"}
    job = run(fake, poller, catalogue(6))
    fake.failing = {}

    def fix(failed: dict[str, Any]) -> dict[str, Any] | None:
        if failed["subject"] == "s4":
            return None  # left failed
        return {**failed, "content": {"n": 2, "fixed": True}}

    assert job.retry_failed(fix=fix) == 1
    job.wait(WAIT)

    assert fake.index[("s2", None)] == {"n": 2, "fixed": True}
    assert [f["subject"] for f in job.failed] == ["s4"]  # left out: still failed, and why
    assert "n must be a number" in job.failed[0]["reason"]


def test_a_fix_that_raises_loses_no_failed_entry(fake, poller):
    fake.failing = {"s1": "bad"}
    job = run(fake, poller, catalogue(4))

    def broken(entry: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("temperature")

    with pytest.raises(KeyError):
        job.retry_failed(fix=broken)

    assert [f["subject"] for f in job.failed] == ["s1"]
    fake.failing = {}
    assert job.retry_failed() == 1
    assert job.wait(WAIT)["entries"]["indexed"] == 4


def test_a_stopped_job_goes_on_when_started_again(fake, poller):
    gate = threading.Event()
    fake.script("ok", gate)
    job = ingest(
        INDEX_ID, catalogue(30), base_url=fake.base_url, poller=poller, poll_interval=0.05,
        limits=Limits(batch_entries=10),
    )  # fmt: skip
    assert fake.arrived.wait(WAIT)
    gate.set()  # answered 503: the job waits to retry, and is stopped meanwhile
    job.stop()

    job.start()
    summary = job.wait(WAIT)

    assert summary["entries"]["indexed"] == 30
    assert len(fake.index) == 30


def test_wait_after_stop_goes_on_and_done_means_every_entry_settled(fake, poller):
    gate = threading.Event()
    fake.script("ok", gate)
    job = ingest(
        INDEX_ID, catalogue(30), base_url=fake.base_url, poller=poller, poll_interval=0.05,
        limits=Limits(batch_entries=10),
    )  # fmt: skip
    assert fake.arrived.wait(WAIT)
    gate.set()
    job.stop()
    assert job.ended
    assert not job.done
    assert not job.summary()["done"]

    summary = job.wait(WAIT)  # as for the widgets: waiting after stop() goes on

    assert summary["done"]
    assert summary["entries"]["indexed"] == 30


def test_a_resume_from_another_file_says_so(tmp_path, fake, poller):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path in (first, second):
        path.write_text("".join(json.dumps(entry(n)) + "\n" for n in range(3)))
    journal = tmp_path / "j.sqlite"
    run(fake, poller, first, journal=journal)

    again = run(fake, poller, second, journal=journal)

    assert any("the journal was written for" in note for note in again.notes)


def test_a_post_tells_a_request_never_sent_from_one_whose_fate_is_unknown(fake):
    from search_task_widget._model.errors import TaskNetworkError
    from search_task_widget._service.client import UNKNOWN_FATE, TaskClient

    fake.script("stored-then-dropped")
    body = json.dumps({"ingest_type": "GMetaList", "ingest_data": {"gmeta": [entry(1)]}})
    with TaskClient(fake.base_url) as client, pytest.raises(TaskNetworkError) as dropped:
        client.ingest(INDEX_ID, body.encode())
    nowhere = TaskClient("http://127.0.0.1:9/")  # nothing listens on the discard port
    with nowhere, pytest.raises(TaskNetworkError) as refused:
        nowhere.ingest(INDEX_ID, body.encode())

    assert dropped.value.code == UNKNOWN_FATE
    assert refused.value.code == "NotSent"
    assert fake.posts == [["s1"]]
