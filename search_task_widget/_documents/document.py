"""The document a widget becomes when what it watches has ended (``text/html``).

It is the widget's last frame written as HTML by Python: the same elements and class names
as the front end draws (``js/widget.js``, ``js/list.js``), so in the page where the widget
was live (whose stylesheet is loaded) it looks the same, and the widget's roles and
attributes (``role="progressbar"``, ``data-state``) stay for assistive technology and tests.
Where no stylesheet is loaded (a notebook reopened without a kernel, ``nbconvert --to html``,
GitHub) it must still read well, so:

* the structure carries the meaning alone (a badge that *says* SUCCESS, definition lists,
  ``<details>``), since sanitisers drop styles (GitHub drops them all, an untrusted
  JupyterLab output the values it does not know);
* a few inline styles draw the stage bar and the badge, with JupyterLab's theme variables
  first and fallbacks that read on light and dark backgrounds (solid fills, text colour
  inherited, never set), and lay out the identity and timing panels side by side, each
  label beside its value (without them a page with no stylesheet of ours, such as the
  documentation site, stacks every label over its value in one tall column);
* every text from the service is escaped and cut to a bounded length, and dates are UTC
  (the viewer's zone is not known when the document is written).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._model.task import BIDI_ESCAPES, format_duration, parse_service_date
from .._model.timing import NOT_SEEN, phases
from .._model.vocabulary import (
    EMPTY_COLOUR,
    FAILED,
    FRAME_COLOUR,
    NOT_CHECKED,
    PALETTE,
    PROGRESS,
    QUEUED_STATES,
    STAGES,
    TERMINAL_STATES,
    UNCHECKED,
    Colour,
    count_states,
    stage_of,
    stage_text,
    tone_of,
    utc_text,
)
from .timeline_svg import timeline_figure

#: Longest message and pretty-printed details a document keeps (the object keeps them all).
MAX_TEXT = 2000
MAX_DETAILS = 4000
#: Rows a list's document shows (failed ones first); the others are counted.
MAX_ROWS = 50


def _colour(prop: str, colour: Colour, lead: str = "") -> str:
    """``prop`` twice: a plain value first, which sanitisers keep when they drop ``var()``
    (an untrusted JupyterLab output), then the theme's variable, which wins where known."""
    variable, plain = colour
    return f"{prop}:{lead}{plain};{prop}:{lead}var({variable},{plain})"


_ROOT_STYLE = f"border:1px solid {FRAME_COLOUR};border-radius:6px;padding:8px 12px;max-width:760px"
#: The panels' layout as js/widget.css draws it live (.stw-panels, .stw-dl): side by side
#: in 640 px or more (the docs site has 736), else one below the other; in each, labels in
#: one column and values in the other.
_PANELS_STYLE = "display:flex;flex-wrap:wrap;gap:4px 32px;font-size:13px"  # the widget's size
_GRID = (
    "display:grid;grid-template-columns:max-content minmax(0,1fr);align-content:start;"
    "gap:2px 12px;margin:0"
)
_PANEL_STYLES = (f"flex:0 1 auto;{_GRID}", f"flex:1 1 240px;{_GRID}")  # ids, then timing
#: Browsers and site themes indent ``dd``; in the grid, values start at their column.
_VALUE_STYLE = "margin:0"


def task_document(state: Mapping[str, Any]) -> str:
    """The last frame of a TaskWidget whose synced traits are ``state``."""
    name = str(state.get("state") or "")
    tone = tone_of(name)
    stage = stage_of(name, state.get("stage_times") or {})
    marks = f'data-state="{_text(name)}" data-tone="{tone}"'
    parts = [
        f'<div class="stw-root stw-document" {marks} style="{_ROOT_STYLE}">',
        _header(name, tone, state),
        _stage_bar(name, tone, stage, marks),
        _message(state.get("message"), tone),
        _details(state.get("additional_details")),
        _error(state.get("error")),
        _error(state.get("retried"), "stw-retried"),
        f'<div class="stw-panels" style="{_PANELS_STYLE}">',
        _definitions(
            ("Task id", _code(state.get("task_id"))),
            ("Index", _code(state.get("index_id"))),
            style=_PANEL_STYLES[0],
        ),
        _definitions(*_timing(state), style=_PANEL_STYLES[1]),
        "</div></div>",
    ]
    return "".join(parts)


