"""The timeline of a task list as static SVG, for the document a finished list leaves behind
and for :meth:`TaskListWidget.to_html`.

It draws what ``js/timeline.js`` draws live, from the same rows: counts over time, tasks
finished per minute, and one bar per task (queued part pale, running part solid, ended
green / red / grey, with a shape as well as a colour: failed dashed outline, other ends
hollow), its row numbered at the left as :func:`row_labels` says. Rows are as many px tall
as live (:func:`row_height`); the drawing stretches to the page's width only, its strokes
keeping their width, so row labels in HTML (11 px) stay beside their rows at any width.
Colours as plain values (kept where styles are dropped) plus theme variables in ``style``
where they are kept; text is escaped and inherits the page's colour. Bars are capped at
:data:`MAX_BARS` (the rest are counted), so a saved notebook stays small.

``started`` in a row is when the widget first saw the task running (epoch ms): the service
does not say when a task left the queue (see ``_tracking.rows.row_of``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._model.task import format_duration, parse_service_date
from .._model.timing import Phases, phases
from .._model.vocabulary import (
    ACTIVE_STATES,
    CANCELLED,
    FAILED,
    NO_TASKS,
    NOT_CHECKED_YET,
    OUTCOME_WORDS,
    PALETTE,
    QUEUED_STATES,
    SUCCESS,
    TERMINAL_STATES,
    tone_of,
    utc_text,
)

#: Most bars drawn; the chart says how many more tasks it left out.
MAX_BARS = 200
#: Width of the drawing in px (it scales down to the page).
WIDTH = 720
# Vertical layout, px (the words are HTML above the drawing, see timeline_figure).
_COUNTS_TOP, _COUNTS_H = 2, 46
_RATE_TOP, _RATE_H = _COUNTS_TOP + _COUNTS_H + 8, 22
_BARS_TOP = _RATE_TOP + _RATE_H + 6
_SAMPLES = 80
_BUCKETS = 40
_SERIES = (
    ("queued", "queue", "1 3", 1.5),
    ("running", "running", "5 3", 1.5),
    ("done", "success", "", 2.5),
    ("failed", "failed", "8 2 1 2", 2.5),
)


#: Stroke widths in px whatever the drawing's horizontal stretch.
_FIXED_STROKE = ' vector-effect="non-scaling-stroke"'


def row_height(n: int) -> int:
    """Height of one bar's row in px for ``n`` bars: tall when few, thin when many
    (``barHeight`` in js/timeline.js)."""
    return max(3, min(14, 240 // max(1, n)))


def row_step(height: int) -> int:
    """Rows from one label to the next: labels of 11 px text stay 12 px apart on rows of
    ``height`` px (``rowStep`` in js/timeline.js)."""
    return 1 if height >= 12 else 2 if height >= 6 else 5


def row_labels(task_ids: Sequence[str]) -> list[str]:
    """The labels beside the bars of these tasks (in submission order), one for each
    :func:`row_step`-th row: its number, with the task's short id where every row has one
    (``rowLabels`` in js/timeline.js; the cases in tests/timeline_cases.json)."""
    step = row_step(row_height(len(task_ids)))
    return [
        f"{number} {task_id[:8]}" if step == 1 else str(number)
        for number, task_id in enumerate(task_ids, 1)
        if number % step == 0
    ]


#: What the summary counts after "succeeded" and "failed", in its order.
_OTHER_KINDS = (
    (CANCELLED, OUTCOME_WORDS[CANCELLED]),
    ("running", "running"),
    ("unchecked", NOT_CHECKED_YET),
    ("fatal", "could not be checked"),
    ("other", "in other states"),
)


def _kind(row: Mapping[str, Any]) -> str:
    """What the summary counts a row as (each row once)."""
    state = str(row.get("state") or "")
    if state in TERMINAL_STATES:
        return state
    if row.get("trouble") == "fatal":
        return "fatal"
    if not state:
        return "unchecked"
    return "running" if state in ACTIVE_STATES else "other"


def with_static_copy(page: str, document: str) -> str:
    """``page`` (from :func:`.static.standalone_html`) with ``document`` in a
    ``<noscript>`` after the live view's element: read where scripts do not run."""
    marker = '<div id="stw-export"></div>'
    return page.replace(marker, f"{marker}\n<noscript>{document}</noscript>", 1)


