// @ts-check
// Dates and durations (js/format.js). Run with `npm test` (node --test).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";

// The viewer's zone, for the local-time cases; Node reads TZ when a date is first formatted.
process.env.TZ = "America/Chicago";
const { fmtAgo, fmtDuration, fmtLocal, fmtUtc, parseUtc, tzName } = await import("../format.js");

/** Durations shared with the Python formatter: [[seconds, text], ...]. */
const CASES = new URL("../../tests/data/duration_cases.json", import.meta.url);

test("parseUtc reads the service's zone-less dates as UTC", () => {
  assert.equal(parseUtc("2021-10-05T18:42:49"), Date.UTC(2021, 9, 5, 18, 42, 49));
  assert.equal(parseUtc("2021-10-05 18:42"), Date.UTC(2021, 9, 5, 18, 42));
  assert.equal(parseUtc(" 2021-10-05T18:42:49Z "), Date.UTC(2021, 9, 5, 18, 42, 49));
  assert.equal(parseUtc("2021-10-05T18:42:49+02:00"), Date.UTC(2021, 9, 5, 16, 42, 49));
});

test("parseUtc trims microseconds to milliseconds", () => {
  assert.equal(parseUtc("2018-12-13T18:08:42.746911"), Date.UTC(2018, 11, 13, 18, 8, 42, 746));
  assert.equal(parseUtc("2021-10-05T18:43:01.5"), Date.UTC(2021, 9, 5, 18, 43, 1, 500));
});

test("parseUtc gives NaN for anything that is not such a date", () => {
  for (const text of [null, undefined, "", "yesterday", "2021-10-05", "2021-10-05T18:42:49 UTC"]) {
    assert.ok(Number.isNaN(parseUtc(text)), String(text));
  }
});

test("fmtDuration matches the shared duration cases", () => {
  assert.ok(existsSync(CASES), `${CASES.pathname} is missing`);
  /** @type {[number, string][]} */
  const cases = JSON.parse(readFileSync(CASES, "utf8"));
  assert.ok(cases.length >= 5);
  for (const [seconds, text] of cases) assert.equal(fmtDuration(seconds * 1000), text, String(seconds));
});

test("fmtDuration rounds down and never goes below zero", () => {
  assert.equal(fmtDuration(1999), "1 s");
  assert.equal(fmtDuration(-5000), "0 s");
  assert.equal(fmtDuration(3_723_000), "1 h 02 min 03 s");
});

test("fmtAgo picks the largest whole unit", () => {
  assert.equal(fmtAgo(12_400), "12 s ago");
  assert.equal(fmtAgo(-1), "0 s ago");
  assert.equal(fmtAgo(180_000), "3 min ago");
  assert.equal(fmtAgo(2 * 3_600_000 + 59_000), "2 h ago");
  assert.equal(fmtAgo(3 * 86_400_000), "3 d ago");
});

test("fmtUtc shows UTC to the second", () => {
  assert.equal(fmtUtc(Date.UTC(2021, 9, 5, 18, 42, 49, 999)), "2021-10-05 18:42:49 UTC");
});

test("fmtLocal shows the viewer's wall clock and zone", () => {
  const summer = parseUtc("2021-10-05T18:42:49");
  const winter = parseUtc("2018-12-13T18:08:42.746911");
  assert.equal(fmtLocal(summer), "2021-10-05 13:42:49 CDT");
  assert.equal(fmtLocal(winter), "2018-12-13 12:08:42 CST");
  assert.equal(fmtLocal(summer, { zone: false }), "2021-10-05 13:42:49");
  assert.equal(tzName(new Date(winter)), "CST");
});

test("fmtLocal leaves out today's date when short", () => {
  const ms = parseUtc("2021-10-05T18:42:49");
  assert.equal(fmtLocal(ms, { short: true, now: ms + 3_600_000 }), "13:42:49 CDT");
  // 18:42 UTC on the 5th is the 5th in Chicago; the 6th there is another day.
  assert.equal(fmtLocal(ms, { short: true, now: parseUtc("2021-10-06T12:00:00") }), "2021-10-05 13:42:49 CDT");
});
