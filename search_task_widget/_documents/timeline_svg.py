"""The timeline of a task list as static SVG, for the document a finished list leaves behind
and for :meth:`TaskListWidget.to_html`.

It draws what ``js/timeline.js`` draws live, from the same rows: counts over time, tasks
finished per minute, and one bar per task (queued part pale, running part solid, ended
green / red / grey, with a shape as well as a colour: failed dashed outline, other ends
hollow). Pixel geometry in a fixed viewBox that scales down with the page; colours as plain
values (kept where styles are dropped) plus theme variables in ``style`` where they are
kept; text is escaped and inherits the page's colour. Bars are capped at :data:`MAX_BARS`
(the rest are counted), so a saved notebook stays small.

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
# Vertical layout, px: a label line above each chart, so no text crosses a line.
_LABEL = 14
_COUNTS_TOP, _COUNTS_H = _LABEL, 46
_RATE_TOP, _RATE_H = _COUNTS_TOP + _COUNTS_H + _LABEL + 2, 22
_BARS_TOP = _RATE_TOP + _RATE_H + 6
_SAMPLES = 80
_BUCKETS = 40
_SERIES = (
    ("queued", "queue", "1 3", 1.5),
    ("running", "running", "5 3", 1.5),
    ("done", "success", "", 2.5),
    ("failed", "failed", "8 2 1 2", 2.5),
)


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
    bars = bars_of(rows)
    # In whole ms, then floored to seconds: as the front end computes and says it.
    queue = _median([_ms(b.started - b.created) for b in bars if b.started is not None])
    run = _median(
        [_ms(b.ended - b.started) for b in bars if b.started is not None and b.ended is not None]
    )
    medians = [
        f"median {name} {format_duration(math.floor(value / 1000))}"
        for name, value in (("queue", queue), ("run", run))
        if value is not None
    ]
    return f"{text}; {', '.join(medians)}" if medians else text


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
    bar_h = max(2, min(12, 240 // len(shown)))
    top = _BARS_TOP
    height = top + bar_h * len(shown) + 18
    x = _scale(t0, t1)
    body = [
        _counts_chart(bars, t0, t1, x),
        _rate_chart(bars, t0, t1),
        _bars(shown, top, bar_h, x, t1),
        _axis(t0, t1, height),
    ]
    more = len(bars) - len(shown)
    note = f" The first {len(shown)} tasks are drawn; {more} more are not." if more else ""
    return (
        '<figure class="stw-tl stw-tl-static" style="margin:8px 0">'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" style="max-width:100%;height:auto" role="img" '
        f'aria-label="{_esc("Timeline. " + summary)}" font-size="11" fill="currentColor">'
        f"{''.join(body)}</svg>"
        f'<figcaption class="stw-tl-summary" style="font-size:11px">{_esc(summary + "." + note)}'
        "</figcaption></figure>"
    )


# -- pieces -----------------------------------------------------------------------------


def _scale(t0: float, t1: float) -> Any:
    return lambda t: WIDTH * (t - t0) / (t1 - t0)


def _paint(prop: str, tone: str) -> tuple[str, str]:
    """A presentation attribute (plain colour) and a style declaration (theme variable)."""
    variable, plain = PALETTE[tone]
    return f'{prop}="{plain}"', f"{prop}:var({variable},{plain})"


def _counts_chart(bars: list[_Bar], t0: float, t1: float, x: Any) -> str:
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
            f'style="{style}" stroke-width="{width}"{dashes}/>'
        )
    return (
        f'<g class="stw-tl-counts"><text x="0" y="{_LABEL - 3}">tasks (0 to {peak})</text>'
        f"{_legend()}{''.join(lines)}</g>"
    )


def _legend() -> str:
    """A sample of each line (its colour and its dashes) before its name, top right."""
    items = []
    for i, ((_, tone, dash, width), name) in enumerate(
        zip(_SERIES, ("queued", "running", "succeeded", "failed"), strict=True)
    ):
        x0 = WIDTH - 400 + 100 * i
        attr, style = _paint("stroke", tone)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            f'<line x1="{x0}" x2="{x0 + 18}" y1="{_LABEL - 7}" y2="{_LABEL - 7}" {attr} '
            f'style="{style}" stroke-width="{width}"{dashes}/>'
            f'<text x="{x0 + 22}" y="{_LABEL - 3}">{name}</text>'
        )
    return f'<g class="stw-tl-legend">{"".join(items)}</g>'


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
    step = f", {minutes}-minute steps" if minutes > 1 else ""
    label = f"finished per minute (most {round(peak, 1):g}{step})"
    return f'<g class="stw-tl-rate"><text x="0" y="{_RATE_TOP - 3}">{_esc(label)}</text>{rects}</g>'


def _bars(bars: list[_Bar], top: int, bar_h: int, x: Any, t1: float) -> str:
    """Bare rects, grouped by how they are painted (a bar's place is its y, not its
    position among the elements): about 100 bytes a task."""
    groups: dict[str, list[str]] = {}
    h = max(1, bar_h - 1)
    for i, b in enumerate(bars):
        end = b.ended if b.ended is not None else (t1 if not b.fatal else b.created)
        y = top + i * bar_h
        run_from = b.started if b.started is not None else b.created
        if b.started is not None:
            width = max(0.0, x(run_from) - x(b.created))
            groups.setdefault("queue", []).append(_rect(x(b.created), y, width, h))
        tone = b.tone if b.ended is not None or b.fatal else "running"
        key = f"{tone}{'' if b.started is not None else '-unsplit'}"
        groups.setdefault(key, []).append(_rect(x(run_from), y, max(1.5, x(end) - x(run_from)), h))
    return "".join(_group(key, rects) for key, rects in groups.items())


def _rect(x: float, y: int, width: float, height: int) -> str:
    return f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}"/>'


def _group(key: str, rects: list[str]) -> str:
    tone, _, unsplit = key.partition("-")
    attr, style = _paint("fill", tone)
    # A shape as well as a colour: failed dashed outline, other ends hollow, queue pale,
    # no start seen paler.
    shape = {
        "queue": ' fill-opacity="0.4"',
        "failed": ' stroke="currentColor" stroke-dasharray="2 2"',
        "unknown": ' fill-opacity="0" stroke="currentColor"',
    }.get(tone, "")
    if unsplit:
        shape += ' opacity="0.6"'
    cls = "stw-tl-queue" if tone == "queue" else f"stw-tl-run stw-tl-{key}"
    return f'<g class="{cls}" {attr} style="{style}"{shape}>{"".join(rects)}</g>'


def _axis(t0: float, t1: float, height: int) -> str:
    return (
        f'<g class="stw-tl-axis"><text x="0" y="{height - 4}">{utc_text(t0)}</text>'
        f'<text x="{WIDTH}" y="{height - 4}" text-anchor="end">{utc_text(t1)}</text></g>'
    )


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