@dataclass(frozen=True)
class _Bar:
    task_id: str
    state: str
    created: float  # epoch seconds
    started: float | None
    ended: float | None
    fatal: bool

    @property
    def tone(self) -> str:
        if self.fatal and self.ended is None:
            return "unknown"
        return tone_of(self.state) if self.state in (SUCCESS, FAILED) else "unknown"


def bars_of(rows: Sequence[Mapping[str, Any]]) -> list[_Bar]:
    """The rows with a creation date as bars, ordered by submission (stable)."""
    bars = []
    for row in rows:
        created = parse_service_date(row.get("creation_date"))
        if created is None:
            continue
        ended_at = parse_service_date(row.get("completion_date"))
        ended = ended_at.timestamp() if ended_at else None
        start = _number(row.get("started"))
        c = created.timestamp()
        started = None if start is None else max(c, min(start / 1000, ended or math.inf))
        state = str(row.get("state") or "")
        fatal = row.get("trouble") == "fatal"
        bars.append(_Bar(str(row.get("task_id") or ""), state, c, started, ended, fatal))
    return sorted(bars, key=lambda bar: bar.created)


def timeline_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """ "312 tasks: 300 succeeded, 4 failed, 8 running; median queue 41 s, median run 12 s",
    word for word as ``timelineSummary`` in ``js/timeline.js`` says it."""
    n = len(rows)
    if not n:
        return NO_TASKS
    kinds = [_kind(row) for row in rows]
    parts = [f"{kinds.count(end)} {OUTCOME_WORDS[end]}" for end in (SUCCESS, FAILED)]
    for kind, word in _OTHER_KINDS:
        if kinds.count(kind):
            parts.append(f"{kinds.count(kind)} {word}")
    text = f"{n} task{'' if n == 1 else 's'}: {', '.join(parts)}"
    # Each task's parts as its own document shows them (one timing truth), then the median.
    spans = [_phases(bar) for bar in bars_of(rows)]
    queue = _median([float(s.queued) for s in spans if s.queued is not None])
    run = _median([float(s.running) for s in spans if s.running is not None])
    medians = [
        f"median {name} {format_duration(math.floor(value))}"
        for name, value in (("queue", queue), ("run", run))
        if value is not None
    ]
    return f"{text}; {', '.join(medians)}" if medians else text


def _phases(bar: _Bar) -> Phases:
    """A bar's parts, from its boundaries in epoch ms (see :mod:`.._model.timing`)."""
    ms = [None if t is None else t * 1000 for t in (bar.started, bar.ended)]
    return phases(bar.created * 1000, ms[0], ms[1])


def timeline_figure(rows: Sequence[Mapping[str, Any]], now: float | None = None) -> str:
    """A ``<figure>`` with the timeline as SVG and the summary as its caption ("" for no
    dated task). ``now`` (epoch s) ends bars still running; default: the last time seen."""
    bars = bars_of(rows)
    if not bars:
        return ""
    t0 = min(b.created for b in bars)
    seen = [t for b in bars for t in (b.created, b.started, b.ended) if t is not None]
    t1 = max(max(seen), now or 0.0, t0 + 1.0)
    summary = timeline_summary(rows)
    shown = bars[:MAX_BARS]
    bar_h = row_height(len(shown))
    top = _BARS_TOP
    height = top + bar_h * len(shown) + 18
    x = _scale(t0, t1)
    counts, peak = _counts_chart(bars, t0, t1, x)
    # Tasks finished per minute, only where that tells something: ends over more than a
    # minute (else it is one block, as tall as the chart).
    ends = [b.ended for b in bars if b.ended is not None]
    rate = _rate_chart(bars, t0, t1) if ends and max(ends) - min(ends) >= 60 else ""
    if not rate:
        top -= _BARS_TOP - _RATE_TOP
        height -= _BARS_TOP - _RATE_TOP
    more = len(bars) - len(shown)
    note = f" The first {len(shown)} tasks are drawn; {more} more are not." if more else ""
    # Every word is HTML beside the drawing, none inside it: where a sanitiser strips the
    # SVG (GitHub, an untrusted JupyterLab output), what is left still reads as sentences.
    # Stretched to the width only (preserveAspectRatio none): rows keep their px height.
    return (
        '<figure class="stw-tl stw-tl-static" style="margin:8px 0">'
        f"{_scale_words(t0, t1, peak, rate)}{_legend_html(bars)}"
        f'<div style="display:flex;align-items:flex-start">{_row_labels(shown, top, bar_h)}'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" height="{height}" preserveAspectRatio="none" '
        'style="display:block;flex:1;min-width:0" role="img" '
        f'aria-label="{_esc("Timeline. " + summary)}" fill="currentColor">'
        f"{counts}{rate}{_bars(shown, top, bar_h, x, t1)}</svg></div>"
        f'<figcaption class="stw-tl-summary" style="font-size:11px">{_esc(summary + "." + note)}'
        "</figcaption></figure>"
    )


