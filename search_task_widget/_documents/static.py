"""Views of a task that need no running kernel and no widget manager.

Two forms: a small ``text/html`` snapshot that rides along in the display's mime bundle (what
GitHub, nbviewer and other widget-less viewers show), and a self-contained HTML page that
renders the real front end from the widget's state with nothing fetched from the network.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._model.task import Task, format_duration

_COLOURS = {"SUCCESS": "#2e7d32", "FAILED": "#c62828"}


def snapshot_html(state: Mapping[str, Any], task: Task | None) -> str:
    """A compact, escaped HTML summary of the widget's state (inline styles only)."""
    label = state.get("state") or "not checked yet"
    colour = _COLOURS.get(str(state.get("state")), "#1565c0")
    rows = [
        ("Task", state.get("task_id")),
        ("Type", state.get("task_type")),
        ("Index", state.get("index_id")),
        ("Submitted", _utc(state.get("creation_date"))),
        ("Completed", _utc(state.get("completion_date"))),
        ("Elapsed", format_duration(task.elapsed()) if task and task.created_at else None),
        ("Message", state.get("message")),
        ("Polling problem", state.get("error")),
    ]
    cells = "".join(
        f'<tr><th style="text-align:left;padding-right:1em">{html.escape(name)}</th>'
        f"<td>{html.escape(str(value))}</td></tr>"
        for name, value in rows
        if value
    )
    details = state.get("additional_details")
    folded = (
        f"<details><summary>Additional details</summary><pre>"
        f"{html.escape(json.dumps(details, indent=2, sort_keys=True))}</pre></details>"
        if details
        else ""
    )
    return (
        '<div class="stw-snapshot" style="font-family:sans-serif;font-size:13px">'
        f'<strong style="color:{colour}">{html.escape(str(label))}</strong> '
        f"{html.escape(str(state.get('state_description') or ''))}"
        f"<table>{cells}</table>{folded}</div>"
    )


def list_snapshot_html(summary: str, rows: Sequence[Mapping[str, Any]], limit: int = 50) -> str:
    """The static view of a task list: the summary line, then failed or troubled tasks."""
    notable = [r for r in rows if r.get("state") == "FAILED" or r.get("trouble")][:limit]
    cells = "".join(
        f"<tr><td><code>{html.escape(str(r.get('task_id')))}</code></td>"
        f"<td>{html.escape(str(r.get('state') or 'unchecked'))}</td>"
        f"<td>{html.escape(str(r.get('message') or r.get('error') or ''))}</td></tr>"
        for r in notable
    )
    table = f"<table>{cells}</table>" if cells else ""
    return (
        '<div class="stw-snapshot" style="font-family:sans-serif;font-size:13px">'
        f"<strong>{html.escape(summary)}</strong>{table}</div>"
    )


def standalone_html(esm: str, css: str, state: Mapping[str, Any], title: str) -> str:
    """A page that runs the front end on a frozen copy of ``state``: offline, no CDN.

    The front end has no imports, so it is loaded from an inline blob; the model is a
    read-only stand-in that never changes.
    """
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_style_text(css)}</style>
</head>
<body>
<div id="stw-export"></div>
<script type="module">
const state = {_script_json(dict(state))};
const source = {_script_json(esm)};
const model = {{ get: (name) => state[name], on() {{}}, off() {{}} }};
const url = URL.createObjectURL(new Blob([source], {{ type: "text/javascript" }}));
const widget = (await import(url)).default;
const view = typeof widget === "function" ? await widget() : widget;
// A frozen copy: no kernel will ever update it (its clocks stop at the last check).
view.render({{ model, el: document.getElementById("stw-export"), kernel: {{ comm_live: false }} }});
</script>
</body>
</html>
"""


def _style_text(css: str) -> str:
    # A stylesheet must not be able to close its <style> element.
    return css.replace("</", "<\\/")


def _script_json(value: object) -> str:
    # JSON inside <script> must not be able to close the tag or open a comment.
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _utc(value: object) -> str | None:
    return f"{value} UTC" if value else None
