// @ts-check
// Front end of search_task_widget's TaskListWidget: many Globus Search tasks in one view.
// Bundled with its imports into one module (js/build.js), so it loads offline. Model data
// reaches the DOM as text, never HTML. Rows are keyed by task id and reused: an update
// touches only the rows that changed.
import { h, pair, setAttr, setHidden, setText, showDate } from "./dom.js";
import { filterOptions, matches, problemRank, progressText, stateCounts } from "./filter.js";
import { fmtDuration, fmtLocal, fmtUtc, parseUtc } from "./format.js";
import { mountEndWord } from "./notify.js";
import { mountSignIn } from "./signin.js";
import { isLive, snapshotText, watchKernel } from "./snapshot.js";
import { rowRunning, toneOf } from "./stages.js";
import { mountTimeline } from "./timeline.js";
import { FAILED, LIST_TRAITS, NO_TASKS, NOT_CHECKED, SUCCESS } from "./vocabulary.js";

/** @typedef {import("./model.js").ListTraits} ListTraits */
/** @typedef {import("./model.js").Model<ListTraits>} Model */
/** @typedef {import("./model.js").Row} Row */

/** Rows drawn at once; "Show more" adds as many again. */
const PAGE = 200;

// ---- model

/** @param {any} value @returns {string} */
const str = (value) => (value == null ? "" : String(value));

/** @param {any} raw @returns {Row | null} */
function cleanRow(raw) {
  if (!raw || typeof raw !== "object" || !raw.task_id) return null;
  return {
    task_id: str(raw.task_id),
    state: str(raw.state),
    state_description: str(raw.state_description),
    task_type: str(raw.task_type) || null,
    message: str(raw.message) || null,
    additional_details: raw.additional_details ?? null,
    creation_date: str(raw.creation_date),
    completion_date: str(raw.completion_date) || null,
    error: str(raw.error),
    trouble: str(raw.trouble),
    retried: str(raw.retried), // checks that failed and went through again, kept
    started: Number.isFinite(raw.started) ? Number(raw.started) : null, // when the list first saw it running
  };
}

/** Read every synced trait, with safe defaults for missing or odd values. @param {Model} model */
function snapshot(model) {
  const raw = model.get("rows");
  /** @type {Row[]} */
  const rows = [];
  const ids = new Set();
  for (const item of Array.isArray(raw) ? raw : []) {
    const row = cleanRow(item);
    if (row && !ids.has(row.task_id)) {
      ids.add(row.task_id);
      rows.push(row);
    }
  }
  const num = (/** @type {keyof ListTraits} */ k) => Math.max(0, Number(model.get(k)) || 0);
  return {
    rows,
    total: num("total"),
    done: num("done"),
    failed: num("failed"),
    polling: Boolean(model.get("polling")),
    first_submitted: str(model.get("first_submitted")) || null,
    last_completed: str(model.get("last_completed")) || null,
    error: str(model.get("error")),
    last_checked: num("last_checked"),
  };
}

/** @typedef {ReturnType<typeof snapshot>} Snap */

// ---- formatting

/** Creation to completion, or to `now` while it runs and is polled. @param {Row} row @param {number} now @param {boolean} polling */
function rowElapsed(row, now, polling) {
  const start = parseUtc(row.creation_date);
  if (Number.isNaN(start)) return "—";
  const end = parseUtc(row.completion_date);
  if (!Number.isNaN(end)) return fmtDuration(end - start);
  return polling && rowRunning(row) ? fmtDuration(now - start) : "—";
}