def list_document(summary: str, rows: Sequence[Mapping[str, Any]], state: Mapping[str, Any]) -> str:
    """The last frame of a TaskListWidget: summary, counts, bar, timing, rows failed first."""
    total = len(rows)
    done = sum(1 for row in rows if row.get("state") in TERMINAL_STATES)
    failed = sum(1 for row in rows if row.get("state") == FAILED)
    ordered = sorted(rows, key=lambda row: (row.get("state") != FAILED, not row.get("error")))
    shown = "".join(_list_row(row) for row in ordered[:MAX_ROWS])
    more = f"<p>… and {total - MAX_ROWS} more tasks</p>" if total > MAX_ROWS else ""
    return "".join(
        [
            f'<div class="stw-list-root stw-document" style="{_ROOT_STYLE}">',
            f'<div class="stw-list-header"><strong class="stw-list-summary">{_text(summary)}'
            f"</strong>{_counts(rows)}</div>",
            _list_bar(done, failed, total),
            _error(state.get("error"), "stw-list-error"),
            _definitions(
                ("First submitted", _utc(state.get("first_submitted"))),
                ("Last completed", _utc(state.get("last_completed"))),
                cls="stw-list-times",
            ),
            f'<ul class="stw-list-rows" aria-label="Tasks">{shown}</ul>{more}',
            timeline_figure(rows),  # after the rows, which matter most
            "</div>",
        ]
    )