def _scale_words(t0: float, t1: float, peak: int, rate: str) -> str:
    """What the axes say, as a sentence above the drawing."""
    lines = f"lines: tasks queued, running and ended at each moment (at most {peak} at once)"
    middle = "; blocks: tasks finished per minute" if rate else ""
    return (
        '<p class="stw-tl-scale" style="margin:0;font-size:11px">'
        f"From {_esc(utc_text(t0))} to {_esc(utc_text(t1))}. Top {lines}{middle}; below, one "
        "bar per task in order of submission, its row numbered at the left.</p>"
    )


def _row_labels(bars: list[_Bar], top: int, bar_h: int) -> str:
    """The row labels, a column beside the drawing: each item as tall as the rows it stands
    for, its text centred on the first (the drawing's rows are px, see timeline_figure)."""
    step = row_step(bar_h)
    item = f'<li style="height:{step * bar_h}px;line-height:{bar_h}px">'
    labels = "".join(f"{item}{_esc(label)}</li>" for label in row_labels([b.task_id for b in bars]))
    return (
        '<ul class="stw-tl-rows" aria-hidden="true" style="flex:none;margin:0;'
        f"padding:{top + (step - 1) * bar_h}px 4px 0 0;list-style:none;font-size:11px;"
        f'text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums">{labels}</ul>'
    )


#: The legend: what each mark means, in the order drawn.
_LEGEND = (
    ("queued", "queue", "line", "1 3"),
    ("running", "running", "line", "5 3"),
    ("succeeded", "success", "line", ""),
    ("failed", "failed", "line", "8 2 1 2"),
)


def _legend_html(bars: list[_Bar]) -> str:
    """An HTML list, each name after a sample of its mark (drawn by inline styles, gone
    where styles are stripped, leaving the names)."""
    items = [
        _legend_item(f"border-top:2px {'dashed' if dash else 'solid'} ", tone, name)
        for name, tone, _, dash in _LEGEND
    ]
    items.append(_legend_item("height:6px;border:1px solid ", "queue", "queued (bar)"))
    if any(b.started is None and b.ended is not None for b in bars):
        # A bar whose start the poller never saw: queued and running not told apart.
        items.append(_legend_item("height:6px;border:1px dotted currentColor;background:",
                                  "success", "queue and run not seen (dotted bar)"))  # fmt: skip
    return (
        '<ul class="stw-tl-legend" aria-label="Legend" '
        f'style="margin:2px 0;padding:0;font-size:11px">{" ".join(items)}</ul>'
    )


def _legend_item(mark: str, tone: str, name: str) -> str:
    _, plain = PALETTE[tone]
    swatch = (
        f'<span style="display:inline-block;width:18px;vertical-align:middle;margin-right:4px;'
        f'{mark}{plain}"></span>'
    )
    return f'<li style="display:inline-block;margin-right:12px">{swatch}{_esc(name)}</li>'


# -- pieces -----------------------------------------------------------------------------


def _scale(t0: float, t1: float) -> Any:
    return lambda t: WIDTH * (t - t0) / (t1 - t0)


def _paint(prop: str, tone: str) -> tuple[str, str]:
    """A presentation attribute (plain colour) and a style declaration (theme variable)."""
    variable, plain = PALETTE[tone]
    return f'{prop}="{plain}"', f"{prop}:var({variable},{plain})"


def _counts_chart(bars: list[_Bar], t0: float, t1: float, x: Any) -> tuple[str, int]:
    """The lines of queued, running and ended tasks over time, and their scale's top."""
    samples = []
    for i in range(_SAMPLES + 1):
        t = t0 + (t1 - t0) * i / _SAMPLES
        samples.append((t, _counts_at(bars, t)))
    peak = max(1, *(max(c.values()) for _, c in samples))
    lines = []
    for key, tone, dash, width in _SERIES:
        points = " ".join(
            f"{x(t):.1f},{_COUNTS_TOP + _COUNTS_H - 1 - (_COUNTS_H - 2) * c[key] / peak:.1f}"
            for t, c in samples
        )
        attr, style = _paint("stroke", tone)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        lines.append(
            f'<polyline class="stw-tl-{key}" points="{points}" fill="none" {attr} '
            f'style="{style}" stroke-width="{width}"{dashes}{_FIXED_STROKE}/>'
        )
    return f'<g class="stw-tl-counts">{"".join(lines)}</g>', peak


