"""The command line beyond one task: ``watch`` with many task ids (arguments, a file,
stdin), ``search-task-watch TASK_ID`` without the word ``watch``, and ``ingest``, each
over loopback HTTP, with their exit statuses."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from fake_ingest import INDEX_ID, FakeIngest
from fake_search import task_doc
from test_cli import FAST, run

ID = "05c1ec1b-2400-44e2-9797-922c29199042"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("SEARCH_TASK_WIDGET_TOKEN", "GLOBUS_DATA", "SEARCH_TASK_WIDGET_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)


def ended(fake_search, *states: str) -> list[str]:
    ids = []
    for state in states:
        task_id = str(uuid.uuid4())
        fake_search.put_task(task_doc(task_id, state))
        ids.append(task_id)
    return ids


def test_a_task_id_without_the_word_watch_is_watched(fake_search, poller):
    (task_id,) = ended(fake_search, "SUCCESS")

    result = run([task_id, "--base-url", fake_search.base_url, *FAST], poller)

    assert result.code == 0
    assert "SUCCESS" in result.out


def test_many_tasks_are_watched_together_and_all_must_succeed(fake_search, poller):
    ids = ended(fake_search, "SUCCESS", "SUCCESS", "FAILED")

    good = run(["watch", *ids[:2], "--base-url", fake_search.base_url, *FAST], poller)
    bad = run(["watch", *ids, "--base-url", fake_search.base_url, *FAST], poller)

    assert good.code == 0
    assert "2 tasks: 2 SUCCESS" in good.out
    assert bad.code == 1
    assert "3 tasks: 2 SUCCESS, 1 FAILED" in bad.out
    assert all(task_id in bad.out for task_id in ids)
    assert len(fake_search.requests) == 5  # each ended task asked for once


def test_task_ids_come_from_a_file_and_stdin(fake_search, poller, tmp_path, monkeypatch):
    ids = ended(fake_search, "SUCCESS", "SUCCESS", "SUCCESS")
    listing = tmp_path / "tasks.txt"
    listing.write_text(f"# tonight's batches\n{ids[0]}\n\n{ids[1]}  # the second\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(ids[2] + "\n"))

    result = run(
        ["watch", "--from-file", str(listing), "-", "--base-url", fake_search.base_url, *FAST,
         "--format", "json"],
        poller,
    )  # fmt: skip

    assert result.code == 0
    assert [doc["task_id"] for doc in json.loads(result.out)] == [ids[2], ids[0], ids[1]]


def test_a_task_that_cannot_be_watched_makes_the_exit_status_3(fake_search, poller):
    (good,) = ended(fake_search, "SUCCESS")
    missing = str(uuid.uuid4())  # 404

    result = run(["watch", good, missing, "--base-url", fake_search.base_url, *FAST], poller)

    assert result.code == 3


def test_an_unreadable_task_file_is_a_usage_error(poller, tmp_path):
    result = run(["watch", "--from-file", str(tmp_path / "nope.txt")], poller)

    assert result.code == 2
    assert "cannot read task ids" in result.err


# -- ingest -----------------------------------------------------------------------------------


def catalogue(path: Path, count: int, bad: int | None = None) -> Path:
    lines = []
    for n in range(count):
        subject = "x" * 600 if n == bad else f"s{n}"
        lines.append(json.dumps({"subject": subject, "visible_to": ["public"], "content": {}}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ingest_exits_0_when_every_entry_was_indexed(tmp_path, poller):
    with FakeIngest() as fake:
        result = run(
            ["ingest", INDEX_ID, str(catalogue(tmp_path / "a.jsonl", 25)), "--base-url",
             fake.base_url, "--batch-entries", "10", "--journal", str(tmp_path / "j.sqlite")],
            poller,
        )  # fmt: skip

    assert result.code == 0, result.err
    assert "25 read, 0 invalid, 25 sent, 25 indexed, 0 failed" in result.out
    assert len(fake.posts) == 3


def test_ingest_exits_1_and_lists_invalid_and_failed_entries(tmp_path, poller):
    with FakeIngest() as fake:
        fake.failing = {"s3": "rejected"}
        result = run(
            ["ingest", INDEX_ID, str(catalogue(tmp_path / "a.jsonl", 6, bad=5)), "--base-url",
             fake.base_url, "--format", "json"],
            poller,
        )  # fmt: skip

    assert result.code == 1
    report = json.loads(result.out)
    assert report["entries"]["indexed"] == 4
    assert [(f["subject"][:2], f["reason"].split(":")[0]) for f in report["failed"]] == [
        ("s3", f"task {report['failed'][0]['task_id']} ended FAILED"),
        ("xx", "subject_bytes"),
    ]


def test_ingest_stopped_by_the_service_exits_3_and_says_how_to_resume(tmp_path, poller):
    from search_task_widget.simulator.scenarios import http_error

    with FakeIngest() as fake:
        fake.script(http_error(403, message="You are not a writer on this index"))
        result = run(
            ["ingest", INDEX_ID, str(catalogue(tmp_path / "a.jsonl", 3)), "--base-url",
             fake.base_url, "--journal", str(tmp_path / "j.sqlite")],
            poller,
        )  # fmt: skip

    assert result.code == 3
    assert "not a writer" in result.err
    assert "Run the same command again to resume" in result.err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "nope", "a.jsonl"], "is not a valid Search index id"),
        (["ingest", INDEX_ID, "missing.jsonl"], "no catalogue file at missing.jsonl"),
        (["ingest", INDEX_ID], "the following arguments are required: FILE"),
    ],
)
def test_ingest_usage_errors_exit_2(argv, message, poller, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.jsonl").write_text("")

    result = run([*argv, "--base-url", "http://127.0.0.1:9/"], poller)

    assert result.code == 2
    assert message in result.err


def test_ingest_help_documents_its_exit_statuses(poller):
    import re

    result = run(["ingest", "--help"], poller)

    assert result.code == 0
    for code in ("0", "1", "2", "3", "124", "130"):
        assert re.search(rf"^\s+{code}  \S", result.out, re.M), code
    assert "SEARCH_TASK_WIDGET_TOKEN" in result.out


def test_many_tasks_on_a_terminal_get_one_live_line_written_by_the_main_thread(fake_search, poller):
    from test_cli import CLEAR_LINE, ThreadCheckingStream

    ids = ended(fake_search, "SUCCESS", "SUCCESS")
    out = ThreadCheckingStream(tty=True)

    result = run(["watch", *ids, "--base-url", fake_search.base_url, *FAST], poller, stdout=out)

    assert result.code == 0
    assert CLEAR_LINE in result.out
    assert out.writers == {"MainThread"}


def test_ingest_that_runs_out_of_time_exits_124_and_says_how_to_resume(tmp_path, poller):
    from fakes import FakeClock

    with FakeIngest() as fake:
        fake.queued = True  # the service is behind: the tasks never end here
        result = run(
            ["ingest", INDEX_ID, str(catalogue(tmp_path / "a.jsonl", 20)), "--base-url",
             fake.base_url, "--batch-entries", "10", "--timeout", "30",
             "--journal", str(tmp_path / "j.sqlite")],
            poller,
            clock=FakeClock(),  # the 30 s pass at once
        )  # fmt: skip

    assert result.code == 124
    assert "Timed out after 30 s" in result.err
    assert "Run the same command again to resume" in result.err


def test_ctrl_c_stops_an_ingest_with_130_and_the_same_command_resumes_it(tmp_path, poller):
    """A real process and a real SIGINT: nothing sent is lost or sent twice, and no other
    run takes the journal while the process holds it."""
    import signal
    import subprocess
    import time

    from test_cli import _cli, _env

    with FakeIngest() as fake:
        fake.queued = True  # the batches sent stay PENDING: the job is mid-way when stopped
        journal = tmp_path / "j.sqlite"
        command = ["ingest", INDEX_ID, str(catalogue(tmp_path / "a.jsonl", 30)), "--base-url",
                   fake.base_url, "--batch-entries", "10", "--journal", str(journal)]  # fmt: skip
        proc = subprocess.Popen(
            _cli(*command),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            # Python's Ctrl-C handler, also under a suite started with SIGINT ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 30
            while len(fake.posts) < 3:  # every batch sent, none ended
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, f"{len(fake.posts)} batches sent in 30 s"
                time.sleep(0.02)
            # Meanwhile another run on the same journal (an overlapping nightly job) is
            # refused: it sends nothing and says why.
            overlapping = run(command, poller)
            assert overlapping.code == 3, overlapping.err
            assert "is in use by another ingest job" in overlapping.err
            assert len(fake.posts) == 3
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

        assert proc.returncode == 130, err
        assert "Interrupted: stopped sending." in out + err
        assert f"Run the same command again to resume from {journal}" in out + err
        assert "Traceback" not in err

        fake.finish_queued()
        again = run(command, poller)

    assert again.code == 0, again.err
    assert len(fake.posts) == 3  # the resumed job watched what was sent, and sent nothing
    assert set(fake.sent.values()) == {1}
    assert len(fake.index) == 30
