// @ts-check
// What a task's state means: its colour family, the progress stage it reached, whether it
// still runs, and how long the poller saw it in a state. Pure functions (no DOM),
// unit-tested by js/test/stages.test.js.

import { ACTIVE, FAILED, STAGE_OF, STAGES, SUCCESS, TERMINAL } from "./vocabulary.js";

export { ACTIVE, QUEUED, STAGES, TERMINAL } from "./vocabulary.js";

/** The stage of a documented state, else 0. Own keys only: a state such as
 * "constructor" or "__proto__" must not reach Object.prototype. @param {string} state */
const stageOfState = (state) => (Object.hasOwn(STAGE_OF, state) ? STAGE_OF[state] : 0);

/** The colour family: idle | running | success | failed | unknown. @param {string} state */
export function toneOf(state) {
  if (!state) return "idle";
  if (ACTIVE.has(state)) return "running";
  if (state === SUCCESS) return "success";
  if (state === FAILED) return "failed";
  return "unknown";
}

/**
 * Stage 0..4; an unknown state keeps the furthest stage the poller saw.
 * @param {string} state @param {Record<string, number>} stageTimes when each state was first seen
 */
export function stageOf(state, stageTimes) {
  if (Object.hasOwn(STAGE_OF, state)) return STAGE_OF[state];
  return Math.max(0, ...Object.keys(stageTimes).map(stageOfState));
}

/** The progress bar's aria-valuetext. @param {string} state @param {number} stage */
export function stageText(state, stage) {
  if (!state) return "Waiting for the first status check";
  if (state === SUCCESS) return "Succeeded";
  if (state === FAILED) return "Failed";
  if (!ACTIVE.has(state)) return `State ${state}`;
  return `${STAGES[stage - 1]} (stage ${stage} of 4)`;
}

/**
 * Still running server-side, as far as we know (so clocks measured to "now" tick): not
 * completed, and active, or in an unknown state while still polled.
 * @param {{ state: string, completion_date: string | null, polling: boolean }} task
 */
export function taskRunning(task) {
  if (task.completion_date) return false;
  return ACTIVE.has(task.state) || (toneOf(task.state) === "unknown" && task.polling);
}

/** A list row still runs unless it ended or cannot be checked. @param {{ state: string, trouble: string }} row */
export const rowRunning = (row) => !TERMINAL.has(row.state) && row.trouble !== "fatal";
