// @ts-check
// Each widget's own `_esm`. The real front end (js/widget.js or js/list.js with their
// shared parts and stylesheet) lives in one shared model per kernel, named by the
// widget's `_front_end` ("IPY_MODEL_<id>"), so a saved notebook holds that code once, not
// once per widget. Every widget carries this file, so it is terse: Python also strips the
// comment lines and indentation before sending it. The module is imported once per page
// (cached on globalThis: anywidget imports each model's `_esm` as a module of its own),
// from a blob: URL, as anywidget itself imports `_esm`. Each view also gets the shared
// model itself as `kernel` (js/snapshot.js): rebuilt from saved widget state with no
// kernel behind it, it is not comm_live.
const loaded = (globalThis.searchTaskWidgetModules ??= new Map());
export default {
  /** @param {{ model: import("@anywidget/types").AnyModel<{ _front_end: string }>, el: HTMLElement }} view */
  async render(view) {
    const ref = view.model.get("_front_end").slice(10);
    const kernel = await view.model.widget_manager.get_model(ref);
    const code = kernel.get("esm");
    if (!loaded.has(code)) {
      const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
      loaded.set(code, import(url).then((m) => m.default));
    }
    return (await loaded.get(code)).render({ ...view, kernel });
  },
};