/** @param {any} value */
function pretty(value) {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

// ---- DOM

/** The static skeleton; every model-driven node is returned for updates. */
function build() {
  const root = h("div", "stw-list-root");
  const header = root.appendChild(h("div", "stw-list-header"));
  const summary = header.appendChild(h("span", "stw-list-summary"));
  const counts = header.appendChild(h("ul", "stw-list-counts", undefined, { "aria-label": "Tasks by state" }));

  const bar = root.appendChild(
    h("div", "stw-list-bar", undefined, {
      role: "progressbar", "aria-label": "Tasks done", "aria-valuemin": "0",
      "aria-valuemax": "0", "aria-valuenow": "0",
    }),
  );
  const segSuccess = bar.appendChild(h("span", "stw-list-seg stw-list-seg-success"));
  const segFailed = bar.appendChild(h("span", "stw-list-seg stw-list-seg-failed"));
  const segOther = bar.appendChild(h("span", "stw-list-seg stw-list-seg-other"));

  const live = root.appendChild(
    h("div", "stw-sr-only", undefined, { "aria-live": "polite", "aria-atomic": "true" }),
  );
  const error = root.appendChild(h("div", "stw-list-error"));
  // Said only where nothing updates the view (js/snapshot.js).
  const frozen = root.appendChild(h("p", "stw-snapshot", undefined, { role: "note", hidden: "" }));

  const times = root.appendChild(h("dl", "stw-list-times"));
  const t = {
    submitted: pair(times, "First submitted"),
    completed: pair(times, "Last completed"),
    elapsed: pair(times, "Elapsed"),
    checked: pair(times, "Last checked"),
  };

  const toolbar = root.appendChild(h("div", "stw-list-toolbar"));
  const label = toolbar.appendChild(h("label", "stw-list-filter-label", "Show "));
  const filter = /** @type {HTMLSelectElement} */ (
    label.appendChild(h("select", "stw-list-filter", undefined, { "aria-label": "Show tasks" }))
  );
  const shown = toolbar.appendChild(h("span", "stw-list-shown"));

  const list = root.appendChild(h("ul", "stw-list-rows", undefined, { "aria-label": "Tasks" }));
  const empty = root.appendChild(h("div", "stw-list-empty"));
  const more = /** @type {HTMLButtonElement} */ (
    root.appendChild(h("button", "stw-list-more", undefined, { type: "button" }))
  );
  return { root, summary, counts, bar, segSuccess, segFailed, segOther, live, error, frozen, t, filter, shown, list, empty, more };
}

/** @typedef {ReturnType<typeof build>} View */

/** The elements of one row, created once per task id and reused. */
function makeRow() {
  const li = h("li", "stw-list-row");
  const line = h("span", "stw-list-line");
  line.append(h("span", "stw-list-toggle", undefined, { "aria-hidden": "true" }));
  const badge = line.appendChild(h("span", "stw-list-badge"));
  const id = line.appendChild(h("code", "stw-list-id"));
  const desc = line.appendChild(h("span", "stw-list-desc"));
  const elapsed = line.appendChild(h("span", "stw-list-elapsed"));
  const snippet = line.appendChild(h("span", "stw-list-snippet"));
  const details = /** @type {HTMLDetailsElement} */ (h("details", "stw-list-details"));
  const summary = details.appendChild(h("summary", "stw-list-line-wrap"));
  const body = details.appendChild(h("div", "stw-list-body"));
  const fullId = body.appendChild(h("div", "stw-list-fullid"));
  const message = body.appendChild(h("div", "stw-list-message"));
  const error = body.appendChild(h("div", "stw-list-row-error"));
  const pre = body.appendChild(h("pre", "stw-list-pre"));
  li.append(line);
  return {
    li, line, badge, id, desc, elapsed, snippet, details, summary, fullId, message, error, pre,
    expandable: false,
    sig: "",
    /** @type {Row} */ row: /** @type {any} */ (null),
    index: 0,
  };
}

/** @typedef {ReturnType<typeof makeRow>} RowView */

/** Put the row's line in a <details> (something to unfold) or on its own. @param {RowView} r @param {boolean} yes */
function setExpandable(r, yes) {
  if (yes === r.expandable) return;
  r.expandable = yes;
  if (yes) {
    r.summary.append(r.line);
    r.li.replaceChildren(r.details);
  } else {
    r.li.replaceChildren(r.line);
  }
}

/** Bring one row up to date; a row whose data did not change is not touched. @param {RowView} r @param {Row} row */
function updateRow(r, row) {
  const sig = JSON.stringify(row);
  if (sig === r.sig) return false;
  r.sig = sig;
  r.row = row;
  setAttr(r.li, "data-task-id", row.task_id);
  setAttr(r.li, "data-state", row.state);
  setAttr(r.li, "data-tone", toneOf(row.state));
  setAttr(r.li, "data-trouble", row.trouble);
  setText(r.badge, row.state || NOT_CHECKED);
  setText(r.id, row.task_id.slice(0, 8));
  setAttr(r.id, "title", row.task_id);
  const waiting = row.state ? "" : row.trouble ? "" : "Waiting for the first check";
  setText(r.desc, row.state_description || waiting);
  // A one-line hint of what went wrong, right on the row.
  const hint = row.state === FAILED ? row.message || "" : row.trouble ? row.error : row.retried;
  setText(r.snippet, hint);
  setHidden(r.snippet, !hint);
  setAttr(r.snippet, "title", hint || null);

  const hasDetails = row.additional_details != null;
  setExpandable(r, Boolean(row.message || hasDetails || row.error));
  setText(r.fullId, `Task ${row.task_id}` + (row.task_type ? ` (${row.task_type})` : ""));
  setText(r.message, row.message || "");
  setHidden(r.message, !row.message);
  setText(r.error, row.error);
  setHidden(r.error, !row.error);
  setText(r.pre, hasDetails ? pretty(row.additional_details) : "");
  setHidden(r.pre, !hasDetails);
  return true;
}

/**
 * Make `list`'s children exactly `wanted`, in order, moving as few nodes as possible:
 * rows already in place are not touched at all.
 * @param {HTMLElement} list @param {HTMLElement[]} wanted
 */
function place(list, wanted) {
  const keep = new Set(wanted);
  for (const child of Array.from(list.children)) {
    if (!keep.has(/** @type {HTMLElement} */ (child))) child.remove();
  }
  let cursor = list.firstElementChild;
  for (const el of wanted) {
    if (el === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(el, cursor);
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
  /** @type {Map<string, RowView>} */
  const views = new Map();
  /** @type {RowView[]} rows drawn now that are still running (their clocks tick) */
  let ticking = [];
  let filterValue = "all";
  let limit = PAGE;
  let filterSig = "";
  let countsSig = "";
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;
  let scheduled = false;
  let disposed = false;
  // Nothing updates a view with no kernel behind it: no clock moves, "now" is the last check.
  const current = () => {
    const s = snapshot(model);
    return isLive(kernel) ? s : { ...s, polling: false };
  };
  const viewNow = () => (isLive(kernel) ? Date.now() : snap.last_checked || Date.now());
  let snap = current();
  // Milestones are spoken relative to what the view first showed.
  const troubleOf = (/** @type {Snap} */ s) => s.rows.filter((row) => row.trouble === "fatal").length;
  let said = { done: snap.done, failed: snap.failed, total: snap.total, trouble: troubleOf(snap) };

  // The timeline (js/timeline.js) above the toolbar, the bell (js/notify.js) in the header.
  /** Show one task's row: the filter and "show more" let it through, it unfolds and takes focus. @param {string} id */
  const selectRow = (id) => {
    const r = views.get(id);
    if (!r) return;
    if (!matches(r.row, filterValue)) {
      filterValue = "all";
      renderFilter();
      v.filter.value = filterValue;
    }
    renderList();
    while (!r.li.isConnected && limit < views.size) {
      limit += PAGE;
      renderList();
    }
    renderClocks();
    for (const old of v.list.querySelectorAll("[aria-current]")) old.removeAttribute("aria-current");
    r.li.setAttribute("aria-current", "true");
    if (r.expandable) r.details.open = true;
    r.li.scrollIntoView?.({ block: "nearest" });
    const target = r.expandable ? r.summary : r.li;
    if (!r.expandable) r.li.tabIndex = -1;
    target.focus({ preventScroll: true });
  };
  const timeline = mountTimeline({ onSelect: selectRow });
  v.root.insertBefore(timeline.el, v.root.querySelector(".stw-list-toolbar"));
  const endWord = mountEndWord(model, "list");
  v.root.querySelector(".stw-list-header")?.append(endWord.el);
  /** The chart follows the rows, and the clock every few seconds while tasks run (500 bars
   * move when "now" moves: bench/bench_timeline.py measures one such redraw). */
  let chartDrawn = 0;
  const drawChart = (/** @type {boolean} */ clock) => {
    const now = Date.now();
    if (clock && now - chartDrawn < 5000) return;
    chartDrawn = now;
    timeline.update(snap.rows, isLive(kernel) ? now : snap.last_checked || now);
  };

  /** The rows as the model orders them, each bound to its (reused) elements. */
  const syncRows = () => {
    const seen = new Set();
    snap.rows.forEach((row, i) => {
      let r = views.get(row.task_id);
      if (!r) {
        r = makeRow();
        views.set(row.task_id, r);
      }
      r.index = i;
      updateRow(r, row);
      seen.add(row.task_id);
    });
    for (const [id, r] of views) {
      if (!seen.has(id)) {
        r.li.remove();
        views.delete(id);
      }
    }
  };

  /** Filter options (the user's choice stays listed even when nothing matches it any more). */
  const renderFilter = () => {
    const options = filterOptions(snap.rows, filterValue);
    const sig = JSON.stringify(options);
    if (sig === filterSig) return;
    filterSig = sig;
    v.filter.replaceChildren(
      ...options.map(([value, text]) => {
        const option = /** @type {HTMLOptionElement} */ (h("option", "", text));
        option.value = value;
        return option;
      }),
    );
    v.filter.value = filterValue;
  };

  const renderCounts = () => {
    const entries = stateCounts(snap.rows);
    const sig = JSON.stringify(entries);
    if (sig === countsSig) return;
    countsSig = sig;
    v.counts.replaceChildren(
      ...entries.map(([state, n]) => {
        const li = h("li", "stw-list-count", undefined, { "data-tone": toneOf(state === NOT_CHECKED ? "" : state) });
        li.append(h("span", "stw-list-count-n", String(n)), " ", h("span", "stw-list-count-state", state));
        return li;
      }),
    );
  };

  const renderBar = () => {
    const { total, done, failed } = snap;
    const success = snap.rows.filter((row) => row.state === SUCCESS).length;
    const other = Math.max(0, done - success - failed);
    const pct = (/** @type {number} */ n) => (total ? `${Math.min(100, (100 * n) / total)}%` : "0%");
    setAttr(v.bar, "aria-valuemax", String(total));
    setAttr(v.bar, "aria-valuenow", String(Math.min(done, total)));
    setAttr(v.bar, "aria-valuetext", progressText(done, total, failed));
    setAttr(v.bar, "data-polling", snap.polling ? "true" : "false");
    for (const [seg, n] of /** @type {[HTMLElement, number][]} */ ([
      [v.segSuccess, success], [v.segFailed, failed], [v.segOther, other],
    ])) {
      const width = pct(n);
      if (seg.style.width !== width) seg.style.width = width;
    }
    const running = snap.rows.filter(rowRunning).length;
    setText(v.summary, progressText(done, total, failed) + (running ? ` · ${running} running` : ""));
    const tone = !total ? "idle" : failed ? "failed" : done === total ? "success" : "running";
    setAttr(v.root, "data-tone", tone);
    setText(v.error, snap.error);
    setHidden(v.error, !snap.error);
  };

  /** Filter, order (problems first), cap, and place the rows. */
  const renderList = () => {
    const rows = [];
    for (const r of views.values()) if (matches(r.row, filterValue)) rows.push(r);
    rows.sort((a, b) => problemRank(a.row) - problemRank(b.row) || a.index - b.index);
    const drawn = rows.slice(0, limit);
    place(v.list, drawn.map((r) => r.li));
    ticking = drawn.filter((r) => rowRunning(r.row));
    const hidden = rows.length - drawn.length;
    setText(v.more, hidden ? `Show ${Math.min(PAGE, hidden)} more (${hidden} not shown)` : "");
    setHidden(v.more, !hidden);
    setText(v.shown, hidden ? `${drawn.length} of ${rows.length} shown` : "");
    setText(v.empty, snap.rows.length ? `${NO_TASKS} match this filter.` : `${NO_TASKS} yet.`);
    setHidden(v.empty, rows.length > 0);
  };

  /** Clocks: overall elapsed and the elapsed time of drawn running rows. */
  const renderClocks = () => {
    const now = viewNow();
    const start = parseUtc(snap.first_submitted);
    const end = parseUtc(snap.last_completed);
    let elapsed = "—";
    if (!Number.isNaN(start) && !Number.isNaN(end)) elapsed = fmtDuration(end - start);
    else if (!Number.isNaN(start) && snap.polling) elapsed = fmtDuration(now - start);
    else if (!Number.isNaN(start) && snap.last_checked) elapsed = fmtDuration(snap.last_checked - start);
    setText(v.t.elapsed, elapsed);
    for (const r of ticking) setText(r.elapsed, rowElapsed(r.row, now, snap.polling));
  };

  const renderTimes = () => {
    showDate(v.t.submitted, snap.first_submitted, { zone: false });
    showDate(v.t.completed, snap.last_completed, { zone: false });
    const lc = snap.last_checked;
    setText(v.t.checked, lc ? fmtLocal(lc, { zone: false }) : "—");
    setAttr(v.t.checked, "title", lc ? fmtUtc(lc) : null);
    const now = viewNow();
    for (const r of views.values()) setText(r.elapsed, rowElapsed(r.row, now, snap.polling));
  };

  /** Speak aggregate milestones only: a quarter done, a new failure, all done. */
  const announce = () => {
    const { done, failed, total } = snap;
    const trouble = troubleOf(snap);
    let text = "";
    if (total && done >= total && (said.done < said.total || said.total !== total)) {
      text = progressText(done, total, failed);
    } else if (failed > said.failed) {
      text = progressText(done, total, failed);
    } else if (total && Math.floor((4 * done) / total) > Math.floor((4 * said.done) / (said.total || total))) {
      text = progressText(done, total, failed);
    } else if (trouble > said.trouble) {
      text = `${trouble} task${trouble === 1 ? "" : "s"} could not be checked`;
    }
    said = { done, failed, total, trouble };
    if (text) setText(v.live, text);
  };

  const tick = () => {
    if (disposed) return;
    renderClocks();
    drawChart(true);
  };

  const update = () => {
    scheduled = false;
    if (disposed) return;
    snap = current();
    const unended = isLive(kernel) ? 0 : snap.rows.filter(rowRunning).length;
    setText(v.frozen, unended ? snapshotText(snap.last_checked, unended, snap.rows.length) : "");
    v.frozen.hidden = !unended;
    syncRows();
    renderFilter();
    renderCounts();
    renderBar();
    renderList();
    renderTimes();
    renderClocks();
    drawChart(false);
    announce();
    // One 1 s interval per view, only while tasks are polled.
    if (snap.polling && ticker == null) ticker = setInterval(tick, 1000);
    else if (!snap.polling && ticker != null) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  // One message changes several traits: draw once for all of them.
  const schedule = () => {
    if (scheduled || disposed) return;
    scheduled = true;
    queueMicrotask(update);
  };

  const onFilter = () => {
    filterValue = v.filter.value || "all";
    limit = PAGE;
    renderFilter();
    renderList();
    renderClocks();
  };
  const onMore = () => {
    limit += PAGE;
    renderList();
    renderClocks();
  };

  for (const name of LIST_TRAITS) model.on(`change:${name}`, schedule);
  v.filter.addEventListener("change", onFilter);
  v.more.addEventListener("click", onMore);
  const unwatch = watchKernel(kernel, schedule); // the kernel went away (or came back)
  update();

  return () => {
    if (disposed) return;
    unwatch();
    signIn.dispose();
    timeline.dispose();
    endWord.dispose();
    disposed = true;
    for (const name of LIST_TRAITS) model.off(`change:${name}`, schedule);
    v.filter.removeEventListener("change", onFilter);
    v.more.removeEventListener("click", onMore);
    if (ticker != null) clearInterval(ticker);
    ticker = null;
    views.clear();
    v.root.remove();
  };
}

export default { render };
