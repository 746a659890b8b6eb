// Shared pieces of every page: states (loading, empty, error), dialogs, notices.
// Dialogs are native <dialog> opened with showModal(): the browser makes the rest of the page
// inert (the focus trap) and Escape closes them. Every dialog is removed from the DOM when it
// closes, so nothing it showed — above all a new key — stays in the page.

import { h } from "./dom.js";

export function loading(label) {
  return h("p", { class: "state state-loading", role: "status", "aria-busy": "true" }, label);
}

export function empty(title, text, action) {
  return h("div", { class: "state state-empty" }, h("p", { class: "state-title" }, title), h("p", { class: "muted" }, text), action || null);
}

export function errorBox(error, retry) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", { class: "state-title" }, error.message || "Something went wrong."),
    error.code ? h("p", { class: "muted" }, "Error code: ", h("code", {}, error.code)) : null,
    error.requestId
      ? h("p", { class: "muted" }, "Request id: ", h("code", { class: "request-id" }, error.requestId), " — quote it when you contact support.")
      : null,
    retry ? h("button", { type: "button", class: "button", onclick: retry }, "Retry") : null,
  );
}

export function notify(message) {
  const region = document.getElementById("notice") || document.body.appendChild(h("div", { id: "notice", class: "notice", role: "status", "aria-live": "polite" }));
  region.textContent = message;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { region.textContent = ""; }, 6000);
}

// A modal dialog. `build(dialog)` returns its body nodes; the dialog is removed on close.
export function openDialog({ title, className = "", build, onClose }) {
  const opener = document.activeElement;
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const dialog = h("dialog", { class: `dialog ${className}`, "aria-labelledby": titleId });
  dialog.append(h("h2", { id: titleId, class: "dialog-title" }, title), ...build(dialog));
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (onClose) onClose(dialog.returnValue);
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

// Resolves true when the user confirms. `confirmLabel` names the key being acted on.
export function confirmAction({ title, message, confirmLabel, danger = true, extra = [] }) {
  return new Promise((resolve) => {
    let confirmed = false;
    openDialog({
      title,
      className: "dialog-confirm",
      onClose: () => resolve(confirmed),
      build: (dialog) => [
        ...[].concat(message).map((text) => h("p", {}, text)),
        ...extra,
        h(
          "div",
          { class: "dialog-actions" },
          h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Cancel"),
          h("button", {
            type: "button",
            class: danger ? "button button-danger" : "button button-primary",
            onclick: () => { confirmed = true; dialog.close(); },
          }, confirmLabel),
        ),
      ],
    });
  });
}

// Error text for forms: the message, field errors and the request id.
export function formError(error) {
  const fields = (error.details && error.details.fields) || [];
  return h(
    "div",
    { class: "form-error", role: "alert" },
    h("p", {}, error.message),
    fields.length ? h("ul", {}, fields.map((f) => h("li", {}, `${f.field}: ${f.message}`))) : null,
    error.requestId ? h("p", { class: "muted" }, "Request id: ", h("code", { class: "request-id" }, error.requestId)) : null,
  );
}

// Ask the shell to show the sign-in again (a 401 that a fresh token did not cure).
export function requireSignIn(error) {
  window.dispatchEvent(new CustomEvent("lw:sign-in-required", { detail: error.message }));
}
