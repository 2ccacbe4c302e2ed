// @ts-check
/* global ACTIVE, pad, h, setText, setAttr, parseUtc, fmtDuration, toneOf, mountSignIn, mountEndWord --
   from js/common.js and js/signin.js, which Python puts in front of this file */
// Front end of search_task_widget: one Globus Search task, shown live. No imports, so it
// loads offline (HPC gateways have no CDN). Model data reaches the DOM as text, never HTML.

/** The part of the anywidget model used here.
 * @typedef {{ get(name: string): any, on(event: string, cb: () => void): void,
 *   off(event?: string, cb?: () => void): void }} Model */

const STAGES = ["Submitted", "Queued", "Running", "Done"];
/** @type {Record<string, number>} stage reached by each documented state */
const STAGE_OF = { CREATING: 1, PENDING: 2, PROGRESS: 3, SUCCESS: 4, FAILED: 4 };
const TRAITS = [
  "task_id", "state", "task_type", "state_description", "index_id", "message",
  "additional_details", "creation_date", "completion_date", "error", "trouble",
  "polling", "stage_times", "last_checked", "next_check", "poll_interval",
];
const COPIED_MS = 1500;

/** @typedef {ReturnType<typeof snapshot>} Snap */

/** Read every synced trait, with safe defaults for missing or odd values. @param {Model} model */
function snapshot(model) {
  const str = (/** @type {string} */ k) => String(model.get(k) ?? "");
  const opt = (/** @type {string} */ k) => str(k) || null;
  const num = (/** @type {string} */ k) => Number(model.get(k)) || 0;
  const times = model.get("stage_times");
  return {
    task_id: str("task_id"),
    state: str("state"),
    task_type: opt("task_type"),
    state_description: str("state_description"),
    index_id: str("index_id"),
    message: opt("message"),
    additional_details: model.get("additional_details") ?? null,
    creation_date: str("creation_date"),
    completion_date: opt("completion_date"),
    error: str("error"),
    trouble: str("trouble"),
    polling: Boolean(model.get("polling")),
    stage_times: /** @type {Record<string, number>} */ (times && typeof times === "object" ? times : {}),
    last_checked: num("last_checked"),
    next_check: num("next_check"),
    poll_interval: num("poll_interval"),
  };
}

// ---- formatting

/** @type {Intl.DateTimeFormat | null} */
let tzFormat = null;

/** The viewer's zone abbreviation ("CDT"), or "" when Intl cannot tell. @param {Date} d */
function tzName(d) {
  try {
    tzFormat = tzFormat || new Intl.DateTimeFormat(undefined, { timeZoneName: "short" });
    return tzFormat.formatToParts(d).find((p) => p.type === "timeZoneName")?.value || "";
  } catch {
    return "";
  }
}

/** @param {Date} d */
const dayOf = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

/** Local wall-clock time; `short` leaves out the date when it is today. @param {number} ms */
function fmtLocal(ms, short = false) {
  const d = new Date(ms);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const day = short && dayOf(d) === dayOf(new Date()) ? "" : dayOf(d) + " ";
  return `${day}${time} ${tzName(d)}`.trim();
}

/** @param {number} ms */
function fmtUtc(ms) {
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
}

/** "12 s ago", "3 min ago" @param {number} ms */
function fmtAgo(ms) {
  const s = Math.max(0, ms / 1000);
  const [n, unit] = s < 60 ? [s, "s"] : s < 3600 ? [s / 60, "min"] : s < 86400 ? [s / 3600, "h"] : [s / 86400, "d"];
  return `${Math.floor(n)} ${unit} ago`;
}

// ---- state logic

/** Stage 0..4; an unknown state keeps the furthest stage the poller saw. @param {Snap} s */
function stageOf(s) {
  // Own keys only: a state such as "constructor" or "__proto__" must not reach Object.prototype.
  if (Object.hasOwn(STAGE_OF, s.state)) return STAGE_OF[s.state];
  return Math.max(0, ...Object.keys(s.stage_times).map((k) => (Object.hasOwn(STAGE_OF, k) ? STAGE_OF[k] : 0)));
}

/** @param {Snap} s */
function valueText(s) {
  const stage = stageOf(s);
  if (!s.state) return "Waiting for the first status check";
  if (s.state === "SUCCESS") return "Succeeded";
  if (s.state === "FAILED") return "Failed";
  if (!ACTIVE.has(s.state)) return `State ${s.state}`;
  return `${STAGES[stage - 1]} (stage ${stage} of 4)`;
}

/** Still running server-side, as far as we know (so clocks measured to "now" tick). @param {Snap} s */
function isRunning(s) {
  if (s.completion_date) return false;
  return ACTIVE.has(s.state) || (toneOf(s.state) === "unknown" && s.polling);
}

/**
 * Time the poller saw the task in `name`: from the first sighting to the next later
 * sighting of any state, or to `now` while it is still there. Null when not seen.
 * @param {Snap} s @param {string} name @param {number} now
 */
