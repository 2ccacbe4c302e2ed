// @ts-check
// The timeline of TaskListWidget: each task a bar over wall-clock time (queued
// part, running part, how it ended), the counts over time and the throughput above it, and
// a one-sentence summary for screen readers. It reads only the synced rows: no traffic of
// its own. The first half is pure layout (tested with `node --test js/test/`); the second
// half draws it.
//
// SVG, not canvas (bench/bench_timeline.py measures both for 500 tasks): canvas draws a
// frame faster, but SVG draws 500 bars well inside one frame too, and gives each bar a real
// element to focus, name for screen readers and test, with colours from CSS theme variables.
// Geometry is in a fixed viewBox stretched to the width (preserveAspectRatio="none",
// strokes that do not scale), so a resize costs nothing.
import { h, setAttr, setHidden, setText } from "./dom.js";
import { fmtDuration, parseUtc } from "./format.js";
import { ACTIVE, QUEUED, TERMINAL, toneOf } from "./stages.js";
import { NOT_SEEN, phases } from "./timing.js";
import { CANCELLED, FAILED, NO_TASKS, NOT_CHECKED_YET, OUTCOME_WORDS, SUCCESS } from "./vocabulary.js";

/** Width of every viewBox: x positions are thousandths of the time span. */
export const TL_WIDTH = 1000;
/** Samples of the counts over time. */
export const TL_SAMPLES = 80;
/** Most throughput buckets; a bucket is a whole number of minutes. */
export const TL_BUCKETS = 40;

/**
 * One task on the time axis (times in epoch ms; NaN when unknown).
 * @typedef {{ id: string, state: string, tone: string, created: number, started: number,
 *   ended: number, running: boolean, fatal: boolean }} Bar
 */

/**
 * The rows as bars, ordered by submission (rows with no creation date are left out).
 * `started` is when the widget first saw the task running (the service does not say).
 * @param {Array<{task_id: string, state: string, creation_date: string,
 *   completion_date: string | null, started?: number | null, trouble?: string}>} rows
 * @returns {Bar[]}
 */
export function timelineBars(rows) {
  const bars = [];
  for (const row of rows) {
    const created = parseUtc(row.creation_date);
    if (Number.isNaN(created)) continue;
    const ended = parseUtc(row.completion_date);
    const seen = Number(row.started);
    const fatal = row.trouble === "fatal";
    bars.push({
      id: row.task_id,
      state: row.state,
      tone: toneOf(row.state),
      created,
      // A start outside the task's own span is a clock difference: clamp it in.
      started: row.started == null || !Number.isFinite(seen) ? NaN : tlClamp(seen, created, ended),
      ended,
      running: Number.isNaN(ended) && !fatal && (ACTIVE.has(row.state) || !row.state),
      fatal,
    });
  }
  // Stable: equal creation dates keep the rows' order.
  return bars.sort((a, b) => a.created - b.created);
}

/** @param {number} v @param {number} lo @param {number} hi (NaN: no upper bound) */
function tlClamp(v, lo, hi) {
  return Math.max(lo, Number.isNaN(hi) ? v : Math.min(v, hi));
}

/**
 * The time span to draw: first submission to the last end, or to `now` while tasks run.
 * @param {Bar[]} bars @param {number} now @returns {{ t0: number, t1: number }}
 */
export function timeSpan(bars, now) {
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const b of bars) {
    t0 = Math.min(t0, b.created);
    const end = b.running ? now : b.ended;
    t1 = Math.max(t1, b.created, Number.isNaN(end) ? b.created : end);
  }
  if (!Number.isFinite(t0)) return { t0: now, t1: now + 1000 };
  const length = Math.max(t1 - t0, 1000);
  // While tasks run, the axis ends at a round length past "now", so an update moves only
  // the bars that changed and the "now" line, not all 500 (the axis grows by steps).
  return { t0, t1: t0 + (bars.some((b) => b.running) ? roundUp(length) : length) };
}

/** Up to the next multiple of half a power of ten (200 s -> 200 s, 201 s -> 250 s). @param {number} ms */
export function roundUp(ms) {
  const step = 10 ** Math.floor(Math.log10(ms)) / 2;
  return Math.ceil(ms / step) * step;
}

