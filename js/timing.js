// @ts-check
// How long a task queued, ran and took: one computation for every view (the widget, the
// list, its chart). search_task_widget/_model/timing.py is the same for Python; both are
// held to tests/data/timing_cases.json. Boundaries (creation, first seen running,
// completion; epoch ms) are rounded down to whole seconds after creation before the parts
// are taken, so queued + running == elapsed as shown. A start never seen leaves the split
// unknown (null), shown as NOT_SEEN.

/** How an unknown part reads, everywhere (the chart's legend explains it). */
export const NOT_SEEN = "not seen";

/** @typedef {{ queued: number | null, running: number | null, elapsed: number | null }} Phases whole seconds */

/** @param {number | null | undefined} v */
const known = (v) => typeof v === "number" && Number.isFinite(v);
/** @param {number} ms */
const seconds = (ms) => Math.max(0, Math.floor(ms / 1000));

/**
 * @param {number | null | undefined} created @param {number | null | undefined} started
 * @param {number | null | undefined} ended @param {number | null | undefined} now
 * @param {boolean} [waiting] the task is known to be still queued (CREATING or PENDING)
 * @returns {Phases}
 */
export function phases(created, started, ended, now, waiting = false) {
  const end = known(ended) ? ended : now;
  if (!known(created) || !known(end)) return { queued: null, running: null, elapsed: null };
  const elapsed = seconds(/** @type {number} */ (end) - /** @type {number} */ (created));
  if (!known(started)) {
    if (waiting && !known(ended)) return { queued: elapsed, running: 0, elapsed };
    return { queued: null, running: null, elapsed };
  }
  const queued = Math.min(seconds(/** @type {number} */ (started) - /** @type {number} */ (created)), elapsed);
  return { queued, running: elapsed - queued, elapsed };
}
