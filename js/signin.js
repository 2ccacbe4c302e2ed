// @ts-check
// The "Sign in with Globus" panel every widget shows (js/widget.js, js/list.js,
// js/signin_widget.js mount it).
//
// The kernel drives it through three traits: sign_in ("" | "offer" | "code" | "busy" |
// "unavailable"), sign_in_url and sign_in_message. The button click and the pasted code go
// back as custom messages, never as traits: a code must not be saved with the notebook.
import { h } from "./dom.js";
import { SIGN_IN_TRAITS } from "./vocabulary.js";

/** @typedef {import("./model.js").Model<import("./model.js").SignInTraits>} SignInModel */

/** Only a Globus Auth https link may become a href. @param {string} url */
export function signInSafeUrl(url) {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/**
 * Build the panel and keep it in step with the model.
 * @param {SignInModel} model
 * @returns {{ el: HTMLElement, dispose: () => void }}
 */
export function mountSignIn(model) {
  const el = h("section", "stw-signin", undefined, { "aria-label": "Sign in with Globus" });
  el.append(h("strong", "stw-signin-title", "Sign in with Globus"));
  // role=status: screen readers hear a refused code or an expiry without moving focus.
  const text = el.appendChild(h("p", "stw-signin-text", undefined, { role: "status" }));
  const offer = /** @type {HTMLButtonElement} */ (
    el.appendChild(h("button", "stw-signin-button", "Sign in with Globus", { type: "button" }))
  );
  const form = /** @type {HTMLFormElement} */ (el.appendChild(h("form", "stw-signin-form")));
  const steps = form.appendChild(h("ol", "stw-signin-steps"));
  const step1 = steps.appendChild(h("li"));
  const link = /** @type {HTMLAnchorElement} */ (
    step1.appendChild(
      h("a", "stw-signin-link", "Open the Globus sign-in page", {
        target: "_blank", rel: "noopener noreferrer",
      }),
    )
  );
  step1.append(" (opens a new tab), sign in and allow access.");
  const step2 = steps.appendChild(h("li"));
  const label = step2.appendChild(h("label", "stw-signin-label", "Paste the code it shows: "));
  const input = /** @type {HTMLInputElement} */ (
    label.appendChild(
      h("input", "stw-signin-code", undefined, {
        type: "text", autocomplete: "off", spellcheck: "false", autocapitalize: "off",
      }),
    )
  );
  const submit = /** @type {HTMLButtonElement} */ (
    step2.appendChild(h("button", "stw-signin-button", "Sign in", { type: "submit" }))
  );

  const update = () => {
    const status = String(model.get("sign_in") || "");
    const url = signInSafeUrl(String(model.get("sign_in_url") || ""));
    const message = String(model.get("sign_in_message") || "");
    el.hidden = !status;
    el.setAttribute("data-status", status);
    text.textContent = message;
    text.hidden = !message;
    offer.hidden = status !== "offer";
    offer.textContent = message ? "Sign in again" : "Sign in with Globus";
    form.hidden = !(status === "code" || status === "busy");
    if (url) link.setAttribute("href", url);
    else link.removeAttribute("href");
    const busy = status === "busy";
    input.disabled = busy;
    submit.disabled = busy;
    submit.textContent = busy ? "Signing in…" : "Sign in";
  };

  /** @param {object} content */
  const send = (content) => {
    if (typeof model.send === "function") model.send(content);
  };
  const onOffer = () => send({ event: "sign-in" });
  /** @param {Event} event */
  const onSubmit = (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!code) {
      input.focus();
      return;
    }
    input.value = ""; // the code is single use; it must not linger in the page
    send({ event: "sign-in-code", code });
  };

  offer.addEventListener("click", onOffer);
  form.addEventListener("submit", onSubmit);
  for (const name of SIGN_IN_TRAITS) model.on(`change:${name}`, update);
  update();

  return {
    el,
    dispose() {
      offer.removeEventListener("click", onOffer);
      form.removeEventListener("submit", onSubmit);
      for (const name of SIGN_IN_TRAITS) model.off(`change:${name}`, update);
      el.remove();
    },
  };
}
