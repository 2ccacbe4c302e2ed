"""Static views: the self-contained HTML export renders the real front end offline."""

from __future__ import annotations

import uuid

import pytest
from fake_search import task_doc
from playwright.sync_api import expect

import search_task_widget as stw
from search_task_widget._model.task import Task
from search_task_widget._tracking.poller import Schedule

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture
def failed_widget():
    widget = stw.TaskWidget(str(uuid.uuid4()), base_url="http://127.0.0.1:9/", start=False)
    doc = task_doc(widget.task_id, "FAILED", message=HOSTILE)
    widget._group.task_seen(
        widget._entry, Task.from_document(doc), Schedule(1.7e9, None, 1.0, changed=True)
    )
    yield widget
    widget.close()


def test_exported_page_renders_offline_with_the_final_state(failed_widget, page, tmp_path):
    path = tmp_path / "task.html"
    failed_widget.to_html(path)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    root = page.locator(".stw-root")
    expect(root).to_have_attribute("data-state", "FAILED")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "4")
    expect(root).to_contain_text(HOSTILE)  # the message, as text
    assert page.locator(".stw-root img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert errors == []
    assert all(url.startswith(("file:", "blob:", "data:")) for url in requests), requests


def test_snapshot_in_the_mime_bundle_is_escaped_and_final(failed_widget):
    bundle = failed_widget._repr_mimebundle_()
    snapshot = bundle["text/html"]
    assert "FAILED" in snapshot
    assert HOSTILE not in snapshot
    assert "&lt;img src=x" in snapshot
    assert failed_widget.task_id in bundle["text/plain"]
    # The task ended: the bundle is the document alone, with no widget view to load.
    assert set(bundle) == {"text/plain", "text/html"}