/**
 * Where one bar's parts lie, in viewBox units (0..TL_WIDTH). `queue` is from submission to
 * the seen start, `run` from there to the end (or now); when no start was seen the whole
 * span is `run` with `split: false` (drawn dotted: queue and run are not told apart).
 * @param {Bar} b @param {{ t0: number, t1: number }} span @param {number} now
 */
export function barGeometry(b, { t0, t1 }, now) {
  const x = (/** @type {number} */ t) => (TL_WIDTH * (t - t0)) / (t1 - t0);
  const end = b.running ? Math.max(now, b.created) : Number.isNaN(b.ended) ? b.created : b.ended;
  let start = b.started;
  if (Number.isNaN(start) && b.running && QUEUED.has(b.state)) start = end; // still queued
  const split = !Number.isNaN(start);
  const from = split ? Math.min(start, end) : b.created;
  const q0 = x(b.created);
  const r0 = x(from);
  return { queueX: q0, queueW: Math.max(0, r0 - q0), runX: r0, runW: Math.max(0, x(end) - r0), split };
}

/**
 * Queued, running, succeeded and failed tasks at TL_SAMPLES evenly spaced moments.
 * @param {Bar[]} bars @param {{ t0: number, t1: number }} span @param {number} now
 * @returns {{ t: number, queued: number, running: number, done: number, failed: number }[]}
 */
export function countsOverTime(bars, { t0, t1 }, now, samples = TL_SAMPLES) {
  const out = [];
  for (let i = 0; i <= samples; i += 1) {
    const t = t0 + ((t1 - t0) * i) / samples;
    const c = { t, queued: 0, running: 0, done: 0, failed: 0 };
    for (const b of bars) {
      if (b.created > t || t > now) continue;
      if (!Number.isNaN(b.ended) && b.ended <= t) {
        if (b.state === FAILED) c.failed += 1;
        else c.done += 1;
      } else if (Number.isNaN(b.started) && Number.isNaN(b.ended) && !b.running) {
        continue; // stopped being checked: nothing known after that
      } else if (Number.isNaN(b.started) ? !(b.running && QUEUED.has(b.state)) : b.started <= t) {
        c.running += 1; // no start seen (and not waiting): counted as working, not queued
      } else c.queued += 1;
    }
    out.push(c);
  }
  return out;
}

/**
 * Tasks finished per minute, in buckets of a whole number of minutes.
 * @param {Bar[]} bars @param {{ t0: number, t1: number }} span
 * @returns {{ minutes: number, perMinute: number[] }}
 */
export function throughput(bars, { t0, t1 }, buckets = TL_BUCKETS) {
  const minutes = Math.max(1, Math.ceil((t1 - t0) / 60000 / buckets));
  const size = minutes * 60000;
  const counts = new Array(Math.max(1, Math.ceil((t1 - t0) / size))).fill(0);
  for (const b of bars) {
    if (Number.isNaN(b.ended)) continue;
    const i = Math.min(counts.length - 1, Math.max(0, Math.floor((b.ended - t0) / size)));
    counts[i] += 1;
  }
  return { minutes, perMinute: counts.map((n) => n / minutes) };
}

/** @param {number[]} values @returns {number} NaN for none */
export function median(values) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * What the chart shows, in one sentence: "312 tasks: 300 succeeded, 4 failed, 8 running;
 * median queue 41 s, median run 12 s". Counts every row, also those with no dates yet.
 * @param {Array<{state: string, trouble?: string}>} rows @param {Bar[]} bars
 */
