// Shared pieces of every page: states (loading, empty, error), dialogs, notices.
// Dialogs are native <dialog> opened with showModal(): the browser makes the rest of the page
// inert (the focus trap) and Escape closes them. Every dialog is removed from the DOM when it
// closes, so nothing it showed — above all a new key — stays in the page.

import { h, icon, replace } from "./dom.js";

export function loading(label) {
  return h("p", { class: "state state-loading", role: "status", "aria-busy": "true" }, label);
}

// The icon of an empty state is its page's (body[data-page], from the shell).
const PAGE_ICONS = { keys: "key-round", key: "key-round", "audit-log": "scroll-text", usage: "chart-column", webhooks: "webhook", events: "activity", webhook: "webhook", settings: "shield-alert" };

// An empty list: what will be here, and the next step (an action, when the person may take it).
export function empty(title, text, action, iconName = PAGE_ICONS[document.body.dataset.page] || "inbox") {
  return h("div", { class: "state state-empty" }, h("span", { class: "state-icon" }, icon(iconName)), h("p", { class: "state-title" }, title), h("p", { class: "muted" }, text), action || null);
}

export function errorBox(error, retry) {
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("p", { class: "state-title" }, icon("circle-alert"), error.message || "Something went wrong."),
    error.code ? h("p", { class: "muted" }, "Error code: ", h("code", {}, error.code)) : null,
    error.requestId
      ? h("p", { class: "muted" }, "Request id: ", h("code", { class: "request-id" }, error.requestId), " — quote it when you contact support.")
      : null,
    retry ? h("button", { type: "button", class: "button", onclick: retry }, icon("refresh-cw"), "Retry") : null,
  );
}

// The page's primary action (Create key, Add endpoint) on the title row; none clears it.
export function pageActions(...buttons) {
  replace(document.getElementById("page-actions"), ...buttons);
}

// An id on one line (cut with an ellipsis where it does not fit, whole in the tooltip) and a
// button that copies it: on a phone, where tooltips do not exist, the id is a tap away.
export function copyableId(id, noun) {
  const copy = h("button", { type: "button", class: "button button-icon button-copy", "aria-label": `Copy ${noun} ${id}`, title: `Copy ${noun}` }, icon("copy"));
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(id);
      toast(`Copied ${id}.`, { title: `${noun.replace(/^./, (c) => c.toUpperCase())} copied` });
    } catch (error) {
      toast("The browser did not allow copying; select the id instead.", { error, title: `${id} was not copied` });
    }
  });
  return h("span", { class: "copy-id" }, h("code", { class: "truncate", title: id }, id), copy);
}

export function notify(message) {
  return toast(message);
}

// A modal dialog. `build(dialog)` returns its body nodes; the dialog is removed on close.
export function openDialog({ title, className = "", build, onClose }) {
  const opener = document.activeElement;
  const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
  const dialog = h("dialog", { class: `dialog ${className}`, "aria-labelledby": titleId });
  // The "×" in the corner does what Escape does, refusals included (the shown-once key asks
  // first). Last in the markup, so the dialog's first field still gets the focus on opening.
  const closer = h("button", { type: "button", class: "button button-icon dialog-close", "aria-label": "Close", title: "Close (Esc)" }, icon("x"));
  closer.addEventListener("click", () => {
    if (dialog.dispatchEvent(new Event("cancel", { cancelable: true }))) dialog.close();
  });
  dialog.append(h("h2", { id: titleId, class: "dialog-title" }, title), ...build(dialog), closer);
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
    fields.length ? h("ul", {}, fields.map((f) => h("li", {}, `${fieldLabel(f.field)}: ${f.message}`))) : null,
    error.requestId ? h("p", { class: "muted" }, "Request id: ", h("code", { class: "request-id" }, error.requestId)) : null,
  );
}

// Ask the shell to show the sign-in again (a 401 that a fresh token did not cure).
export function requireSignIn(error) {
  window.dispatchEvent(new CustomEvent("lw:sign-in-required", { detail: error.message }));
}

// Field names of the API, in the words of the forms.
const FIELD_LABELS = { name: "Name", scopes: "Scopes", expires_at: "Expiry date", enabled: "Enabled", grace_seconds: "Old key stops working", days: "Range" };

