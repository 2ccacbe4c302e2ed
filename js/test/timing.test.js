// @ts-check
// One timing truth (js/timing.js), held to the cases Python is held to. Run with `npm test`.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { phases } from "../timing.js";

const CASES = JSON.parse(
  readFileSync(new URL("../../tests/data/timing_cases.json", import.meta.url), "utf-8"),
);

for (const c of CASES) {
  test(c.why, () => {
    const got = phases(c.created, c.started, c.ended, c.now, c.waiting);
    assert.deepEqual(got, c.expect);
    if (got.queued != null && got.running != null) assert.equal(got.queued + got.running, got.elapsed);
  });
}