export function timelineSummary(rows, bars) {
  const n = rows.length;
  if (!n) return NO_TASKS;
  const count = (/** @type {(r: any) => boolean} */ f) => rows.filter(f).length;
  const parts = [
    `${count((r) => r.state === SUCCESS)} ${OUTCOME_WORDS[SUCCESS]}`,
    `${count((r) => r.state === FAILED)} ${OUTCOME_WORDS[FAILED]}`,
  ];
  const extra = [
    [count((r) => r.state === CANCELLED), OUTCOME_WORDS[CANCELLED]],
    [count((r) => ACTIVE.has(r.state) && r.trouble !== "fatal"), "running"],
    [count((r) => !r.state && r.trouble !== "fatal"), NOT_CHECKED_YET],
    [count((r) => r.trouble === "fatal" && !TERMINAL.has(r.state)), "could not be checked"],
    [count((r) => r.state && !ACTIVE.has(r.state) && !TERMINAL.has(r.state) && r.trouble !== "fatal"), "in other states"],
  ];
  for (const [k, word] of extra) if (k) parts.push(`${k} ${word}`);
  let text = `${n} task${n === 1 ? "" : "s"}: ${parts.join(", ")}`;
  // Each task's parts as its own view shows them (one timing truth, js/timing.js).
  const spans = bars.map((b) => phases(b.created, b.started, b.ended, NaN));
  const queue = median(spans.flatMap((p) => (p.queued == null ? [] : [p.queued])));
  const run = median(spans.flatMap((p) => (p.running == null ? [] : [p.running])));
  const medians = [];
  if (!Number.isNaN(queue)) medians.push(`median queue ${fmtDuration(queue * 1000)}`);
  if (!Number.isNaN(run)) medians.push(`median run ${fmtDuration(run * 1000)}`);
  if (medians.length) text += `; ${medians.join(", ")}`;
  return text;
}