export function fieldLabel(field) {
  return FIELD_LABELS[field] || String(field).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// Toasts: the outcome of an action, success or failure, in one corner of the page. A failure
// names what it was about and carries the request id; the page behind it stays as it was.
// The toast can take focus (tabindex -1) when nothing better is left to focus.
const TOASTS_SHOWN = 3;

export function toast(message, { error = null, title = null } = {}) {
  let stack = document.getElementById("toasts");
  if (!stack) {
    stack = h("div", { id: "toasts", class: "toasts" });
    document.body.append(stack);
  }
  const failed = Boolean(error);
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, icon("x"));
  const item = h(
    "div",
    { class: failed ? "toast toast-error" : "toast", role: failed ? "alert" : "status", tabindex: "-1" },
    icon(failed ? "circle-alert" : "circle-check", "toast-icon"),
    h("div", { class: "toast-body" },
      title ? h("p", { class: "toast-title" }, title) : null,
      h("p", {}, message),
      failed && error.requestId ? h("p", { class: "toast-meta" }, "Request id ", h("code", { class: "request-id" }, error.requestId)) : null),
    close,
  );
  const remove = () => {
    const hadFocus = item.contains(document.activeElement);
    item.remove();
    if (hadFocus) document.getElementById("main").focus();
  };
  close.addEventListener("click", remove);
  item.addEventListener("keydown", (event) => { if (event.key === "Escape") remove(); });
  stack.append(item);
  // A short stack: the oldest successes give way (on a phone a tall stack would cover the
  // page). Failures stay until dismissed, and so does a toast that has the focus.
  const older = [...stack.querySelectorAll(".toast:not(.toast-error)")].filter((other) => other !== item && !other.contains(document.activeElement));
  for (const other of older.slice(0, Math.max(0, stack.children.length - TOASTS_SHOWN))) other.remove();
  // Successes fade; failures stay until dismissed (they carry a request id to quote).
  if (!failed) setTimeout(() => { if (!item.contains(document.activeElement)) item.remove(); }, 6000);
  return item;
}

// After a "Load more": hides the button when there is nothing more; if it had the focus, the
// first row it loaded takes it (a hidden button would drop the focus to <body>).
export function keepFocus(more, rows, last) {
  const hadFocus = document.activeElement === more;
  more.hidden = last;
  if (last && hadFocus && rows.length) {
    rows[0].tabIndex = -1;
    rows[0].focus();
  }
}

// A menu button (WAI-ARIA menu pattern): Enter, Space or ArrowDown open it on the first item,
// ArrowUp on the last; arrows, Home and End move; Escape closes it back to the button; Tab
// or a click elsewhere closes it. An item's icon follows its verb (MENU_ICONS), so the same
// action looks the same in every menu; an item may name another one.
const MENU_ICONS = {
  Rename: "pencil", "Edit…": "pencil", "Edit scopes": "list-checks", "Rotate…": "rotate-cw", "Rotate secret…": "rotate-cw",
  "Revoke…": "trash-2", "Delete…": "trash-2", Deliveries: "list", "Send test event": "send", Disable: "circle-pause", Enable: "circle-play",
};

export function menuButton({ label, items, iconName = "ellipsis" }) {
  const menuId = `menu-${Math.random().toString(36).slice(2)}`;
  const button = h("button", {
    type: "button", class: "button button-icon menu-button", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-controls": menuId, "aria-label": label, title: label, "data-focus": "menu",
  }, icon(iconName));
  const entries = items.map(({ label: itemLabel, danger, icon: itemIcon }) =>
    h("button", { type: "button", role: "menuitem", tabindex: "-1", class: danger ? "menu-item menu-item-danger" : "menu-item", dataset: { action: itemLabel } }, itemIcon || MENU_ICONS[itemLabel] ? icon(itemIcon || MENU_ICONS[itemLabel]) : null, itemLabel));
  const list = h("div", { role: "menu", id: menuId, class: "menu-list", "aria-label": label, hidden: true }, entries);
  const wrapper = h("div", { class: "menu" }, button, list);
  wireMenu({ wrapper, button, list, entries, onSelect: (index) => items[index].onSelect() });
  return wrapper;
}

// The keyboard and pointer behaviour of a menu button whose markup exists already (the
// account menu of the top bar is in the page shell; row menus are built by menuButton).
export function wireMenu({ wrapper, button, list, entries, onSelect }) {
  const isOpen = () => !list.hidden;
  function open(index) {
    list.hidden = false;
    button.setAttribute("aria-expanded", "true");
    entries[(index + entries.length) % entries.length].focus();
  }
  function close(focusButton) {
    if (!isOpen()) return;
    list.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (focusButton) button.focus();
  }
  button.addEventListener("click", () => (isOpen() ? close(true) : open(0)));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") { event.preventDefault(); open(0); }
    if (event.key === "ArrowUp") { event.preventDefault(); open(-1); }
  });
  list.addEventListener("keydown", (event) => {
    const index = entries.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: -1 };
    if (event.key in moves) {
      event.preventDefault();
      entries[(moves[event.key] + entries.length) % entries.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    } else if (event.key === "Tab") {
      close(false);
    } else if (event.key.length === 1 && /\S/.test(event.key)) {
      const next = entries.find((entry, i) => i > index && entry.textContent.toLowerCase().startsWith(event.key.toLowerCase()))
        || entries.find((entry) => entry.textContent.toLowerCase().startsWith(event.key.toLowerCase()));
      if (next) next.focus();
    }
  });
  wrapper.addEventListener("focusout", (event) => {
    if (!wrapper.contains(event.relatedTarget)) close(false);
  });
  entries.forEach((entry, index) => entry.addEventListener("click", (event) => {
    // A link item (the account menu's "API docs") follows its href; a button item runs.
    if (entry.tagName === "A") return;
    event.preventDefault();
    close(true);
    onSelect(index);
  }));
}
