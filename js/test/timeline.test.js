// @ts-check
// Pure layout of the timeline (js/timeline.js). Run with `npm test`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  barGeometry, barHeight, barLabel, roundUp, clockTime, countsOverTime, median, rowLabels, throughput,
  timeSpan, timelineBars, timelineSummary, TL_WIDTH,
} from "../timeline.js";

const T0 = Date.parse("2026-01-01T12:00:00Z");
const iso = (/** @type {number} */ s) => new Date(T0 + s * 1000).toISOString().slice(0, 19);
/** A row as TaskListWidget syncs it, times in seconds after T0.
 * @param {string} id @param {string} state @param {number} created
 * @param {number | null} started @param {number | null} ended @param {object} [extra] */
const row = (id, state, created, started, ended, extra = {}) => ({
  task_id: id, state, creation_date: iso(created), completion_date: ended == null ? null : iso(ended),
  started: started == null ? null : T0 + started * 1000, trouble: "", ...extra,
});

test("bars are ordered by submission and keep their times", () => {
  const bars = timelineBars([row("b", "SUCCESS", 10, 20, 30), row("a", "PENDING", 0, null, null)]);
  assert.deepEqual(bars.map((b) => b.id), ["a", "b"]);
  assert.equal(bars[1].started - bars[1].created, 10_000);
  assert.equal(bars[0].running, true);
  assert.equal(bars[1].running, false);
});

test("rows with no creation date have no bar, and a start outside the span is clamped", () => {
  const bars = timelineBars([
    { task_id: "x", state: "", creation_date: "", completion_date: null },
    row("y", "SUCCESS", 10, 5, 30),
    row("z", "SUCCESS", 10, 99, 30),
  ]);
  assert.deepEqual(bars.map((b) => b.id), ["y", "z"]);
  assert.equal(bars[0].started, bars[0].created);
  assert.equal(bars[1].started, bars[1].ended);
});

test("geometry puts the queued and running parts where their times are", () => {
  const bars = timelineBars([row("a", "SUCCESS", 0, 25, 50), row("b", "PROGRESS", 50, 75, null)]);
  const now = T0 + 100_000;
  const span = timeSpan(bars, now); // 100 s: a round length already
  assert.deepEqual(span, { t0: T0, t1: now });
  assert.deepEqual(timeSpan(bars, now + 1000), { t0: T0, t1: T0 + 150_000 }); // grows by steps
  const a = barGeometry(bars[0], span, now);
  assert.deepEqual(a, { queueX: 0, queueW: 250, runX: 250, runW: 250, split: true });
  const b = barGeometry(bars[1], span, now);
  assert.deepEqual(b, { queueX: 500, queueW: 250, runX: 750, runW: 250, split: true });
});

test("a waiting task is all queue; an end with no start seen is one unsplit span", () => {
  const bars = timelineBars([row("q", "PENDING", 0, null, null), row("u", "FAILED", 0, null, 40)]);
  const now = T0 + 80_000;
  const span = timeSpan(bars, now);
  const q = barGeometry(bars[0], span, now);
  assert.equal(q.queueW, TL_WIDTH);
  assert.equal(q.runW, 0);
  const u = barGeometry(bars[1], span, now);
  assert.deepEqual(u, { queueX: 0, queueW: 0, runX: 0, runW: 500, split: false });
});

test("counts over time follow each task through queue, run and end", () => {
  const bars = timelineBars([
    row("a", "SUCCESS", 0, 10, 20), row("b", "FAILED", 0, 20, 30), row("c", "PENDING", 5, null, null),
  ]);
  const now = T0 + 40_000;
  const samples = countsOverTime(bars, timeSpan(bars, now), now, 8); // every 5 s
  const at = (/** @type {number} */ s) => samples.find((c) => c.t === T0 + s * 1000);
  assert.deepEqual(at(0), { t: T0, queued: 2, running: 0, done: 0, failed: 0 });
  assert.deepEqual(at(15), { t: T0 + 15_000, queued: 2, running: 1, done: 0, failed: 0 });
  assert.deepEqual(at(25), { t: T0 + 25_000, queued: 1, running: 1, done: 1, failed: 0 });
  assert.deepEqual(at(40), { t: T0 + 40_000, queued: 1, running: 0, done: 1, failed: 1 });
});

test("throughput counts ends per minute in whole-minute buckets", () => {
  const rows = [];
  for (let i = 0; i < 6; i += 1) rows.push(row(`t${i}`, "SUCCESS", 0, 1, 30 + 60 * (i % 2)));
  const bars = timelineBars(rows);
  const rate = throughput(bars, timeSpan(bars, T0));
  assert.equal(rate.minutes, 1);
  assert.deepEqual(rate.perMinute, [3, 3]);
  const long = throughput(bars, { t0: T0, t1: T0 + 3 * 3600_000 }); // 3 h: 5-minute buckets
  assert.equal(long.minutes, 5);
  assert.deepEqual(long.perMinute.slice(0, 2), [6 / 5, 0]);
});

test("median of odd, even and no values", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

/** @type {any[]} */
const fixture = JSON.parse(readFileSync(new URL("../../tests/timeline_cases.json", import.meta.url), "utf8"));

test("the summary says counts and median queue and run, as in the issue", () => {
  for (const { rows, summary } of fixture.filter((c) => "summary" in c)) {
    assert.equal(timelineSummary(rows, timelineBars(rows)), summary);
  }
});

test("rows are labelled as the saved timeline labels them: all at 3 tasks, every 5th at 500", () => {
  const cases = fixture.filter((c) => "row_labels_of" in c);
  assert.ok(cases.length >= 2);
  for (const c of cases) {
    const ids = Array.from({ length: c.row_labels_of }, (_, i) => `${String(i + 1).padStart(8, "0")}-0000-4000-8000-000000000000`);
    const labels = rowLabels(ids);
    assert.equal(barHeight(ids.length), c.row_px);
    assert.deepEqual(labels.slice(0, 3), c.labels_first);
    assert.equal(labels.length, c.labels_count);
    assert.equal(labels.at(-1), c.labels_last);
  }
});

test("a bar's label names the task, its state and its times", () => {
  const [b] = timelineBars([row("1a2b3c4d-0000", "SUCCESS", 1, 40, 60)]);
  assert.equal(
    barLabel(b, T0),
    `Task 1a2b3c4d: SUCCESS. Submitted ${clockTime(T0 + 1000)}, started ${clockTime(T0 + 40_000)}, ` +
      `ended ${clockTime(T0 + 60_000)} (queued 39 s, ran 20 s)`,
  );
  const [r] = timelineBars([row("feedbeef", "PENDING", 0, null, null)]);
  assert.match(barLabel(r, T0 + 5000), /^Task feedbeef: PENDING\. Submitted .* \(waiting for 5 s\)$/);
});

test("a task that stopped being checked, with no end, does not stretch the span", () => {
  const bars = timelineBars([row("a", "SUCCESS", 0, 1, 10), row("b", "PENDING", 2, null, null, { trouble: "fatal" })]);
  assert.deepEqual(timeSpan(bars, T0 + 999_000), { t0: T0, t1: T0 + 10_000 });
  assert.equal(throughput(bars, timeSpan(bars, T0)).perMinute.length, 1);
});

test("the axis of running work grows by round steps", () => {
  assert.equal(roundUp(200_000), 200_000);
  assert.equal(roundUp(200_001), 250_000);
  assert.equal(roundUp(1000), 1000);
  assert.equal(roundUp(3_600_001), 4_000_000);
});
