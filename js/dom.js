// @ts-check
// DOM helpers every view uses. Model data goes in as text, never as HTML, and a value is
// written only when it changed, so an update that changes nothing mutates nothing.
import { fmtLocal, fmtUtc, parseUtc } from "./format.js";

/**
 * Create an element; text goes in as textContent, attributes as given.
 * @param {string} tag @param {string} [cls] @param {string} [text] @param {Record<string, string>} [attrs]
 * @returns {HTMLElement}
 */
export function h(tag, cls, text, attrs = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, val);
  return e;
}

/** @param {Element} el @param {string} text */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** Set an attribute, or remove it for null. @param {Element} el @param {string} name @param {string | null} value */
export function setAttr(el, name, value) {
  if (value == null) el.removeAttribute(name);
  else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** @param {HTMLElement} el @param {boolean} hidden */
export function setHidden(el, hidden) {
  if (el.hidden !== hidden) el.hidden = hidden;
}

/** Append a dt/dd pair to a <dl> and return the dd. @param {HTMLElement} dl @param {string} label */
export function pair(dl, label) {
  dl.append(h("dt", "", label));
  return dl.appendChild(h("dd"));
}

/**
 * Show a date cell: local time as text, UTC in the tooltip; text that is not a date is
 * shown as it is, nothing as "—".
 * @param {HTMLElement} dd @param {string | null} iso @param {{ zone?: boolean }} [options]
 */
export function showDate(dd, iso, { zone = true } = {}) {
  const ms = parseUtc(iso);
  setText(dd, Number.isNaN(ms) ? iso || "—" : fmtLocal(ms, { zone }));
  setAttr(dd, "title", Number.isNaN(ms) ? null : fmtUtc(ms));
}