/** Local wall-clock time of day. @param {number} ms */
export function clockTime(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/**
 * A bar's name for the tooltip and screen readers: task, state and times.
 * "Task 1a2b3c4d: SUCCESS. Submitted 12:00:01, started 12:00:40, ended 12:01:00 (queued 39 s, ran 20 s)"
 * @param {Bar} b @param {number} now
 */
export function barLabel(b, now) {
  const state = b.state || "not checked yet";
  const times = [`submitted ${clockTime(b.created)}`];
  const seen = !Number.isNaN(b.started);
  if (seen) times.push(`started ${clockTime(b.started)}`);
  if (!Number.isNaN(b.ended)) times.push(`ended ${clockTime(b.ended)}`);
  const spans = [];
  const p = phases(b.created, b.started, b.ended, b.running ? now : NaN);
  const s = (/** @type {number} */ n) => fmtDuration(n * 1000);
  if (p.queued != null) spans.push(`queued ${s(p.queued)}`);
  if (p.running != null) spans.push(`${b.running ? "running for" : "ran"} ${s(p.running)}`);
  else if (p.elapsed != null) {
    spans.push(b.running ? `waiting for ${s(p.elapsed)}` : `took ${s(p.elapsed)}, queue and run ${NOT_SEEN}`);
  }
  const tail = spans.length ? ` (${spans.join(", ")})` : "";
  const words = times.join(", ");
  return `Task ${b.id.slice(0, 8)}: ${state}${b.fatal ? " (could not be checked)" : ""}. ${words[0].toUpperCase()}${words.slice(1)}${tail}`;
}

// ---- drawing (SVG) ----------------------------------------------------------------

const TL_SVG_NS = "http://www.w3.org/2000/svg";
/** Height of one bar row in px: tall when few tasks, thin (and scrolled) when many. */
export const barHeight = (/** @type {number} */ n) => Math.max(3, Math.min(14, Math.floor(240 / Math.max(1, n))));
/** Rows from one label to the next, so labels of 11 px text stay 12 px apart (as timeline_svg.py). */
export const rowStep = (/** @type {number} */ bh) => (bh < 6 ? 5 : bh < 12 ? 2 : 1);
/**
 * The labels beside the bars, one for each rowStep-th row: its number by submission, with
 * the task's short id where every row has one (the cases: tests/timeline_cases.json).
 * @param {string[]} ids the bars' task ids, in order
 */
export const rowLabels = (ids, step = rowStep(barHeight(ids.length))) =>
  ids.flatMap((id, i) => ((i + 1) % step ? [] : [`${i + 1}${step > 1 ? "" : ` ${id.slice(0, 8)}`}`]));

/** @param {string} tag @param {Record<string, string | number>} [attrs] @returns {SVGElement} */
function tlSvg(tag, attrs = {}) {
  const e = /** @type {SVGElement} */ (document.createElementNS(TL_SVG_NS, tag));
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** @param {number} v */
const tlNum = (v) => String(Math.round(v * 10) / 10);

/** A stretched viewBox whose strokes keep their width. @param {string} cls @param {number} height */
function tlStretched(cls, height) {
  return tlSvg("svg", {
    class: cls, viewBox: `0 0 ${TL_WIDTH} ${height}`, preserveAspectRatio: "none",
    width: "100%", height, "aria-hidden": "true", focusable: "false",
  });
}

/**
 * Draw the timeline into a new element and return its updater.
 * @param {{ onSelect: (taskId: string) => void }} options
 */
export function mountTimeline({ onSelect }) {
  const root = h("section", "stw-tl", undefined, { "aria-label": "Timeline" });
  const details = /** @type {HTMLDetailsElement} */ (root.appendChild(h("details", "stw-tl-details")));
  details.open = true;
  const head = details.appendChild(h("summary", "stw-tl-head"));
  head.append(h("span", "stw-tl-title", "Timeline"));
  const summary = head.appendChild(h("span", "stw-tl-summary"));
  const body = details.appendChild(h("div", "stw-tl-body"));

  const legend = body.appendChild(h("ul", "stw-tl-legend", undefined, { "aria-hidden": "true" }));
  const series = [["queued", "queued"], ["running", "running"], ["done", "succeeded"], ["failed", "failed"]];
  // A bar whose start the poller never saw (js/timing.js: the split is unknown).
  series.push(["unsplit", `queue and run ${NOT_SEEN} (dotted bar)`]);
  for (const [key, word] of series) {
    const li = legend.appendChild(h("li", "", undefined, { "data-series": key }));
    li.append(h("span", "stw-tl-key"), word);
  }
  const countsSvg = body.appendChild(tlStretched("stw-tl-counts", 60));
  const countsMax = body.appendChild(h("span", "stw-tl-axis-note", "", { "aria-hidden": "true" }));
  const rateSvg = body.appendChild(tlStretched("stw-tl-rate", 24));
  const rateNote = body.appendChild(h("span", "stw-tl-axis-note", "", { "aria-hidden": "true" }));
  const scroller = body.appendChild(h("div", "stw-tl-scroll"));
  // The rows' labels, a column beside the bars (sized by timeline.css from --r and --s).
  const rowList = scroller.appendChild(h("ul", "stw-tl-rows", undefined, { "aria-hidden": "true" }));
  let rowText = "";
  const bars = scroller.appendChild(tlSvg("svg", {
    // tabindex -1: the bars are the stops (one at a time), not their drawing.
    class: "stw-tl-bars", preserveAspectRatio: "none", width: "100%", role: "group", tabindex: "-1",
    "aria-label": "Tasks over time, by submission; arrow keys move, Enter shows the task",
  }));
  const axis = body.appendChild(h("div", "stw-tl-axis", undefined, { "aria-hidden": "true" }));
  const axisStart = axis.appendChild(h("span"));
  const axisEnd = axis.appendChild(h("span"));
  const tip = root.appendChild(h("div", "stw-tl-tip", undefined, { role: "tooltip", id: `stw-tl-tip-${Math.random().toString(36).slice(2)}` }));
  tip.hidden = true;

  /** @type {Map<string, {g: SVGElement, queue: SVGElement, run: SVGElement, bar: Bar, sig: string}>} */
  const drawn = new Map();
  /** @type {Bar[]} */
  let order = [];
  let nowLine = tlSvg("line", { class: "stw-tl-now", y1: 0, "vector-effect": "non-scaling-stroke" });
  let focusId = "";
  let last = { span: { t0: 0, t1: 1 }, now: 0 };

  /** @param {SVGElement} g */
  const showTip = (g) => {
    const entry = drawn.get(g.getAttribute("data-bar-id") || "");
    if (!entry) return;
    setText(tip, barLabel(entry.bar, last.now));
    tip.hidden = false;
    const box = g.getBoundingClientRect();
    const host = root.getBoundingClientRect();
    tip.style.left = `${Math.max(0, Math.min(box.left - host.left, host.width - 260))}px`;
    tip.style.top = `${box.bottom - host.top + 4}px`;
    setAttr(g, "aria-describedby", null);
  };
  const hideTip = () => {
    tip.hidden = true;
  };

  /** Roving focus: one bar is in the tab order. @param {string} id @param {boolean} move */
  const focusBar = (id, move) => {
    const entry = drawn.get(id);
    if (!entry) return;
    const old = drawn.get(focusId);
    if (old && old !== entry) old.g.setAttribute("tabindex", "-1");
    focusId = id;
    entry.g.setAttribute("tabindex", "0");
    if (move) /** @type {any} */ (entry.g).focus();
  };

  /** @param {Event} e */
  const barOf = (e) => /** @type {SVGElement | null} */ (/** @type {Element} */ (e.target).closest?.(".stw-tl-bar"));
  const onOver = (/** @type {Event} */ e) => {
    const g = barOf(e);
    if (g) showTip(g);
  };
  const onFocus = (/** @type {Event} */ e) => {
    const g = barOf(e);
    if (!g) return;
    focusBar(g.getAttribute("data-bar-id") || "", false);
    showTip(g);
  };
  const onClick = (/** @type {Event} */ e) => {
    const g = barOf(e);
    if (g) onSelect(g.getAttribute("data-bar-id") || "");
  };
  const onKey = (/** @type {KeyboardEvent} */ e) => {
    const i = order.findIndex((b) => b.id === focusId);
    const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10 }[e.key];
    let next = -1;
    if (step) next = Math.max(0, Math.min(order.length - 1, i + step));
    else if (e.key === "Home") next = 0;
    else if (e.key === "End") next = order.length - 1;
    else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (focusId) onSelect(focusId);
      return;
    } else if (e.key === "Escape") {
      hideTip();
      return;
    }
    if (next < 0 || !order[next]) return;
    e.preventDefault();
    focusBar(order[next].id, true);
  };
  /** @type {Record<string, EventListener>} */
  const listeners = {
    mouseover: onOver, mouseleave: hideTip, focusin: onFocus, focusout: hideTip, click: onClick,
    keydown: /** @type {EventListener} */ (onKey),
  };
  for (const [type, listener] of Object.entries(listeners)) bars.addEventListener(type, listener);

  /** One bar's elements, made once per task id and reused. @param {Bar} b */
  const makeBar = (b) => {
    const g = tlSvg("g", { class: "stw-tl-bar", role: "button", tabindex: "-1", "data-bar-id": b.id });
    const queue = g.appendChild(tlSvg("rect", { class: "stw-tl-queue", "vector-effect": "non-scaling-stroke" }));
    const run = g.appendChild(tlSvg("rect", { class: "stw-tl-run", "vector-effect": "non-scaling-stroke" }));
    return { g, queue, run, bar: b, sig: "" };
  };

  /**
   * Bring the chart up to the rows; bars whose geometry did not change are not touched.
   * @param {any[]} rows cleaned rows, as the list holds them @param {number} now
   */
  const update = (rows, now) => {
    const all = timelineBars(rows);
    const span = timeSpan(all, now);
    last = { span, now };
    order = all;
    setText(summary, timelineSummary(rows, all));
    setHidden(root, all.length === 0);
    const bh = barHeight(all.length);
    const height = Math.max(bh, bh * all.length);
    setAttr(bars, "viewBox", `0 0 ${TL_WIDTH} ${height}`);
    setAttr(bars, "height", String(height));
    setAttr(rowList, "style", `--r:${bh}px;--s:${rowStep(bh)}`);
    const labels = rowLabels(all.map((b) => b.id));
    if (labels.join() !== rowText) {
      rowText = labels.join();
      rowList.replaceChildren(...labels.map((text) => h("li", "", text)));
    }
    const seen = new Set();
    /** @type {SVGElement[]} */
    const wanted = [];
    all.forEach((b, i) => {
      let entry = drawn.get(b.id);
      if (!entry) {
        entry = makeBar(b);
        drawn.set(b.id, entry);
      }
      entry.bar = b;
      seen.add(b.id);
      wanted.push(entry.g);
      const geo = barGeometry(b, span, now);
      const label = barLabel(b, now);
      const sig = `${i}|${tlNum(geo.queueX)}|${tlNum(geo.queueW)}|${tlNum(geo.runW)}|${geo.split}|${b.state}|${b.fatal}|${label}|${bh}`;
      if (sig === entry.sig) return;
      entry.sig = sig;
      const y = i * bh + 0.5;
      const hgt = Math.max(1, bh - 1);
      for (const [rect, x, w] of /** @type {[SVGElement, number, number][]} */ ([
        [entry.queue, geo.queueX, geo.queueW], [entry.run, geo.runX, geo.runW],
      ])) {
        rect.setAttribute("x", tlNum(x));
        rect.setAttribute("width", tlNum(Math.max(w, w > 0 ? 1.5 : 0)));
        rect.setAttribute("y", tlNum(y));
        rect.setAttribute("height", tlNum(hgt));
      }
      setAttr(entry.g, "data-state", b.state);
      setAttr(entry.g, "data-tone", b.fatal ? "unknown" : b.running ? "running" : b.tone);
      setAttr(entry.g, "data-split", geo.split ? "true" : "false");
      setAttr(entry.g, "aria-label", label);
    });
    for (const [id, entry] of drawn) {
      if (!seen.has(id)) {
        entry.g.remove();
        drawn.delete(id);
      }
    }
    tlPlace(bars, wanted);
    if (!drawn.has(focusId) && order.length) focusBar(order[0].id, false);
    // The "now" line, while tasks run.
    const running = all.some((b) => b.running);
    if (running) {
      const x = tlNum((TL_WIDTH * (now - span.t0)) / (span.t1 - span.t0));
      nowLine.setAttribute("x1", x);
      nowLine.setAttribute("x2", x);
      nowLine.setAttribute("y2", String(height));
      if (nowLine.parentNode !== bars) bars.append(nowLine);
    } else nowLine.remove();
    drawCounts(all, span, now);
    setText(axisStart, clockTime(span.t0));
    setText(axisEnd, running ? `now ${clockTime(now)}` : clockTime(span.t1));
  };

  /** @param {Bar[]} all @param {{t0: number, t1: number}} span @param {number} now */
  const drawCounts = (all, span, now) => {
    const samples = countsOverTime(all, span, now);
    const top = Math.max(1, ...samples.map((c) => Math.max(c.queued, c.running, c.done, c.failed)));
    const lines = ["queued", "running", "done", "failed"].map((key) => {
      const pts = samples
        .filter((c) => c.t <= now)
        .map((c) => `${tlNum((TL_WIDTH * (c.t - span.t0)) / (span.t1 - span.t0))},${tlNum(58 - (56 * /** @type {any} */ (c)[key]) / top)}`);
      return tlSvg("polyline", { class: `stw-tl-line stw-tl-${key}`, points: pts.join(" "), "vector-effect": "non-scaling-stroke" });
    });
    countsSvg.replaceChildren(...lines);
    // The lines' scale, said as what it is (the most tasks in one state at one moment).
    setText(countsMax, `at most ${top} task${top === 1 ? "" : "s"} at once`);
    // Tasks finished per minute, only where that tells something: ends over more than a
    // minute (else it is one block as tall as the chart). As the saved SVG decides it.
    const ends = all.flatMap((b) => (Number.isNaN(b.ended) ? [] : [b.ended]));
    const useful = ends.length > 0 && Math.max(...ends) - Math.min(...ends) >= 60_000;
    setAttr(rateSvg, "display", useful ? null : "none"); // an SVG element has no `hidden`
    setHidden(rateNote, !useful);
    const rate = throughput(all, span);
    const peak = Math.max(0, ...rate.perMinute);
    const w = TL_WIDTH / rate.perMinute.length;
    countsSvg.setAttribute("data-peak", String(top));
    rateSvg.replaceChildren(
      ...rate.perMinute.map((v, i) =>
        tlSvg("rect", { class: "stw-tl-rate-bar", x: tlNum(i * w + 0.5), width: tlNum(Math.max(0.5, w - 1)), y: tlNum(24 - (22 * v) / (peak || 1)), height: tlNum((22 * v) / (peak || 1)) }),
      ),
    );
    setText(rateNote, `finished per minute (most ${Math.round(peak * 10) / 10}${rate.minutes > 1 ? `, ${rate.minutes}-minute steps` : ""})`);
  };

  const dispose = () => {
    for (const [type, listener] of Object.entries(listeners)) bars.removeEventListener(type, listener);
    drawn.clear();
    root.remove();
  };
  return { el: root, update, dispose };
}

/** Make `parent`'s bar children exactly `wanted`, in order, moving few nodes. @param {Element} parent @param {Element[]} wanted */
function tlPlace(parent, wanted) {
  let cursor = parent.firstElementChild;
  for (const el of wanted) {
    if (el === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(el, cursor);
  }
}
