// @ts-check
// A view nothing updates: a model rebuilt from saved widget state with no kernel behind it,
// or an exported page. js/loader.js hands each view the shared front-end model as `kernel`
// (ipywidgets' WidgetModel: `comm_live` is false without a kernel, and it triggers
// "comm_live_update" when that changes); the exported page hands `{ comm_live: false }`.
// Such a view stops every clock at the last check and says it is a snapshot, and of when.
import { fmtUtc } from "./format.js";

/**
 * @typedef {{ comm_live?: boolean, on?(event: string, callback: () => void): void,
 *   off?(event: string, callback: () => void): void }} Kernel
 */

/** Whether something still updates the view (no `kernel` given: live). @param {Kernel | undefined} kernel */
export const isLive = (kernel) => kernel?.comm_live !== false;

/**
 * Call `callback` when the kernel goes away (or comes back); returns the undo.
 * @param {Kernel | undefined} kernel @param {() => void} callback
 */
export function watchKernel(kernel, callback) {
  kernel?.on?.("comm_live_update", callback);
  return () => kernel?.off?.("comm_live_update", callback);
}

/**
 * What a snapshot says of itself, as the saved HTML says it (search_task_widget/_documents/document.py).
 * @param {number} lastChecked epoch ms, 0 if never checked @param {number} unfinished @param {number} total
 */
export function snapshotText(lastChecked, unfinished, total) {
  const when = lastChecked ? `last checked ${fmtUtc(lastChecked)}` : "never checked";
  const running =
    total === 0 ? "it watched no task then"
    : total === 1 ? "the task had not ended then"
    : `${unfinished} of ${total} tasks had not ended then`;
  return `Snapshot, ${when}: ${running}; this view is not connected to its kernel and does not update.`;
}
