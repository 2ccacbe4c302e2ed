// @ts-check
// What a state means (js/stages.js). Run with `npm test` (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { rowRunning, stageOf, stageText, taskRunning, toneOf } from "../stages.js";

test("each documented state has its stage and tone", () => {
  const expected = {
    CREATING: [1, "running", "Submitted (stage 1 of 4)"],
    PENDING: [2, "running", "Queued (stage 2 of 4)"],
    PROGRESS: [3, "running", "Running (stage 3 of 4)"],
    SUCCESS: [4, "success", "Succeeded"],
    FAILED: [4, "failed", "Failed"],
  };
  for (const [state, [stage, tone, text]] of Object.entries(expected)) {
    assert.equal(stageOf(state, {}), stage, state);
    assert.equal(toneOf(state), tone, state);
    assert.equal(stageText(state, stageOf(state, {})), text, state);
  }
});

test("no state yet is idle, stage 0, waiting", () => {
  assert.equal(toneOf(""), "idle");
  assert.equal(stageOf("", {}), 0);
  assert.equal(stageText("", 0), "Waiting for the first status check");
});

test("an unknown state keeps the furthest stage seen and is named as it is", () => {
  const seen = { CREATING: 1, PENDING: 2 };
  assert.equal(stageOf("CANCELLED", seen), 2);
  assert.equal(toneOf("CANCELLED"), "unknown");
  assert.equal(stageText("CANCELLED", 2), "State CANCELLED");
  assert.equal(stageOf("weird state", { "weird state": 5 }), 0);
});

test("states named like Object.prototype members read nothing from it", () => {
  for (const state of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    assert.equal(stageOf(state, {}), 0, state);
    assert.equal(stageText(state, 0), `State ${state}`);
    assert.equal(stageOf("PAUSED", { [state]: 1 }), 0, state);
  }
});

test("a task runs until it completes; an unknown state runs only while polled", () => {
  const task = { state: "PROGRESS", completion_date: null, polling: false };
  assert.equal(taskRunning(task), true);
  assert.equal(taskRunning({ ...task, completion_date: "2021-10-05T18:43:01" }), false);
  assert.equal(taskRunning({ ...task, state: "SUCCESS" }), false);
  assert.equal(taskRunning({ ...task, state: "PAUSED" }), false);
  assert.equal(taskRunning({ ...task, state: "PAUSED", polling: true }), true);
});

test("a list row runs unless it ended or cannot be checked", () => {
  assert.equal(rowRunning({ state: "PENDING", trouble: "" }), true);
  assert.equal(rowRunning({ state: "", trouble: "retrying" }), true);
  assert.equal(rowRunning({ state: "PENDING", trouble: "fatal" }), false);
  for (const state of ["SUCCESS", "FAILED", "CANCELLED"]) assert.equal(rowRunning({ state, trouble: "" }), false);
});
