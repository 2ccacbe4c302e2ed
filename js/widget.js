// @ts-check
// Front end of search_task_widget's TaskWidget: one Globus Search task, shown live.
// Bundled with its imports into one module (js/build.js), so it loads offline (HPC
// gateways have no CDN). Model data reaches the DOM as text, never HTML.
import { h, pair, setAttr, setText, showDate } from "./dom.js";
import { fmtAgo, fmtDuration, fmtLocal, fmtUtc, parseUtc } from "./format.js";
import { mountEndWord } from "./notify.js";
import { mountSignIn } from "./signin.js";
import { isLive, snapshotText, watchKernel } from "./snapshot.js";
import { ACTIVE, QUEUED, STAGES, stageOf, stageText, taskRunning, toneOf } from "./stages.js";
import { NOT_SEEN, phases } from "./timing.js";
import { FAILED, PROGRESS, TASK_TRAITS } from "./vocabulary.js";

/** @typedef {import("./model.js").TaskTraits} TaskTraits */
/** @typedef {import("./model.js").Model<TaskTraits>} Model */

const COPIED_MS = 1500;

/** @typedef {ReturnType<typeof snapshot>} Snap */

/** Read every synced trait, with safe defaults for missing or odd values. @param {Model} model */
function snapshot(model) {
  const str = (/** @type {keyof TaskTraits} */ k) => String(model.get(k) ?? "");
  const opt = (/** @type {keyof TaskTraits} */ k) => str(k) || null;
  const num = (/** @type {keyof TaskTraits} */ k) => Number(model.get(k)) || 0;
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
    retried: str("retried"),
    polling: Boolean(model.get("polling")),
    stage_times: /** @type {Record<string, number>} */ (times && typeof times === "object" ? times : {}),
    last_checked: num("last_checked"),
    next_check: num("next_check"),
    poll_interval: num("poll_interval"),
  };
}

// ---- DOM

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
  // Said only where nothing updates the view (js/snapshot.js).
  const frozen = root.appendChild(h("p", "stw-snapshot", undefined, { role: "note", hidden: "" }));

  const message = root.appendChild(h("div", "stw-message"));
  const details = /** @type {HTMLDetailsElement} */ (root.appendChild(h("details", "stw-details")));
  details.append(h("summary", "", "Additional details"));
  const detailsPre = details.appendChild(h("pre", "stw-pre"));
  const error = root.appendChild(h("div", "stw-error"));
  // A task that went through an outage keeps saying so once the checks go through again.
  const retried = root.appendChild(h("div", "stw-retried"));

  const panels = root.appendChild(h("div", "stw-panels"));
  const ids = panels.appendChild(h("dl", "stw-dl"));
  const taskCell = pair(ids, "Task id");
  taskCell.className = "stw-id-cell";
  const taskId = taskCell.appendChild(h("code", "stw-mono"));
  const copy = /** @type {HTMLButtonElement} */ (
    taskCell.appendChild(h("button", "stw-copy", "Copy", { type: "button", "aria-label": "Copy task id" }))
  );
  const indexId = pair(ids, "Index").appendChild(h("code", "stw-mono"));

  const times = panels.appendChild(h("dl", "stw-dl"));
  const t = {
    submitted: pair(times, "Submitted"),
    completed: pair(times, "Completed"),
    elapsed: pair(times, "Elapsed"),
    queued: pair(times, "Queued"),
    running: pair(times, "Running"),
    checked: pair(times, "Last checked"),
    next: pair(times, "Next check"),
  };
  const observed = "As observed by the poller: accurate to about one polling interval";
  t.queued.title = observed;
  t.running.title = observed;
  return { root, badge, type, desc, bar, segs, labels, live, frozen, message, details, detailsPre, error, retried, taskId, copy, indexId, t };
}

/** @typedef {ReturnType<typeof build>} View */

/** Everything except the clocks and the live region. @param {View} v @param {Snap} s */
function renderStatic(v, s) {
  const tone = toneOf(s.state);
  const stage = stageOf(s.state, s.stage_times);
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
  setAttr(v.bar, "aria-valuetext", stageText(s.state, stage));
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
  setText(v.retried, s.retried);
  v.retried.hidden = !s.retried;
  setAttr(v.error, "data-trouble", s.trouble || "retrying");

  setText(v.taskId, s.task_id || "—");
  v.copy.disabled = !s.task_id;
  setText(v.indexId, s.index_id || "—");
  showDate(v.t.submitted, s.creation_date);
  showDate(v.t.completed, s.completion_date);
}

