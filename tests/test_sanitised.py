"""The documents read well where a sanitiser strips styles and SVG, as GitHub does.

GitHub's sanitiser (approximated with ``bleach`` from html-pipeline's allowlist) keeps a few
elements and no ``style``, ``class`` or ARIA attribute; it drops ``<svg>`` and keeps the text
inside what it drops. The text a reader then sees (block elements on lines of their own) must
keep its words apart, say where each task is, and repeat nothing.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from search_task_widget._documents.document import list_document, task_document

bleach = pytest.importorskip("bleach")

#: html-pipeline's SanitizationFilter elements (what GitHub renders of HTML in Markdown).
GITHUB_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "br", "b", "i", "strong", "em", "a", "pre", "code",
    "img", "tt", "div", "ins", "del", "sup", "sub", "p", "ol", "ul", "table", "thead", "tbody",
    "tfoot", "blockquote", "dl", "dt", "dd", "kbd", "q", "samp", "var", "hr", "li", "tr", "td",
    "th", "s", "strike", "summary", "details", "caption", "figure", "figcaption", "abbr",
    "cite", "mark", "small", "span", "time",
}  # fmt: skip
GITHUB_ATTRIBUTES = {"a": ["href"], "img": ["src", "alt"], "details": ["open"]}
BLOCKS = {"div", "p", "ul", "ol", "li", "dl", "dt", "dd", "pre", "details", "summary",
          "figure", "figcaption", "table", "tr", "h1", "h2", "h3", "br"}  # fmt: skip


def github(html: str) -> str:
    """What GitHub keeps of ``html``: allowed elements, no styles, SVG gone but its text."""
    return bleach.clean(html, tags=GITHUB_TAGS, attributes=GITHUB_ATTRIBUTES, strip=True)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        self.parts.append(data)


def seen(html: str) -> list[str]:
    """The lines a reader sees of sanitised ``html``."""
    parser = _Text()
    parser.feed(github(html))
    text = "".join(parser.parts)
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def task(state: str, **fields) -> dict:
    return {
        "task_id": "3a1c7e08-6a3f-4a5c-9f7e-2b8d4c6e1f00", "state": state, "task_type": "ingest",
        "state_description": {"FAILED": "Task failed", "PROGRESS": "Task running"}[state],
        "index_id": "0d9b1f2e-8c7a-4e5d-b6f3-1a2b3c4d5e6f",
        "creation_date": "2026-01-01T12:00:00",
        "completion_date": "2026-01-01T12:00:04.8" if state == "FAILED" else None,
        "stage_times": {"PROGRESS": 1767268802200.0}, **fields,
    }  # fmt: skip


def test_a_task_reads_with_its_words_apart_and_says_its_stage():
    lines = seen(task_document(task("FAILED", message="1 of 3 documents failed")))
    assert lines[0] == "FAILED · ingest · Task failed"
    assert lines[1] == "Failed. Stages: Submitted · Queued · Running · Done"
    assert "1 of 3 documents failed" in lines
    assert not [line for line in lines if "Task state" in line]  # nothing said twice
    text = "\n".join(lines)
    assert "Elapsed\n4 s\nQueued\n2 s\nRunning\n2 s" in text


def test_a_running_task_says_which_stage_it_reached():
    lines = seen(task_document(task("PROGRESS")))
    assert lines[0] == "PROGRESS · ingest · Task running"
    assert lines[1] == "Running (stage 3 of 4). Stages: Submitted · Queued · Running · Done"


def test_a_list_reads_as_text_beside_its_stripped_chart():
    rows = [
        {**task("FAILED"), "started": 1767268802200.0, "trouble": "", "error": ""},
        {**task("FAILED"), "task_id": "4b2d8f19-7b4a-4b6d-8a8f-3c9e5d7f2a11", "state": "SUCCESS",
         "started": None, "trouble": "", "error": ""},
        {**task("PROGRESS"), "task_id": "5c3e9a2a-8c5b-4c7e-9b9a-4daf6e8a3b22",
         "started": 1767268802200.0, "trouble": "", "error": ""},
    ]  # fmt: skip
    lines = seen(list_document("3 tasks: 1 SUCCESS, 1 FAILED, 1 PROGRESS", rows, {}))
    text = "\n".join(lines)
    # The counts, one per line, after the summary, in the bar's order.
    assert "3 tasks: 1 SUCCESS, 1 FAILED, 1 PROGRESS\n1 SUCCESS\n1 FAILED\n1 PROGRESS" in text
    # The chart's words are sentences and a legend, not a run of labels.
    assert any(line.startswith("From 2026-01-01 12:00:00 UTC to ") for line in lines), lines
    legend = lines.index("queued")
    assert lines[legend : legend + 6] == [
        "queued", "running", "succeeded", "failed", "queued (bar)",
        "queue and run not seen (dotted bar)",
    ]  # fmt: skip
    assert lines[-1].startswith("3 tasks: 1 succeeded, 1 failed, 1 running")
    assert not re.search(r"[a-z]\)?(queued|running|succeeded|failed)", text.replace(" ", "\n"))