function observedSpan(s, name, now) {
  const start = Object.hasOwn(s.stage_times, name) ? s.stage_times[name] : undefined;
  if (typeof start !== "number") return null;
  const later = Object.values(s.stage_times).filter((t) => typeof t === "number" && t > start);
  if (later.length) return Math.min(...later) - start;
  return s.state === name ? now - start : null;
}

// ---- DOM

/** Append a dt/dd pair to a <dl> and return the dd. @param {HTMLElement} dl @param {string} label */
function row(dl, label) {
  dl.append(h("dt", "", label));
  return dl.appendChild(h("dd"));
}

/** Build the static skeleton; every model-driven node is returned for updates. */
function build() {
  const root = h("div", "stw-root");
  const header = root.appendChild(h("div", "stw-header"));
  const badge = header.appendChild(h("span", "stw-badge"));
  const type = header.appendChild(h("span", "stw-type"));
  const desc = header.appendChild(h("span", "stw-desc"));

  const progress = root.appendChild(h("div", "stw-progress"));
  const bar = progress.appendChild(
    h("div", "stw-bar", undefined, {
      role: "progressbar", "aria-label": "Task progress", "aria-valuemin": "0", "aria-valuemax": "4",
    }),
  );
  const segs = STAGES.map(() => bar.appendChild(h("span", "stw-seg")));
  // Labels sit outside the progressbar (its children are presentational); aria-valuetext says it all.
  const labelRow = progress.appendChild(h("div", "stw-labels", undefined, { "aria-hidden": "true" }));
  const labels = STAGES.map((name) => labelRow.appendChild(h("span", "stw-label", name)));

  const live = root.appendChild(h("div", "stw-sr-only", undefined, { "aria-live": "polite", "aria-atomic": "true" }));

  const message = root.appendChild(h("div", "stw-message"));
  const details = /** @type {HTMLDetailsElement} */ (root.appendChild(h("details", "stw-details")));
  details.append(h("summary", "", "Additional details"));
  const detailsPre = details.appendChild(h("pre", "stw-pre"));
  const error = root.appendChild(h("div", "stw-error"));

  const panels = root.appendChild(h("div", "stw-panels"));
  const ids = panels.appendChild(h("dl", "stw-dl"));
  const taskCell = row(ids, "Task id");
  taskCell.className = "stw-id-cell";
  const taskId = taskCell.appendChild(h("code", "stw-mono"));
  const copy = /** @type {HTMLButtonElement} */ (
    taskCell.appendChild(h("button", "stw-copy", "Copy", { type: "button", "aria-label": "Copy task id" }))
  );
  const indexId = row(ids, "Index").appendChild(h("code", "stw-mono"));

  const times = panels.appendChild(h("dl", "stw-dl"));
  const t = {
    submitted: row(times, "Submitted"),
    completed: row(times, "Completed"),
    elapsed: row(times, "Elapsed"),
    queued: row(times, "Queued"),
    running: row(times, "Running"),
    checked: row(times, "Last checked"),
    next: row(times, "Next check"),
  };
  const observed = "As observed by the poller: accurate to about one polling interval";
  t.queued.title = observed;
  t.running.title = observed;
  return { root, badge, type, desc, bar, segs, labels, live, message, details, detailsPre, error, taskId, copy, indexId, t };
}

/** @typedef {ReturnType<typeof build>} View */

/** Show a date cell: local time as text, UTC in the tooltip. @param {HTMLElement} dd @param {string | null} iso */
function showDate(dd, iso) {
  const ms = parseUtc(iso);
  setText(dd, Number.isNaN(ms) ? (iso ? iso : "—") : fmtLocal(ms));
  setAttr(dd, "title", Number.isNaN(ms) ? null : fmtUtc(ms));
}

/** Everything except the clocks and the live region. @param {View} v @param {Snap} s */
function renderStatic(v, s) {
  const tone = toneOf(s.state);
  const stage = stageOf(s);
  for (const el of [v.root, v.bar]) {
    setAttr(el, "data-state", s.state);
    setAttr(el, "data-tone", tone);
    setAttr(el, "data-trouble", s.trouble);
  }
  setText(v.badge, s.state);
  v.badge.hidden = !s.state;
  setText(v.type, s.task_type || "");
  v.type.hidden = !s.task_type;
  setText(v.desc, s.state_description || (s.state ? "" : "Waiting for the first status check"));

  setAttr(v.bar, "aria-valuenow", String(stage));
  setAttr(v.bar, "aria-valuetext", valueText(s));
  const moving = ACTIVE.has(s.state) && s.polling && s.trouble !== "fatal";
  v.segs.forEach((seg, i) => {
    seg.classList.toggle("stw-seg-on", i < stage);
    seg.classList.toggle("stw-seg-current", i === stage - 1 && ACTIVE.has(s.state));
    seg.classList.toggle("stw-seg-active", moving && i === stage - 1);
    v.labels[i].classList.toggle("stw-label-on", i < stage);
  });

  setText(v.message, s.message || "");
  v.message.hidden = !s.message;
  setAttr(v.message, "data-tone", tone);
  const hasDetails = s.additional_details != null;
  v.details.hidden = !hasDetails;
  let json = "";
  try {
    json = hasDetails ? JSON.stringify(s.additional_details, null, 2) : "";
  } catch {
    json = String(s.additional_details);
  }
  setText(v.detailsPre, json);

  setText(v.error, s.error);
  v.error.hidden = !s.error;
  setAttr(v.error, "data-trouble", s.trouble || "retrying");

  setText(v.taskId, s.task_id || "—");
  v.copy.disabled = !s.task_id;
  setText(v.indexId, s.index_id || "—");
  showDate(v.t.submitted, s.creation_date);
  showDate(v.t.completed, s.completion_date);
}

