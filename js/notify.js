// @ts-check
// A word when a long task ends: opt-in, from the bell button or `notify=True`
// (the synced `notify` trait). When a task (TaskWidget) or a whole list (TaskListWidget)
// that ran longer than NOTIFY_AFTER_MS ends while the page is hidden, a browser
// notification names it and its outcome. Permission is asked for only on the bell's click;
// where notifications are refused or unsupported the page title changes instead, and the
// widget says so.
import { h, setAttr, setText } from "./dom.js";
import { fmtDuration, parseUtc } from "./format.js";
import { ACTIVE } from "./stages.js";
import { CANCELLED, FAILED, OUTCOME_WORDS, SUCCESS } from "./vocabulary.js";

/** Shorter work ends while you are still looking: no word for it. */
export const NOTIFY_AFTER_MS = 30_000;

/**
 * What the browser allows: "granted", "denied", "default" (not asked yet) or "unsupported".
 * @param {any} [win] @returns {string}
 */
export function notifyPermission(win = globalThis) {
  const N = win.Notification;
  if (typeof N !== "function" || !win.isSecureContext) return "unsupported";
  return String(N.permission || "default");
}

/**
 * Should this end be told? Only when opted in, the page is hidden, and the work was long.
 * @param {{ enabled: boolean, hidden: boolean, durationMs: number }} end
 */
export function shouldNotify({ enabled, hidden, durationMs }) {
  return enabled && hidden && Number.isFinite(durationMs) && durationMs >= NOTIFY_AFTER_MS;
}

/**
 * The widget's words about the bell, for a permission and whether it is on.
 * @param {boolean} enabled @param {string} permission
 */
export function bellStatus(enabled, permission) {
  if (!enabled) return "";
  if (permission === "granted") return "You will get a notification when this ends while the page is hidden.";
  if (permission === "default") return "Click the bell to allow notifications; until then the page title changes when this ends.";
  const why = permission === "denied" ? "The browser blocks notifications" : "This browser cannot show notifications";
  return `${why}: the page title will change when this ends while the page is hidden.`;
}

/** A small bell drawn in the text colour (no emoji font needed). */
function bellIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const icon = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ class: "stw-bell-icon", viewBox: "0 0 16 16", width: "12", height: "12", "aria-hidden": "true" })) {
    icon.setAttribute(k, v);
  }
  const path = icon.appendChild(document.createElementNS(ns, "path"));
  path.setAttribute("d", "M8 1.5a4 4 0 0 0-4 4v3L2.5 11v1h11v-1L12 8.5v-3a4 4 0 0 0-4-4zM6.5 13a1.5 1.5 0 0 0 3 0z");
  path.setAttribute("fill", "currentColor");
  return icon;
}

/**
 * The bell button and its status line; `ended()` tells of an end.
 * @param {{ get(name: string): any, set?(name: string, value: any): void, save_changes?(): void,
 *   on(e: string, cb: () => void): void, off(e?: string, cb?: () => void): void }} model
 */
export function mountBell(model) {
  const el = h("span", "stw-bell");
  const button = /** @type {HTMLButtonElement} */ (
    el.appendChild(h("button", "stw-bell-button", undefined, { type: "button", "aria-pressed": "false" }))
  );
  button.append(bellIcon(), h("span", "stw-bell-text", "Notify me"));
  const status = el.appendChild(h("span", "stw-bell-status", "", { role: "status" }));
  let titleBefore = "";
  let disposed = false;

  const render = () => {
    const on = Boolean(model.get("notify"));
    setAttr(button, "aria-pressed", on ? "true" : "false");
    setAttr(button, "title", on ? "Stop notifying" : "Notify me when this ends while the page is hidden");
    setText(status, bellStatus(on, notifyPermission()));
  };

  const onClick = async () => {
    // On with permission not asked yet (notify=True from Python): this click asks.
    const on = !model.get("notify") || notifyPermission() === "default";
    if (on && notifyPermission() === "default") {
      try {
        await globalThis.Notification.requestPermission();
      } catch {
        // Refused or unsupported: the title fallback below says so.
      }
    }
    if (disposed) return;
    model.set?.("notify", on);
    model.save_changes?.();
    render();
  };

  /** Back on the page: the title is its own again. Not removed by dispose(): the view
   * may be gone (the widget became a document) before the person comes back. */
  const onVisible = () => {
    if (document.hidden || !titleBefore) return;
    document.title = titleBefore;
    titleBefore = "";
    document.removeEventListener("visibilitychange", onVisible);
  };

  /**
   * Something ended: tell of it if opted in, hidden and long enough.
   * @param {string} title e.g. "Task 1a2b3c4d FAILED" @param {string} body @param {number} durationMs
   * @returns {"notification" | "title" | ""} how it was told (for tests)
   */
  const ended = (title, body, durationMs) => {
    const enabled = Boolean(model.get("notify"));
    if (!shouldNotify({ enabled, hidden: document.hidden, durationMs })) return "";
    if (notifyPermission() === "granted") {
      try {
        new globalThis.Notification(title, { body, tag: `stw-${title}` });
        return "notification";
      } catch {
        // e.g. Android Chrome allows only service-worker notifications: use the title.
      }
    }
    if (!titleBefore) document.addEventListener("visibilitychange", onVisible);
    titleBefore = titleBefore || document.title;
    document.title = `${title} — ${titleBefore}`;
    setText(status, `${title}. ${bellStatus(true, notifyPermission())}`);
    return "title";
  };

  button.addEventListener("click", onClick);
  model.on("change:notify", render);
  render();
  const dispose = () => {
    disposed = true;
    button.removeEventListener("click", onClick);
    model.off("change:notify", render);
    el.remove();
  };
  return { el, ended, dispose };
}

