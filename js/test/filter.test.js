// @ts-check
// The task list's filter, order and counts (js/filter.js). Run with `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { filterOptions, matches, problemRank, progressText, stateCounts } from "../filter.js";

/** @param {string} task_id @param {string} state @param {string} [trouble] @returns {import("../model.js").Row} */
const row = (task_id, state, trouble = "") => ({
  task_id, state, trouble, state_description: "", task_type: null, message: null,
  additional_details: null, creation_date: "", completion_date: null, error: "", started: null, retried: "",
});

const ROWS = [
  row("a", "SUCCESS"), row("b", "FAILED"), row("c", "PROGRESS"), row("d", "PENDING"),
  row("e", "PENDING", "fatal"), row("f", "CANCELLED"), row("g", ""), row("h", "SUCCESS"),
];

/** The ids of ROWS that pass `value`. @param {string} value */
const kept = (value) => ROWS.filter((r) => matches(r, value)).map((r) => r.task_id).join("");

test("each filter keeps its rows", () => {
  assert.equal(kept("all"), "abcdefgh");
  assert.equal(kept("running"), "cdg");
  assert.equal(kept("failed"), "b");
  assert.equal(kept("succeeded"), "ah");
  assert.equal(kept("trouble"), "e");
  assert.equal(kept("state:PENDING"), "de");
  assert.equal(kept("state:CANCELLED"), "f");
  assert.equal(kept("nonsense"), "");
  assert.equal(kept("state:"), "g");
});

test("problems come first: failed, then rows that could not be checked", () => {
  const order = [...ROWS].sort((x, y) => problemRank(x) - problemRank(y)).map((r) => r.task_id);
  assert.equal(order.join(""), "beacdfgh");
});

test("the options list the fixed four, trouble, then the other states in order", () => {
  assert.deepEqual(filterOptions(ROWS, "all"), [
    ["all", "All (8)"],
    ["running", "Running (3)"],
    ["failed", "Failed (1)"],
    ["succeeded", "Succeeded (2)"],
    ["trouble", "Could not check (1)"],
    ["state:CANCELLED", "CANCELLED (1)"],
    ["state:PROGRESS", "PROGRESS (1)"],
    ["state:PENDING", "PENDING (2)"],
  ]);
});

test("the user's choice stays listed when nothing matches it any more", () => {
  const options = filterOptions([row("a", "SUCCESS")], "state:PENDING");
  assert.deepEqual(options.at(-1), ["state:PENDING", "PENDING (0)"]);
  assert.equal(filterOptions([], "trouble").at(-1)?.[1], "trouble (0)");
  assert.equal(filterOptions([], "all").length, 4);
});

test("counts go ends first, then what runs, then unknown states by name", () => {
  const rows = [...ROWS, row("i", "ZEBRA"), row("j", "PAUSED"), row("k", "ZEBRA")];
  assert.deepEqual(stateCounts(rows), [
    ["SUCCESS", 2], ["FAILED", 1], ["CANCELLED", 1], ["PROGRESS", 1], ["PENDING", 2],
    ["PAUSED", 1], ["ZEBRA", 2], ["not checked", 1],
  ]);
});

test("progressText counts tasks in words", () => {
  assert.equal(progressText(0, 0, 0), "No tasks");
  assert.equal(progressText(1, 1, 0), "1 of 1 task done");
  assert.equal(progressText(9, 12, 1), "9 of 12 tasks done, 1 failed");
});