/** The values that move with time. @param {View} v @param {Snap} s @param {number} now @param {boolean} ticking */
function renderClocks(v, s, now, ticking) {
  const start = parseUtc(s.creation_date);
  const end = parseUtc(s.completion_date);
  let elapsed = "—";
  if (!Number.isNaN(start) && !Number.isNaN(end)) elapsed = fmtDuration(end - start);
  else if (!Number.isNaN(start) && isRunning(s)) elapsed = fmtDuration(now - start);
  setText(v.t.elapsed, elapsed);

  const queued = observedSpan(s, "PENDING", now);
  setText(v.t.queued, queued == null ? "—" : fmtDuration(queued));
  const running = observedSpan(s, "PROGRESS", now);
  setText(v.t.running, running == null ? "—" : fmtDuration(running));

  // "N s ago" only while the clock ticks; a frozen "ago" would lie.
  const lc = s.last_checked;
  setText(v.t.checked, lc ? fmtLocal(lc, true) + (ticking ? ` (${fmtAgo(now - lc)})` : "") : "—");
  setAttr(v.t.checked, "title", lc ? fmtUtc(lc) : null);

  let next = "—";
  if (s.polling) {
    if (s.next_check > now) next = `in ${fmtDuration(s.next_check - now + 999)}`;
    else if (s.next_check) next = "now";
    if (s.poll_interval > 0) next += ` · every ~${Math.round(s.poll_interval * 10) / 10} s`;
  }
  setText(v.t.next, next);
}

/** @param {Snap} s */
function announcement(s) {
  if (!s.state) return "";
  return `Task state: ${s.state}` + (s.state_description ? ` — ${s.state_description}` : "");
}

/** @param {string} text @returns {Promise<boolean>} */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // navigator.clipboard is missing outside secure contexts (plain-http hubs).
    const ta = /** @type {HTMLTextAreaElement} */ (h("textarea", "stw-sr-only", undefined, { readonly: "" }));
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/**
 * anywidget entry point: one call per view.
 * @param {{ model: Model, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const v = build();
  el.append(v.root);
  // The sign-in panel (js/signin.js, put in front of this module) sits under the header.
  const signIn = mountSignIn(model);
  v.root.insertBefore(signIn.el, v.root.children[1] || null);
  // ---- issue #15 hook (js/notify.js): the bell, and a word when a long task ends
  const endWord = mountEndWord(model, "task");
  v.root.querySelector(".stw-header")?.append(endWord.el);
  // ---- end of issue #15 hook
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let copiedTimer = null;
  let lastState = /** @type {string | null} */ (null);
  let disposed = false;

  const needsTick = (/** @type {Snap} */ s) => isRunning(s) || s.polling;
  const tick = () => {
    const s = snapshot(model);
    renderClocks(v, s, Date.now(), ticker != null);
  };

  const update = () => {
    if (disposed) return;
    const s = snapshot(model);
    // Open the details when the task turns FAILED; otherwise leave the user's choice alone.
    if (s.state === "FAILED" && lastState !== "FAILED") v.details.open = true;
    lastState = s.state;
    renderStatic(v, s);
    // One 1 s interval per view, only while something moves.
    if (needsTick(s) && ticker == null) ticker = setInterval(tick, 1000);
    else if (!needsTick(s) && ticker != null) {
      clearInterval(ticker);
      ticker = null;
    }
    renderClocks(v, s, Date.now(), ticker != null);
  };

  // The live region speaks on state changes only, never on liveness stamps.
  const announce = () => {
    if (!disposed) setText(v.live, announcement(snapshot(model)));
  };

  const onCopy = async () => {
    const id = snapshot(model).task_id;
    const ok = id ? await copyText(id).catch(() => false) : false;
    if (disposed) return;
    v.copy.textContent = ok ? "Copied" : "Copy failed";
    if (copiedTimer != null) clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => {
      copiedTimer = null;
      v.copy.textContent = "Copy";
    }, COPIED_MS);
  };

  for (const name of TRAITS) model.on(`change:${name}`, update);
  model.on("change:state", announce);
  v.copy.addEventListener("click", onCopy);
  update();
  announce();

  return () => {
    if (disposed) return;
    signIn.dispose();
    endWord.dispose(); // issue #15 hook
    disposed = true;
    for (const name of TRAITS) model.off(`change:${name}`, update);
    model.off("change:state", announce);
    v.copy.removeEventListener("click", onCopy);
    if (ticker != null) clearInterval(ticker);
    if (copiedTimer != null) clearTimeout(copiedTimer);
    ticker = copiedTimer = null;
    v.root.remove();
  };
}

export default { render };
