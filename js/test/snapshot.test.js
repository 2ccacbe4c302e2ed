// @ts-check
// A view nothing updates says so (js/snapshot.js). Run with `npm test` (node --test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLive, snapshotText, watchKernel } from "../snapshot.js";

test("a view is live unless its kernel's model says it is not", () => {
  assert.equal(isLive(undefined), true);
  assert.equal(isLive({ comm_live: true }), true);
  assert.equal(isLive({}), true); // a host whose models do not say
  assert.equal(isLive({ comm_live: false }), false);
});

test("a view hears when its kernel goes away", () => {
  /** @type {Record<string, () => void>} */
  const handlers = {};
  const kernel = {
    comm_live: true,
    on: (/** @type {string} */ e, /** @type {() => void} */ cb) => { handlers[e] = cb; },
    off: (/** @type {string} */ e) => { delete handlers[e]; },
  };
  let heard = 0;
  const undo = watchKernel(kernel, () => heard++);
  kernel.comm_live = false;
  handlers.comm_live_update();
  assert.equal(heard, 1);
  undo();
  assert.deepEqual(handlers, {});
  assert.doesNotThrow(() => watchKernel(undefined, () => {})());
});

test("a snapshot says when it was taken and what had not ended", () => {
  const at = Date.UTC(2026, 11, 7, 9, 12, 3);
  assert.equal(
    snapshotText(at, 1, 1),
    "Snapshot, last checked 2026-12-07 09:12:03 UTC: the task had not ended then; " +
      "this view is not connected to its kernel and does not update.",
  );
  assert.match(snapshotText(at, 40, 40), /: 40 of 40 tasks had not ended then;/);
  assert.match(snapshotText(0, 2, 3), /^Snapshot, never checked: 2 of 3 tasks/);
});
