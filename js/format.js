// @ts-check
// Dates and durations as the widgets show them. Pure functions (no DOM), unit-tested by
// js/test/format.test.js; the duration cases are shared with the Python formatter
// (tests/data/duration_cases.json).

/** Two digits: 7 -> "07". @param {number} n */
export const pad = (n) => String(n).padStart(2, "0");

/**
 * Parse the service's ISO 8601 dates, which carry no zone but mean UTC.
 * JS Date is unreliable with 6 fractional digits, so trim to milliseconds.
 * @param {string | null | undefined} s
 * @returns {number} epoch ms, or NaN
 */
export function parseUtc(s) {
  const m = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/.exec(
    (s || "").trim(),
  );
  if (!m) return NaN;
  const ms = m[2] ? "." + (m[2] + "00").slice(0, 3) : "";
  return Date.parse(m[1].replace(" ", "T") + ms + (m[3] || "Z"));
}

/** "1 d 02 h 03 min 04 s", "1 h 02 min 03 s", "4 min 05 s", "7 s" @param {number} ms */
export function fmtDuration(ms) {
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

/** "12 s ago", "3 min ago", "2 h ago", "1 d ago" @param {number} ms */
export function fmtAgo(ms) {
  const s = Math.max(0, ms / 1000);
  const [n, unit] =
    s < 60 ? [s, "s"] : s < 3600 ? [s / 60, "min"] : s < 86400 ? [s / 3600, "h"] : [s / 86400, "d"];
  return `${Math.floor(n)} ${unit} ago`;
}

/** "2026-05-04 13:02:03 UTC" @param {number} ms */
export const fmtUtc = (ms) => new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";

/** @type {Intl.DateTimeFormat | null} */
let tzFormat = null;

/** The viewer's zone abbreviation ("CDT"), or "" when Intl cannot tell. @param {Date} d */
export function tzName(d) {
  try {
    tzFormat = tzFormat || new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });
    return tzFormat.formatToParts(d).find((p) => p.type === "timeZoneName")?.value || "";
  } catch {
    return "";
  }
}

/** The local calendar day, "2026-05-04". @param {Date} d */
const dayOf = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/**
 * Local wall-clock time, "2026-05-04 08:02:03 CDT".
 * @param {number} ms
 * @param {{ short?: boolean, zone?: boolean, now?: number }} [options] `short` leaves out
 *   the date when it is the day of `now` (default: the current time); `zone: false` leaves
 *   out the zone name.
 */
export function fmtLocal(ms, { short = false, zone = true, now = Date.now() } = {}) {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const day = short && dayOf(d) === dayOf(new Date(now)) ? "" : dayOf(d) + " ";
  return `${day}${time} ${zone ? tzName(d) : ""}`.trim();
}
