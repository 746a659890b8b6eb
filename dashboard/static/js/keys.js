// The API keys page: the table, inline rename, the enable/disable switch and row actions.

import { h, replace, timeEl } from "./dom.js";
import { createKeyDialog, rotateDialog, scopesDialog } from "./key-dialogs.js";
import { scopeLabel } from "./scopes.js";
import { confirmAction, empty, errorBox, loading, notify } from "./ui.js";

export function keyStatus(key, now = new Date()) {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && new Date(key.expires_at) <= now) return "expired";
  return key.enabled ? "active" : "disabled";
}

const STATUS_ORDER = { active: 0, disabled: 1, expired: 2, revoked: 3 };

export function renderKeys(ctx) {
  const { container } = ctx;
  const createButton = h("button", { type: "button", class: "button button-primary", id: "create-key" }, "Create key");
  const tableSlot = h("div", { class: "table-slot" });
  createButton.addEventListener("click", () => createKeyDialog(ctx, load));
  replace(
    container,
    h("div", { class: "toolbar" }, h("p", { class: "muted" }, "Tenant servers send these keys in the ", h("code", {}, "x-tenant-api-key"), " header."), createButton),
    tableSlot,
  );

  async function load() {
    tableSlot.setAttribute("aria-busy", "true");
    if (!tableSlot.firstChild) replace(tableSlot, loading("Loading keys…"));
    try {
      const { data } = await ctx.api.get("/console/keys");
      replace(tableSlot, data.length ? table(data) : empty("No API keys yet", "Create a key for each server that calls the Loopwave API.", null));
    } catch (error) {
      if (ctx.handle(error)) replace(tableSlot, errorBox(error, load));
    } finally {
      tableSlot.removeAttribute("aria-busy");
    }
  }

  // Runs a change, then reloads the list; failures show as the page's error with the request id.
  async function change(work, done) {
    try {
      await work();
      notify(done);
    } catch (error) {
      if (ctx.handle(error)) replace(tableSlot, errorBox(error, load));
      return;
    }
    await load();
  }

  function table(keys) {
    const sorted = [...keys].sort((a, b) => STATUS_ORDER[keyStatus(a)] - STATUS_ORDER[keyStatus(b)] || b.created_at.localeCompare(a.created_at));
    return h(
      "table",
      { class: "table keys-table", id: "keys-table" },
      h("caption", { class: "visually-hidden" }, "API keys of this organization"),
      h("thead", {}, h("tr", {}, ["Name", "Key", "Scopes", "Status", "Created", "Last used", "Expires", ""].map((label) => h("th", { scope: "col" }, label || h("span", { class: "visually-hidden" }, "Actions"))))),
      h("tbody", {}, sorted.map(row)),
    );
  }

  function row(key) {
    const status = keyStatus(key);
    const live = status !== "revoked";
    const nameCell = h("td", { "data-label": "Name", class: "key-name" }, h("span", { class: "name-text" }, key.name));
    return h(
      "tr",
      { "data-key-id": key.id, "data-status": status, class: `key-row status-${status}` },
      nameCell,
      h("td", { "data-label": "Key" }, h("code", { class: "key-mask" }, `${key.start}…${key.last4}`)),
      h("td", { "data-label": "Scopes" }, h("ul", { class: "chips" }, scopeLabel(key.scopes).map((scope) => h("li", { class: "chip" }, scope)))),
      h("td", { "data-label": "Status" }, h("div", { class: "status-cell" }, h("span", { class: `badge badge-${status}` }, status), live ? toggle(key) : null)),
      h("td", { "data-label": "Created" }, timeEl(key.created_at)),
      h("td", { "data-label": "Last used" }, timeEl(key.last_used_at, { empty: "Never" })),
      h("td", { "data-label": "Expires" }, timeEl(key.expires_at, { style: "date", empty: "Never" })),
      h("td", { "data-label": "Actions", class: "actions" }, live ? actions(key, nameCell) : null),
    );
  }

  function toggle(key) {
    const input = h("input", { type: "checkbox", role: "switch", class: "switch", checked: key.enabled, id: `enabled-${key.id}`, "aria-label": `Enabled: ${key.name}` });
    input.addEventListener("change", async () => {
      const enabled = input.checked;
      if (!enabled) {
        const ok = await confirmAction({
          title: `Disable “${key.name}”?`,
          message: [`Requests with “${key.name}” (${key.start}…${key.last4}) are refused until you enable it again.`],
          confirmLabel: `Disable “${key.name}”`,
        });
        if (!ok) { input.checked = true; return; }
      }
      await change(() => ctx.api.patch(`/console/keys/${encodeURIComponent(key.id)}`, { enabled }), `“${key.name}” ${enabled ? "enabled" : "disabled"}.`);
    });
    return h("label", { class: "switch-label", for: input.id }, input, h("span", { "aria-hidden": "true" }, key.enabled ? "On" : "Off"));
  }

  function actions(key, nameCell) {
    const item = (label, onclick, danger = false) => h("button", { type: "button", class: danger ? "menu-item menu-item-danger" : "menu-item", onclick: (event) => { event.target.closest("details").open = false; onclick(); } }, label);
    return h(
      "details",
      { class: "menu" },
      h("summary", { class: "button button-quiet", "aria-label": `Actions for ${key.name}` }, "Actions"),
      h(
        "div",
        { class: "menu-list" },
        item("Rename", () => rename(key, nameCell)),
        item("Edit scopes", () => scopesDialog(ctx, key, load)),
        item("Rotate…", () => rotateDialog(ctx, key, load), true),
        item("Revoke…", () => revoke(key), true),
      ),
    );
  }

  function rename(key, cell) {
    const input = h("input", { value: key.name, maxlength: "100", "aria-label": `New name for ${key.name}`, class: "rename-input", required: true });
    const cancel = () => replace(cell, h("span", { class: "name-text" }, key.name));
    const form = h(
      "form",
      { class: "rename-form" },
      input,
      h("button", { type: "submit", class: "button button-primary button-small" }, "Save"),
      h("button", { type: "button", class: "button button-small", onclick: cancel }, "Cancel"),
    );
    form.addEventListener("keydown", (event) => { if (event.key === "Escape") cancel(); });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name || name === key.name) return cancel();
      change(() => ctx.api.patch(`/console/keys/${encodeURIComponent(key.id)}`, { name }), `Renamed to “${name}”.`);
    });
    replace(cell, form);
    input.focus();
    input.select();
  }

  async function revoke(key) {
    const ok = await confirmAction({
      title: `Revoke “${key.name}”?`,
      message: [`Every request with “${key.name}” (${key.start}…${key.last4}) is refused from now on.`, "Revoking is final: the key cannot be enabled again."],
      confirmLabel: `Revoke “${key.name}”`,
    });
    if (ok) await change(() => ctx.api.post(`/console/keys/${encodeURIComponent(key.id)}/revoke`), `“${key.name}” revoked.`);
  }

  load();
}
