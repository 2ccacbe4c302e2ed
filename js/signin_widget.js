// @ts-check
// Front end of search_task_widget's SignInWidget: the sign-in panel and one line that
// says who is signed in.
import { mountSignIn } from "./signin.js";

/** @typedef {import("./model.js").Model<import("./model.js").SignInWidgetTraits>} Model */

/**
 * anywidget entry point: one call per view.
 * @param {{ model: Model, el: HTMLElement }} ctx
 * @returns {() => void} cleanup
 */
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "stw-signin-root";
  const status = document.createElement("p");
  status.className = "stw-signin-status";
  const panel = mountSignIn(model);
  root.append(status, panel.el);
  el.append(root);

  const update = () => {
    const source = String(model.get("source") || "");
    const signedIn = !model.get("sign_in");
    status.textContent = signedIn ? `Signed in to Globus${source ? ` (${source})` : ""}.` : "";
    status.hidden = !signedIn;
  };
  model.on("change:source", update);
  model.on("change:sign_in", update);
  update();

  return () => {
    model.off("change:source", update);
    model.off("change:sign_in", update);
    panel.dispose();
    root.remove();
  };
}

export default { render };
