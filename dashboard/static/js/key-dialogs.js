// Dialogs of the API keys page: create, show-once secret, edit scopes, rotate.

import { SignInRequired } from "./auth.js";
import { h, icon } from "./dom.js";
import { scopePicker } from "./scopes.js";
import { formError, notify, openDialog, requireSignIn } from "./ui.js";

const DAY = 86400;
const EXPIRY_CHOICES = [["never", "Never"], ["30", "In 30 days"], ["90", "In 90 days"], ["365", "In 1 year"], ["custom", "On a date…"]];
const GRACE_CHOICES = [
  [0, "Immediately", "The old key stops working now."],
  [3600, "In 1 hour", "Both keys work for an hour while you deploy the new one."],
  [DAY, "In 24 hours", "Both keys work for a day."],
  [7 * DAY, "In 7 days", "The longest overlap allowed."],
];

// The expiry the form asks for: null (never), an ISO instant, or { problem } in plain words.
export function expiryValue(choice, customDate, now = new Date()) {
  if (choice === "never") return null;
  if (choice !== "custom") return new Date(now.getTime() + Number(choice) * DAY * 1000).toISOString();
  if (!customDate) return { problem: "Choose the day the key stops working." };
  const end = new Date(`${customDate}T23:59:59`);
  if (Number.isNaN(end.getTime())) return { problem: "That is not a date. Pick one from the calendar." };
  if (end <= now) return { problem: "The expiry date has passed. Choose today or a later day." };
  if (end.getTime() - now.getTime() > 5 * 365 * DAY * 1000) return { problem: "Choose a date within the next five years." };
  return end.toISOString();
}