/** The values that move with time. @param {View} v @param {Snap} s @param {number} now @param {boolean} ticking */
function renderClocks(v, s, now, ticking) {
  // One timing truth (js/timing.js): the parts add up to the whole as shown.
  const seen = s.stage_times[PROGRESS];
  const p = phases(parseUtc(s.creation_date), typeof seen === "number" ? seen : NaN,
    parseUtc(s.completion_date), taskRunning(s) ? now : NaN, QUEUED.has(s.state));
  const text = (/** @type {number | null} */ n) =>
    n != null ? fmtDuration(n * 1000) : p.elapsed != null ? NOT_SEEN : "—";
  setText(v.t.elapsed, text(p.elapsed));
  setText(v.t.queued, text(p.queued));
  setText(v.t.running, text(p.running));

  // "N s ago" only while the clock ticks; a frozen "ago" would lie.
  const lc = s.last_checked;
  setText(v.t.checked, lc ? fmtLocal(lc, { short: true, now }) + (ticking ? ` (${fmtAgo(now - lc)})` : "") : "—");
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
 * anywidget entry point: one call per view (`kernel`: see js/snapshot.js).
 * @param {{ model: Model, el: HTMLElement, kernel?: import("./snapshot.js").Kernel }} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el, kernel }) {
  const v = build();
  el.append(v.root);
  // The sign-in panel (js/signin.js) sits under the header.
  const signIn = mountSignIn(model);
  v.root.insertBefore(signIn.el, v.root.children[1] || null);
  // The bell (js/notify.js) in the header: a word when a long task ends.
  const endWord = mountEndWord(model, "task");
  v.root.querySelector(".stw-header")?.append(endWord.el);
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let copiedTimer = null;
  let lastState = /** @type {string | null} */ (null);
  let scheduled = false;
  let disposed = false;

  // Nothing updates a view with no kernel behind it: no clock moves, "now" is the last check.
  const current = () => {
    const s = snapshot(model);
    return isLive(kernel) ? s : { ...s, polling: false };
  };
  const now = (/** @type {Snap} */ s) => (isLive(kernel) ? Date.now() : s.last_checked || Date.now());
  const needsTick = (/** @type {Snap} */ s) => isLive(kernel) && (taskRunning(s) || s.polling);
  const tick = () => {
    const s = current();
    renderClocks(v, s, now(s), ticker != null);
  };

  const update = () => {
    scheduled = false;
    if (disposed) return;
    const s = current();
    // Open the details when the task turns FAILED; otherwise leave the user's choice alone.
    if (s.state === FAILED && lastState !== FAILED) v.details.open = true;
    lastState = s.state;
    renderStatic(v, s);
    const unended = !isLive(kernel) && taskRunning({ ...s, polling: true });
    setText(v.frozen, unended ? snapshotText(s.last_checked, 1, 1) : "");
    v.frozen.hidden = !unended;
    // One 1 s interval per view, only while something moves.
    if (needsTick(s) && ticker == null) ticker = setInterval(tick, 1000);
    else if (!needsTick(s) && ticker != null) {
      clearInterval(ticker);
      ticker = null;
    }
    renderClocks(v, s, now(s), ticker != null);
  };

  // One message changes several traits: draw once for all of them.
  const schedule = () => {
    if (scheduled || disposed) return;
    scheduled = true;
    queueMicrotask(update);
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

  for (const name of TASK_TRAITS) model.on(`change:${name}`, schedule);
  model.on("change:state", announce);
  v.copy.addEventListener("click", onCopy);
  const unwatch = watchKernel(kernel, schedule); // the kernel went away (or came back)
  update();
  announce();

  return () => {
    if (disposed) return;
    unwatch();
    signIn.dispose();
    endWord.dispose();
    disposed = true;
    for (const name of TASK_TRAITS) model.off(`change:${name}`, schedule);
    model.off("change:state", announce);
    v.copy.removeEventListener("click", onCopy);
    if (ticker != null) clearInterval(ticker);
    if (copiedTimer != null) clearTimeout(copiedTimer);
    ticker = copiedTimer = null;
    v.root.remove();
  };
}

export default { render };
