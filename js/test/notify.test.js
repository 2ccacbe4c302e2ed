// @ts-check
// Pure parts of the bell (js/notify.js). Run with `npm test`.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bellStatus, listEndWords, NOTIFY_AFTER_MS, notifyPermission, shouldNotify, taskEndWords,
} from "../notify.js";

test("only an opted-in, long end on a hidden page is told", () => {
  const long = NOTIFY_AFTER_MS;
  assert.equal(shouldNotify({ enabled: true, hidden: true, durationMs: long }), true);
  assert.equal(shouldNotify({ enabled: false, hidden: true, durationMs: long }), false);
  assert.equal(shouldNotify({ enabled: true, hidden: false, durationMs: long }), false);
  assert.equal(shouldNotify({ enabled: true, hidden: true, durationMs: long - 1 }), false);
  assert.equal(shouldNotify({ enabled: true, hidden: true, durationMs: NaN }), false);
});

test("permission: what the browser allows, or unsupported", () => {
  const win = (/** @type {string} */ permission, secure = true) => ({ Notification: Object.assign(() => {}, { permission }), isSecureContext: secure });
  assert.equal(notifyPermission(win("granted")), "granted");
  assert.equal(notifyPermission(win("denied")), "denied");
  assert.equal(notifyPermission(win("granted", false)), "unsupported");
  assert.equal(notifyPermission({ isSecureContext: true }), "unsupported");
});

test("the widget says what will happen for each permission", () => {
  assert.equal(bellStatus(false, "granted"), "");
  assert.match(bellStatus(true, "granted"), /notification when this ends/);
  assert.match(bellStatus(true, "default"), /Click the bell/);
  assert.match(bellStatus(true, "denied"), /^The browser blocks notifications: the page title will change/);
  assert.match(bellStatus(true, "unsupported"), /^This browser cannot show notifications: the page title/);
});

test("words name the task or the list and how it ended", () => {
  assert.deepEqual(taskEndWords("1a2b3c4d-5e6f", "FAILED", 95_000), {
    title: "Task 1a2b3c4d failed", body: "Search task 1a2b3c4d-5e6f failed after 1 min 35 s.",
  });
  assert.equal(taskEndWords("x", "SUCCESS", 0).title, "Task x succeeded");
  assert.equal(listEndWords(3, 3, 0, 60_000).title, "All 3 tasks succeeded");
  assert.equal(listEndWords(3, 1, 2, 60_000).title, "2 of 3 tasks failed");
  assert.equal(listEndWords(3, 2, 0, 60_000).title, "3 tasks ended, 2 succeeded");
  assert.equal(listEndWords(1, 1, 0, 60_000).body, "1 Search task ended after 1 min 00 s.");
});