/**
 * "Task 1a2b3c4d ended: FAILED" and its body, for a TaskWidget's end.
 * @param {string} taskId @param {string} state @param {number} durationMs
 */
export function taskEndWords(taskId, state, durationMs) {
  const outcome =
    state === SUCCESS || state === FAILED ? OUTCOME_WORDS[state] : state === CANCELLED ? "was cancelled" : `ended ${state}`;
  return { title: `Task ${taskId.slice(0, 8)} ${outcome}`, body: `Search task ${taskId} ${outcome} after ${fmtDuration(durationMs)}.` };
}

/**
 * Words for a whole list's end.
 * @param {number} total @param {number} succeeded @param {number} failed @param {number} durationMs
 */
export function listEndWords(total, succeeded, failed, durationMs) {
  const tasks = `task${total === 1 ? "" : "s"}`;
  const title = failed
    ? `${failed} of ${total} ${tasks} failed`
    : succeeded === total
      ? `All ${total} ${tasks} succeeded`
      : `${total} ${tasks} ended, ${succeeded} succeeded`;
  return { title, body: `${total} Search ${tasks} ended after ${fmtDuration(durationMs)}.` };
}


/** The service still works on it, or it was not checked yet (""). @param {string} state */
const waiting = (state) => state === "" || ACTIVE.has(state);

/**
 * Give a widget its bell and tell of the end it watches: the whole of the hook that
 * js/widget.js (kind "task") and js/list.js (kind "list") call. Ends are seen as they
 * arrive: a view opened on work that already ended says nothing.
 * @param {any} model @param {"task" | "list"} kind @returns {{ el: HTMLElement, dispose: () => void }}
 */
export function mountEndWord(model, kind) {
  const bell = mountBell(model);
  const running = () =>
    kind === "task"
      ? waiting(String(model.get("state") || ""))
      : Number(model.get("done")) < Number(model.get("total"));
  let was = running();
  const onChange = () => {
    const now = running();
    if (was && !now) bell.ended(...endWords(model, kind));
    was = now;
  };
  const trait = kind === "task" ? "change:state" : "change:done";
  model.on(trait, onChange);
  return {
    el: bell.el,
    dispose: () => {
      model.off(trait, onChange);
      bell.dispose();
    },
  };
}

/** @param {any} model @param {"task" | "list"} kind @returns {[string, string, number]} */
function endWords(model, kind) {
  if (kind === "task") {
    const ms = parseUtc(model.get("completion_date")) - parseUtc(model.get("creation_date"));
    const w = taskEndWords(String(model.get("task_id")), String(model.get("state")), ms);
    return [w.title, w.body, ms];
  }
  const rows = Array.isArray(model.get("rows")) ? model.get("rows") : [];
  const succeeded = rows.filter((/** @type {any} */ r) => r && r.state === SUCCESS).length;
  const ms = parseUtc(model.get("last_completed")) - parseUtc(model.get("first_submitted"));
  const w = listEndWords(Number(model.get("total")), succeeded, Number(model.get("failed")), ms);
  return [w.title, w.body, ms];
}
