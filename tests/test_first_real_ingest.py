"""docs/first-real-ingest.md says what the package and Search really do.

Its advice is quoted from the package (so a changed sentence fails here, not in front of a
researcher), and its code ingests one GIngest document: the page's cells run against the
simulator on 127.0.0.1, which checks documents as Search does.
"""

from __future__ import annotations

import re
from pathlib import Path

import globus_sdk
import pytest

from search_task_widget._model.errors import _SUMMARIES, TaskAPIError, advice
from search_task_widget.simulator import TUTORIAL_INDEX_ID, Simulator

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "first-real-ingest.md").read_text()
CELLS = re.findall(r"```python\n(.*?)```", PAGE, re.S)


def test_the_page_is_in_the_sites_table_of_contents():
    assert "\nfirst-real-ingest\n" in (ROOT / "docs" / "index.md").read_text()


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_the_page_quotes_the_widgets_words_for_each_status(status):
    error = TaskAPIError("refused", http_status=status)
    assert f"| {_SUMMARIES[status]} (HTTP {status}) |" in PAGE
    assert advice(error, "`<index id>`") in PAGE


def test_the_sign_in_cell_asks_for_the_ingest_scope_on_a_login_app():
    (sign_in,) = [cell for cell in CELLS if "SearchClient(" in cell]
    assert "app = stw.login_app(" in sign_in
    assert "SearchClient(app=app, app_scopes=[SearchScopes.ingest])" in sign_in
    assert "stw.sign_in(app)" in sign_in


def test_the_pages_document_is_one_gingest_that_search_accepts_and_a_list_gets_400():
    (document_cell,) = [cell for cell in CELLS if '"ingest_type"' in cell]
    (watch_cell,) = [cell for cell in CELLS if "stw.watch(" in cell]
    assert watch_cell.strip() == "w = stw.watch(sc.ingest(INDEX_ID, document))"
    names: dict = {}
    exec(document_cell, names)
    simulator = Simulator().start()
    try:
        sc = globus_sdk.SearchClient(base_url=simulator.base_url)
        reply = sc.ingest(TUTORIAL_INDEX_ID, names["document"])
        assert reply["acknowledged"] is True
        with pytest.raises(globus_sdk.SearchAPIError) as refused:
            sc.ingest(TUTORIAL_INDEX_ID, [names["document"]])
    finally:
        simulator.stop()
    assert refused.value.http_status == 400
    assert refused.value.message.endswith("not an array")  # the page's "400 ... not an array"
    assert "| 400 `... not an array` |" in PAGE
