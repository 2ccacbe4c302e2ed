// @ts-check
// Helpers both widget modules use. Python puts this file, then js/signin.js, in front of
// js/widget.js and js/list.js (see search_task_widget/_assets.py): an anywidget module is
// one file that imports nothing (no CDN on HPC gateways, and there is no build step), so
// shared code is joined rather than imported. Top-level names here must not be declared
// again by the files that follow (tests/test_frontend_sources.py checks).

/** Task states in which the service is still working on a task. */
const ACTIVE = new Set(["CREATING", "PENDING", "PROGRESS"]);

const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");

/**
 * Create an element; text goes in as textContent, attributes as given.
 * @param {string} tag @param {string} [cls] @param {string} [text] @param {Record<string, string>} [attrs]
 * @returns {HTMLElement}
 */
function h(tag, cls, text, attrs = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, val);
  return e;
}

/** Write only on change, so unchanged values cause no DOM mutation. @param {Element} el @param {string} text */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** @param {Element} el @param {string} name @param {string | null} value */
function setAttr(el, name, value) {
  if (value == null) el.removeAttribute(name);
  else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/**
 * Parse the service's ISO 8601 dates, which carry no zone but mean UTC.
 * JS Date is unreliable with 6 fractional digits, so trim to milliseconds.
 * @param {string | null} s @returns {number} epoch ms, or NaN
 */
function parseUtc(s) {
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/.exec(
    (s || "").trim(),
  );
  if (!m) return NaN;
  const ms = m[2] ? "." + (m[2] + "00").slice(0, 3) : "";
  return Date.parse(m[1].replace(" ", "T") + ms + (m[3] || "Z"));
}

/** "1 h 02 min 03 s", "4 min 05 s", "7 s" @param {number} ms */
function fmtDuration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  if (d) return `${d} d ${pad(h)} h ${pad(m)} min ${pad(s)} s`;
  if (h) return `${h} h ${pad(m)} min ${pad(s)} s`;
  if (m) return `${m} min ${pad(s)} s`;
  return `${s} s`;
}

/** The colour family: idle | running | success | failed | unknown. @param {string} state */
function toneOf(state) {
  if (!state) return "idle";
  if (ACTIVE.has(state)) return "running";
  if (state === "SUCCESS") return "success";
  if (state === "FAILED") return "failed";
  return "unknown";
}