def snapshot_words(taken_at: float, unfinished: int, total: int) -> str:
    """What a copy saved before the end says of itself: when it was taken (epoch seconds,
    UTC) and that what it shows had not ended then. Nothing updates a saved copy."""
    when = datetime.fromtimestamp(taken_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if total == 0:
        running = "it watched no task then"
    elif total == 1:
        running = "the task had not ended then"
    else:
        running = f"{unfinished} of {total} tasks had not ended then"
    return f"Snapshot taken {when}: {running}; this copy does not update."


def snapshot_note(taken_at: float, unfinished: int, total: int) -> str:
    """:func:`snapshot_words` as a paragraph to put before a document."""
    words = _text(snapshot_words(taken_at, unfinished, total))
    return f'<p class="stw-snapshot" role="note"><strong>Snapshot.</strong> {words}</p>'


# -- pieces of a task's document ------------------------------------------------------


def _header(name: str, tone: str, state: Mapping[str, Any]) -> str:
    badge = (
        f'<span class="stw-badge" style="{_colour("border", PALETTE[tone], "1px solid ")};'
        "border-radius:9px;"
        f'padding:0 8px;font-weight:600">{_text(name)}</span>{unstyled(" ·")} '
        if name
        else ""
    )
    kind = state.get("task_type")
    kind_html = f'<span class="stw-type">{_text(kind)}</span>{unstyled(" ·")} ' if kind else ""
    description = state.get("state_description") or ("" if name else "Not checked yet")
    return (
        f'<div class="stw-header">{badge}{kind_html}'
        f'<span class="stw-desc">{_text(description)}</span></div>'
    )


def _stage_bar(name: str, tone: str, stage: int, marks: str) -> str:
    segments = "".join(
        f'<span class="stw-seg{" stw-seg-on" if i < stage else ""}" style="display:inline-block;'
        f"width:24%;height:8px;margin-right:1%;border-radius:4px;"
        f'{_colour("background", PALETTE[tone] if i < stage else EMPTY_COLOUR)}"></span>'
        for i in range(4)
    )
    labels = unstyled(" · ").join(
        f'<span class="stw-label{" stw-label-on" if i < stage else ""}" '
        f'style="display:inline-block;width:25%;text-align:center">{label}</span>'
        for i, label in enumerate(STAGES)
    )
    # Without styles the bar is gone: say where the task is, before the stages' names.
    labels = unstyled(f"{stage_text(name, stage)}. Stages: ") + labels
    return (
        f'<div class="stw-progress"><div class="stw-bar" role="progressbar" '
        f'aria-label="Task progress" aria-valuemin="0" aria-valuemax="4" '
        f'aria-valuenow="{stage}" aria-valuetext="{_text(stage_text(name, stage))}" {marks}>'
        f'{segments}</div><div class="stw-labels" aria-hidden="true" style="font-size:11px">'
        f"{labels}</div></div>"
    )


def _message(message: object, tone: str) -> str:
    if not message:
        return ""
    return (
        f'<div class="stw-message" data-tone="{tone}">{_text(_cut(str(message), MAX_TEXT))}</div>'
    )


def _details(details: object) -> str:
    if details is None:
        return ""
    try:
        text = json.dumps(details, indent=2, sort_keys=True)
    except (TypeError, ValueError):
        text = str(details)
    return (
        '<details class="stw-details" open><summary>Additional details</summary>'
        f'<pre class="stw-pre">{_text(_cut(text, MAX_DETAILS))}</pre></details>'
    )


def _error(error: object, cls: str = "stw-error") -> str:
    return f'<div class="{cls}">{_text(_cut(str(error), MAX_TEXT))}</div>' if error else ""


def _timing(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    times = state.get("stage_times") or {}
    name = str(state.get("state") or "")
    spans = phases(
        _epoch_ms(state.get("creation_date")),
        _number(times.get(PROGRESS)),
        _epoch_ms(state.get("completion_date")),
        _number(state.get("last_checked")) or None,  # a snapshot's clock stops there
        waiting=name in QUEUED_STATES,
    )
    return [
        ("Submitted", _utc(state.get("creation_date"))),
        ("Completed", _utc(state.get("completion_date"))),
        ("Elapsed", phase_text(spans.elapsed, spans.elapsed)),
        ("Queued", phase_text(spans.queued, spans.elapsed)),
        ("Running", phase_text(spans.running, spans.elapsed)),
    ]


def phase_text(seconds: int | None, elapsed: int | None) -> str:
    """A part of :func:`~.._model.timing.phases` for people: unknown within a known whole
    is :data:`NOT_SEEN`; with nothing known, a dash."""
    if seconds is not None:
        return format_duration(seconds)
    return NOT_SEEN if elapsed is not None else "—"


def _epoch_ms(value: object) -> float | None:
    moment = parse_service_date(value)
    return moment.timestamp() * 1000 if moment is not None else None


def _number(value: object) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok else None  # type: ignore[arg-type]


# -- pieces of a list's document ------------------------------------------------------


def _counts(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows' counts by state, in the live list's order, which is the bar's (tasks not
    checked yet last), each with its colour."""
    counts = count_states(str(row.get("state") or "") for row in rows)
    items = " ".join(  # spaces between: the words stay apart when copied or read as text
        f'<li class="stw-list-count" data-tone="{tone}" style="display:inline;margin-left:1em;'
        f'padding:0 6px;border-radius:9px;{_colour("border", PALETTE[tone], "1px solid ")}">'
        f"{n} {_text(NOT_CHECKED if s == UNCHECKED else s)}</li>"
        for s, n in counts.items()
        for tone in [tone_of("" if s == UNCHECKED else s)]
    )
    return (
        '<ul class="stw-list-counts" aria-label="Tasks by state" '
        f'style="display:inline;padding:0">{items}</ul>'
    )


def _list_bar(done: int, failed: int, total: int) -> str:
    succeeded = max(0, done - failed)
    widths = [
        (succeeded, PALETTE["success"]),
        (failed, PALETTE["failed"]),
        (total - done, EMPTY_COLOUR),
    ]
    segments = "".join(
        f'<span style="display:inline-block;height:8px;width:{100 * n / total:.1f}%;'
        f'{_colour("background", colour)}"></span>'
        for n, colour in widths
        if n and total
    )
    return (
        f'<div class="stw-list-bar" role="progressbar" aria-label="Tasks ended" aria-valuemin="0" '
        f'aria-valuemax="{total}" aria-valuenow="{done}" aria-valuetext="{done} of {total} ended, '
        f'{failed} failed" style="border-radius:4px;overflow:hidden;line-height:0">{segments}</div>'
    )


def _list_row(row: Mapping[str, Any]) -> str:
    state = str(row.get("state") or "")
    tone = tone_of(state)
    words = row.get("message") or row.get("error") or row.get("state_description") or ""
    if row.get("retried"):
        words = f"{words}. {row['retried']}" if words else str(row["retried"])
    return (
        f'<li class="stw-list-row" data-state="{_text(state)}" data-tone="{tone}" '
        f'data-task-id="{_text(row.get("task_id"))}"><span class="stw-list-badge" '
        f'style="{_colour("border", PALETTE[tone], "1px solid ")};border-radius:9px;padding:0 6px">'
        f'{_text(state or NOT_CHECKED)}</span> <code class="stw-list-id">'
        f'{_text(row.get("task_id"))}</code> <span class="stw-list-desc">'
        f"{_text(_cut(str(words), 300))}</span></li>"
    )


# -- text -----------------------------------------------------------------------------


def unstyled(text: str) -> str:
    """``text`` only where styles are stripped (GitHub, sanitisers): separators and words
    that the styled layout says with space, colour and bars instead."""
    return f'<span class="stw-plain" style="display:none">{_text(text)}</span>'


def _definitions(*pairs: tuple[str, str], cls: str = "stw-dl", style: str = "") -> str:
    items = "".join(_definition(label, value, bool(style)) for label, value in pairs if value)
    laid_out = f' style="{style}"' if style else ""
    return f'<dl class="{cls}"{laid_out}>{items}</dl>'


def _definition(label: str, value: str, in_grid: bool = False) -> str:
    # The task id's cell is laid out like the live view's (id and copy button in a row).
    cell = ' class="stw-id-cell"' if label == "Task id" else ""
    margin = f' style="{_VALUE_STYLE}"' if in_grid else ""
    return f"<dt>{_text(label)}</dt><dd{cell}{margin}>{value}</dd>"


def _code(value: object) -> str:
    return f'<code class="stw-mono">{_text(value)}</code>' if value else "—"


def _utc(value: object) -> str:
    moment = parse_service_date(value)
    if moment is None:
        return _text(value) if value else "—"
    return utc_text(moment)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _text(value: object) -> str:
    """``value`` as HTML text (element or attribute): escaped, bidi controls visible."""
    return html.escape("" if value is None else str(value)).translate(BIDI_ESCAPES)