def _counts_at(bars: list[_Bar], t: float) -> dict[str, int]:
    c = {"queued": 0, "running": 0, "done": 0, "failed": 0}
    for b in bars:
        if b.created > t:
            continue
        if b.ended is not None and b.ended <= t:
            c["failed" if b.state == FAILED else "done"] += 1
        elif b.started is None and b.ended is None and (b.fatal or b.state not in ACTIVE_STATES):
            continue  # stopped being checked: nothing known after that
        elif (b.started is None and b.state not in QUEUED_STATES) or (
            b.started is not None and b.started <= t
        ):
            c["running"] += 1
        else:
            c["queued"] += 1
    return c


def _rate_chart(bars: list[_Bar], t0: float, t1: float) -> str:
    minutes = max(1, math.ceil((t1 - t0) / 60 / _BUCKETS))
    size = minutes * 60
    counts = [0] * max(1, math.ceil((t1 - t0) / size))
    for b in bars:
        if b.ended is not None:
            counts[min(len(counts) - 1, max(0, int((b.ended - t0) // size)))] += 1
    peak = max(counts) / minutes
    w = WIDTH / len(counts)
    attr, style = _paint("fill", "running")
    rects = "".join(
        f'<rect x="{i * w + 0.5:.1f}" width="{max(0.5, w - 1):.1f}" '
        f'y="{_RATE_TOP + _RATE_H - _RATE_H * n / minutes / (peak or 1):.1f}" '
        f'height="{_RATE_H * n / minutes / (peak or 1):.1f}" {attr} style="{style}"/>'
        for i, n in enumerate(counts)
        if n
    )
    return f'<g class="stw-tl-rate">{rects}</g>'


def _bars(bars: list[_Bar], top: int, bar_h: int, x: Any, t1: float) -> str:
    """Bare rects, grouped by how they are painted (a bar's place is its y, not its
    position among the elements): about 100 bytes a task. Outlined rects keep their
    stroke's width when the drawing stretches (solid ones need not: they have none)."""
    groups: dict[str, list[str]] = {}
    h = max(1, bar_h - 1)
    for i, b in enumerate(bars):
        end = b.ended if b.ended is not None else (t1 if not b.fatal else b.created)
        y = top + i * bar_h
        run_from = b.started if b.started is not None else b.created
        if b.started is not None:
            width = max(0.0, x(run_from) - x(b.created))
            groups.setdefault("queue", []).append(_rect(x(b.created), y, width, h, True))
        tone = b.tone if b.ended is not None or b.fatal else "running"
        key = f"{tone}{'' if b.started is not None else '-unsplit'}"
        outlined = tone in ("failed", "unknown") or b.started is None
        run = _rect(x(run_from), y, max(1.5, x(end) - x(run_from)), h, outlined)
        groups.setdefault(key, []).append(run)
    return "".join(_group(key, rects) for key, rects in groups.items())


def _rect(x: float, y: int, width: float, height: int, outlined: bool) -> str:
    stroke = _FIXED_STROKE if outlined else ""
    return f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}"{stroke}/>'


def _group(key: str, rects: list[str]) -> str:
    tone, _, unsplit = key.partition("-")
    attr, style = _paint("fill", tone)
    # A shape as well as a colour: failed dashed outline, other ends hollow, queue pale,
    # no start seen paler.
    # Every mark keeps 3:1 against light and dark pages: a pale fill has a full-colour
    # outline, and no start seen is a dotted outline rather than a paler fill.
    plain = PALETTE[tone][1]
    shape = {
        "queue": f' fill-opacity="0.3" stroke="{plain}"',
        "failed": ' stroke="currentColor" stroke-dasharray="2 2"',
        "unknown": ' fill-opacity="0" stroke="currentColor"',
    }.get(tone, "")
    if unsplit:
        shape += ' stroke="currentColor" stroke-dasharray="1 2"'
    cls = "stw-tl-queue" if tone == "queue" else f"stw-tl-run stw-tl-{key}"
    return f'<g class="{cls}" {attr} style="{style}"{shape}>{"".join(rects)}</g>'


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _esc(value: object) -> str:
    return html.escape(str(value))
