"""Hostile documents in a real kernel: every comm message bounded, nothing printed.

A task whose document has 3 MB in each short field (state, task_type, index_id, dates),
NaN and Infinity in its details: the widget's messages over IOPub stay small (they were one
3 MB message before every field was bounded where the document is read), and jupyter_client
has no NaN to warn about in the cell.
"""

from __future__ import annotations

import json

import pytest
from fake_search import task_doc
from kernel_harness import WidgetStream, describe_messages, problems, update_state, widget_comm_id

from search_task_widget.simulator.loopback import Response

pytestmark = pytest.mark.kernel

#: The largest IOPub message the widget may send for one task (its front end code
#: excepted: it travels once, in comm_open).
MAX_MESSAGE = 256 * 1024


def test_a_hostile_document_makes_small_quiet_messages(kernel, fake_search):
    big = "y" * (3 << 20)
    doc = task_doc(state="PROGRESS")
    task_id = doc["task_id"]
    doc.update(state="PROGRESS" + big, task_type=big, index_id=big, creation_date=big)
    text = json.dumps(doc)[:-1] + ', "additional_details": {"ratio": NaN, "top": Infinity}}'
    answer = Response(200, text.encode(), {"Content-Type": "application/json"})
    fake_search.script(task_id, [answer] * 100)

    kernel.execute("import search_task_widget as stw")
    kernel.execute(
        f"w = stw.TaskWidget({task_id!r}, base_url={fake_search.base_url!r}, "
        "poll_interval=0.2)\ndisplay(w)\n"
    )
    comm_id = widget_comm_id(kernel.iopub, task_id)

    def saw_progress(_new: object) -> bool:
        updates = WidgetStream.of(kernel.iopub, comm_id).updates
        return any(str(update_state(u).get("state", "")).startswith("PROGRESS") for u in updates)

    kernel.collect_until(saw_progress, 20, "the first poll's update")
    kernel.execute("w.close()")
    updates = WidgetStream.of(kernel.iopub, comm_id).updates
    sizes = [len(json.dumps(u.content)) for u in updates]
    assert max(sizes) < MAX_MESSAGE, sizes
    details = next(update_state(u)["additional_details"] for u in updates
                   if "additional_details" in update_state(u))  # fmt: skip
    assert details == {"ratio": "NaN", "top": "Infinity"}
    bad = problems(kernel.iopub)
    assert not bad, describe_messages(bad)
