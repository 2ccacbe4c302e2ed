"""``stw.ingest`` in a real kernel: the job shows itself live (a header updated in place
and the batches' list widget), and the end reaches the cell that waits for it."""

from __future__ import annotations

import pytest
from kernel_harness import WIDGET_VIEW_MIME, KernelHarness, problems

pytestmark = pytest.mark.kernel

START = """
import search_task_widget as stw
from search_task_widget.simulator import Simulator

sim = Simulator(speed=20).start()
entries = [{"subject": f"s{n}", "visible_to": ["public"], "content": {"t": n}} for n in range(12)]
entries[3]["subject"] = "x" * 600     # caught before sending
entries[8]["content"]["t"] = "warm"   # fails in its task
job = stw.ingest("85a76897-0d62-4677-a00b-06f5ed2acb0c", entries, base_url=sim.base_url,
                 limits=stw.Limits(batch_entries=4), poll_interval=0.2)
job
"""

WAIT = """
summary = job.wait(timeout=60)
print(summary["entries"])
"""


def _display_id(received) -> str | None:
    return (received.content.get("transient") or {}).get("display_id")


def test_the_job_shows_itself_live_and_its_end_reaches_the_waiting_cell(kernel: KernelHarness):
    shown = kernel.execute(START)
    assert shown.status == "ok", shown.describe()
    displays = [r for r in shown.own if r.msg_type == "display_data"]
    header = [r for r in displays if "stw-ingest" in r.content["data"].get("text/html", "")]
    assert len(header) == 1, shown.describe()
    assert "<IngestJob" in header[0].content["data"]["text/plain"]
    display_id = _display_id(header[0])
    assert display_id
    # The batches' list is displayed with its static forms in the cell (what executors save);
    # its live view comes in a parentless update of that display (_views/unrecorded.py).
    batches = [r for r in displays if "<TaskListWidget" in r.content["data"].get("text/plain", "")]
    assert len(batches) == 1, shown.describe()
    views = [
        r
        for r in shown.of_type("update_display_data")
        if _display_id(r) == _display_id(batches[0]) and WIDGET_VIEW_MIME in r.content["data"]
    ]
    assert views, shown.describe()
    assert all(r.parent_id is None for r in views)

    waited = kernel.execute(WAIT)

    assert waited.status == "ok", waited.describe()
    assert "'read': 12, 'invalid': 1, 'sent': 11, 'indexed': 10, 'failed': 1" in waited.stdout
    final = [
        r
        for r in waited.own
        if r.msg_type == "update_display_data" and _display_id(r) == display_id
    ]
    assert final, waited.describe()
    text = final[-1].content["data"]["text/plain"]
    assert "(done): 12 read, 1 invalid, 11 sent, 10 indexed, 1 failed" in text
    assert "subject_bytes" in final[-1].content["data"]["text/html"]
    assert "&#x27;warm&#x27; is a string" in final[-1].content["data"]["text/html"]  # escaped
    printed = [r for r in waited.own if r.msg_type == "stream" and r.content["name"] == "stdout"]
    assert [r for r in problems(kernel.iopub) if r not in printed] == []  # nothing else
