// @ts-check
// The task list's filter, order and counts. Pure functions (no DOM), unit-tested by
// js/test/filter.test.js.
import { rowRunning } from "./stages.js";
import { FAILED, NO_TASKS, NOT_CHECKED, stateRank, SUCCESS } from "./vocabulary.js";

/** @typedef {import("./model.js").Row} Row */

/** Does `row` pass the filter `value` ("all", "running", "state:NAME", ...)? @param {Row} row @param {string} value */
export function matches(row, value) {
  switch (value) {
    case "running":
      return rowRunning(row);
    case "failed":
      return row.state === FAILED;
    case "succeeded":
      return row.state === SUCCESS;
    case "trouble":
      return row.trouble === "fatal";
    case "all":
      return true;
    default:
      return value.startsWith("state:") && row.state === value.slice(6);
  }
}

/** Problems first (FAILED, then rows that could not be checked); else the model's order. @param {Row} row */
export const problemRank = (row) => (row.state === FAILED ? 0 : row.trouble === "fatal" ? 1 : 2);

export { stateRank };

/** Sort states by rank, then by name. @param {string} a @param {string} b */
const byState = (a, b) => stateRank(a) - stateRank(b) || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The filter's options, [value, label]: the fixed four, "Could not check" when some row
 * could not be, each other state present, and `current` even when nothing matches it.
 * @param {Row[]} rows @param {string} current
 * @returns {[string, string][]}
 */
export function filterOptions(rows, current) {
  /** @type {Map<string, number>} */
  const states = new Map();
  let running = 0;
  let trouble = 0;
  for (const row of rows) {
    if (row.state) states.set(row.state, (states.get(row.state) || 0) + 1);
    if (rowRunning(row)) running += 1;
    if (row.trouble === "fatal") trouble += 1;
  }
  /** @type {[string, string][]} */
  const options = [
    ["all", `All (${rows.length})`],
    ["running", `Running (${running})`],
    ["failed", `Failed (${states.get(FAILED) || 0})`],
    ["succeeded", `Succeeded (${states.get(SUCCESS) || 0})`],
  ];
  if (trouble) options.push(["trouble", `Could not check (${trouble})`]);
  const others = [...states.keys()].filter((s) => s !== FAILED && s !== SUCCESS).sort(byState);
  for (const state of others) options.push([`state:${state}`, `${state} (${states.get(state)})`]);
  if (!options.some(([value]) => value === current)) {
    options.push([current, `${current.replace(/^state:/, "")} (0)`]);
  }
  return options;
}

/** [state, count] per state present, in rank order; NOT_CHECKED for rows with no state yet. @param {Row[]} rows */
export function stateCounts(rows) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const row of rows) {
    const key = row.state || NOT_CHECKED;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => byState(a[0], b[0]));
}

/** "9 of 12 tasks done, 1 failed" @param {number} done @param {number} total @param {number} failed */
export function progressText(done, total, failed) {
  if (!total) return NO_TASKS;
  return `${done} of ${total} task${total === 1 ? "" : "s"} done` + (failed ? `, ${failed} failed` : "");
}
