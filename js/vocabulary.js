// @ts-check
// What the front end says about a task's state, written once: the states as the service
// spells them, the order lists count them in, the progress stages, the words for a task not
// checked yet and for a list without tasks, and the synced trait names each widget reads.
// The Python side's copy is search_task_widget/_model/vocabulary.py; tests/test_vocabulary.py
// fails when they disagree, or when a state literal is written in another module of js/.

export const CREATING = "CREATING";
export const PENDING = "PENDING";
export const PROGRESS = "PROGRESS";
export const SUCCESS = "SUCCESS";
export const FAILED = "FAILED";
/** Outside the documented enum: Search moves the pending tasks of a deleted index there. */
export const CANCELLED = "CANCELLED";

/** Task states in which the service is still working on a task. */
export const ACTIVE = /* @__PURE__ */ new Set([CREATING, PENDING, PROGRESS]);
/** Active states before the task runs: still in the queue. */
export const QUEUED = /* @__PURE__ */ new Set([CREATING, PENDING]);
/** States a task ends in. */
export const TERMINAL = /* @__PURE__ */ new Set([SUCCESS, FAILED, CANCELLED]);

/** How an ending is said after "the task" ("300 succeeded"). */
export const OUTCOME_WORDS = /* @__PURE__ */ Object.freeze({ [SUCCESS]: "succeeded", [FAILED]: "failed", [CANCELLED]: "cancelled" });

/** A task without an answer yet: in a badge or count, and in a sentence. */
export const NOT_CHECKED = "not checked";
export const NOT_CHECKED_YET = "not checked yet";
/** A list without tasks. */
export const NO_TASKS = "No tasks";

/** Order of the state counts and filter options: ends first, then what still runs. */
export const STATE_ORDER = [SUCCESS, FAILED, CANCELLED, PROGRESS, PENDING, CREATING];

/**
 * Where a state goes among the counts and filter options: STATE_ORDER, then other ends,
 * then the rest, and tasks not checked yet last (as `state_rank` in Python).
 * @param {string} state
 */
export function stateRank(state) {
  const i = STATE_ORDER.indexOf(state);
  if (i >= 0) return i;
  if (state === NOT_CHECKED) return STATE_ORDER.length + 2;
  return STATE_ORDER.length + (TERMINAL.has(state) ? 0 : 1);
}

/** The progress bar's segments, one per stage 1..4. */
export const STAGES = ["Submitted", "Queued", "Running", "Done"];

/** @type {Readonly<Record<string, number>>} stage reached by each documented state */
export const STAGE_OF = /* @__PURE__ */ Object.freeze({ [CREATING]: 1, [PENDING]: 2, [PROGRESS]: 3, [SUCCESS]: 4, [FAILED]: 4 });

/** @typedef {import("./model.js").SignInTraits} SignInTraits */
/** @typedef {import("./model.js").TaskOwnTraits} TaskOwnTraits */
/** @typedef {import("./model.js").ListOwnTraits} ListOwnTraits */

// The synced traits each widget's front end reads beyond the sign-in panel and the bell:
// checked against model.d.ts by tsc (an object literal of the type's keys: none missing, none
// extra) and against the Python traitlets by tests/test_vocabulary.py.

/** @type {Readonly<Record<keyof SignInTraits, true>>} */
const SIGN_IN_TRAIT_SET = /* @__PURE__ */ Object.freeze({ sign_in: true, sign_in_url: true, sign_in_message: true });
/** @type {Readonly<Record<keyof TaskOwnTraits, true>>} */
const TASK_TRAIT_SET = /* @__PURE__ */ Object.freeze({
  task_id: true, state: true, task_type: true, state_description: true, index_id: true,
  message: true, additional_details: true, creation_date: true, completion_date: true,
  error: true, trouble: true, polling: true, stage_times: true, last_checked: true,
  next_check: true, poll_interval: true, retried: true,
});
/** @type {Readonly<Record<keyof ListOwnTraits, true>>} */
const LIST_TRAIT_SET = /* @__PURE__ */ Object.freeze({
  rows: true, total: true, done: true, failed: true, polling: true, first_submitted: true,
  last_completed: true, error: true, last_checked: true,
});

/** The sign-in panel's traits, which every widget has (js/signin.js). */
export const SIGN_IN_TRAITS = /** @type {(keyof SignInTraits)[]} */ (/* @__PURE__ */ Object.keys(SIGN_IN_TRAIT_SET));
/** TaskWidget's traits (js/widget.js). */
export const TASK_TRAITS = /** @type {(keyof TaskOwnTraits)[]} */ (/* @__PURE__ */ Object.keys(TASK_TRAIT_SET));
/** TaskListWidget's traits (js/list.js). */
export const LIST_TRAITS = /** @type {(keyof ListOwnTraits)[]} */ (/* @__PURE__ */ Object.keys(LIST_TRAIT_SET));