export function isoDate(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

// A <form method="dialog"> whose submit runs `action`; errors stay in the dialog.
function dialogForm(dialog, fields, submitLabel, action, danger = false) {
  const errorSlot = h("div", { class: "form-error-slot" });
  const submit = h("button", { type: "submit", class: danger ? "button button-danger" : "button button-primary" }, submitLabel);
  const form = h(
    "form",
    { class: "form", novalidate: true },
    ...fields,
    errorSlot,
    h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Cancel"), submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    errorSlot.replaceChildren();
    try {
      await action(errorSlot);
    } catch (error) {
      if (error instanceof SignInRequired) {
        dialog.close();
        requireSignIn(error);
        return;
      }
      errorSlot.replaceChildren(formError(error));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export function createKeyDialog(ctx, onDone) {
  openDialog({
    title: ctx.mode === "test" ? "Create a test API key" : "Create an API key",
    build: (dialog) => {
      const name = h("input", { id: "key-name", name: "name", required: true, maxlength: "100", autocomplete: "off", placeholder: "e.g. Production server" });
      const picker = scopePicker(ctx.config.scopes);
      const expiry = h("select", { id: "key-expiry", name: "expiry" }, EXPIRY_CHOICES.map(([v, label]) => h("option", { value: v }, label)));
      const customDate = h("input", { type: "date", id: "key-expiry-date", name: "expiry-date", hidden: true, "aria-label": "Expiry date", min: isoDate(new Date()) });
      expiry.addEventListener("change", () => {
        customDate.hidden = expiry.value !== "custom";
        if (!customDate.hidden) customDate.focus();
      });
      const decoy = h("input", { type: "checkbox", id: "key-decoy", name: "decoy", "aria-describedby": "key-decoy-hint" });
      const form = dialogForm(dialog, [
        h("div", { class: "field" }, h("label", { for: name.id }, "Name"), name, h("p", { class: "hint" }, "Who or what uses this key, so you recognise it later.")),
        picker.element,
        h("div", { class: "field" }, h("label", { for: expiry.id }, "Expires"), expiry, customDate),
        h("div", { class: "field" }, h("div", { class: "check" }, decoy, h("label", { for: decoy.id }, "Decoy key")),
          h("p", { class: "hint", id: "key-decoy-hint" }, "A tripwire: it never works, and every attempt to use it raises an alert on every page. Plant it where only a thief would look.")),
      ], "Create key", async (errorSlot) => {
        const scopes = picker.value();
        const expiresAt = expiryValue(expiry.value, customDate.value);
        if (!name.value.trim()) return showLocal(errorSlot, "Give the key a name.", name);
        if (!scopes.length) return showLocal(errorSlot, "Choose at least one scope, or all scopes.");
        if (expiresAt && expiresAt.problem) return showLocal(errorSlot, expiresAt.problem, customDate);
        const body = { name: name.value.trim(), scopes, mode: ctx.mode };
        if (expiresAt) body.expires_at = expiresAt;
        if (decoy.checked) body.decoy = true;
        const issued = await ctx.api.post("/console/keys", body);
        dialog.close();
        secretDialog(issued, "Your new API key", onDone);
      });
      return [form];
    },
  });
}

function showLocal(slot, message, focus) {
  slot.replaceChildren(h("div", { class: "form-error", role: "alert" }, h("p", {}, message)));
  if (focus) focus.focus();
}

// The full key, shown once. Closing the dialog removes it — and the key — from the page.
// Escape does not close it silently: unless the key was copied, the dialog asks first.
export function secretDialog(issued, title, onDone, { noun = "key", label = "Key", lost = "rotate the key to get a new one" } = {}) {
  let secret = issued.key;
  let copiedOnce = false;
  openDialog({
    title,
    className: "dialog-secret",
    onClose: () => { secret = null; delete issued.key; onDone(issued); },
    build: (dialog) => {
      const field = h("input", { id: "new-key-value", class: "secret", readonly: true, "aria-label": `New ${noun} for ${issued.name}`, spellcheck: "false", "data-testid": "new-key" });
      field.value = secret; // a property, never a value="" attribute in the markup
      const copied = h("span", { class: "copied", role: "status" });
      const copy = h("button", { type: "button", class: "button button-primary", onclick: async () => {
        try {
          await navigator.clipboard.writeText(field.value);
        } catch (error) {
          field.select();
          document.execCommand("copy");
        }
        copiedOnce = true;
        copied.textContent = "Copied to the clipboard.";
      } }, icon("copy"), `Copy ${noun}`);
      const check = h("div", { class: "check-copied", role: "alertdialog", "aria-labelledby": "copied-check-title", hidden: true },
        h("p", { id: "copied-check-title", class: "check-copied-title" }, "Have you copied it?"),
        h("p", {}, `Once this dialog closes, the ${noun} cannot be shown again; a lost ${noun} must be rotated.`),
        h("div", { class: "dialog-actions" },
          h("button", { type: "button", class: "button", "data-check": "back", onclick: () => { check.hidden = true; copy.focus(); } }, `Go back to the ${noun}`),
          h("button", { type: "button", class: "button button-danger", onclick: () => dialog.close() }, "Close without copying")));
      const askFirst = (event) => {
        if (copiedOnce) return; // Escape closes a dialog whose key was copied
        event.preventDefault();
        check.hidden = false;
        check.querySelector("[data-check=back]").focus();
      };
      // keydown first: Chrome lets a page refuse only one cancel per user activation.
      dialog.addEventListener("keydown", (event) => { if (event.key === "Escape") askFirst(event); });
      dialog.addEventListener("cancel", askFirst);
      dialog.addEventListener("close", () => { field.value = ""; });
      return [
        h("p", { class: "warning", role: "note" }, icon("triangle-alert"), h("span", {}, h("strong", {}, `This is the only time this ${noun} is shown. `), `Copy it now and store it somewhere safe, such as your secret manager. If you lose it, ${lost}.`)),
        h("p", {}, `${label} `, h("strong", { class: "break" }, issued.name), " ", h("code", {}, `…${issued.last4}`)),
        h("div", { class: "secret-row" }, field, copy),
        copied,
        check,
        h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Done, I have stored it")),
      ];
    },
  });
}

export function scopesDialog(ctx, key, onDone) {
  openDialog({
    title: `Edit scopes of “${key.name}”`,
    build: (dialog) => {
      const picker = scopePicker(ctx.config.scopes, key.scopes);
      return [dialogForm(dialog, [
        h("p", { class: "hint" }, "The change applies to the very next request made with this key."),
        picker.element,
      ], "Save scopes", async (errorSlot) => {
        const scopes = picker.value();
        if (!scopes.length) return showLocal(errorSlot, "Choose at least one scope, or all scopes.");
        await ctx.api.patch(`/console/keys/${encodeURIComponent(key.id)}`, { scopes });
        dialog.close();
        notify(`Scopes of “${key.name}” (…${key.last4}) updated.`);
        onDone();
      })];
    },
  });
}

export function rotateDialog(ctx, key, onDone) {
  openDialog({
    title: `Rotate “${key.name}”?`,
    build: (dialog) => {
      const radios = GRACE_CHOICES.map(([seconds, label, hint], index) => {
        const input = h("input", { type: "radio", name: "grace", value: String(seconds), id: `grace-${seconds}`, checked: index === 1 });
        return h("div", { class: "check" }, input, h("label", { for: input.id }, h("strong", {}, label), h("span", { class: "muted" }, ` — ${hint}`)));
      });
      return [dialogForm(dialog, [
        h("p", {}, `Rotating issues a new key with the same name and scopes. The current key “${key.name}” (${key.start}…${key.last4}) stops working:`),
        h("fieldset", { class: "grace" }, h("legend", {}, "Old key stops working"), radios),
      ], `Rotate “${key.name}”`, async () => {
        const chosen = dialog.querySelector("input[name=grace]:checked");
        const issued = await ctx.api.post(`/console/keys/${encodeURIComponent(key.id)}/rotate`, { grace_seconds: Number(chosen.value) });
        dialog.close();
        secretDialog(issued, "Your rotated API key", onDone);
      })];
    },
  });
}
