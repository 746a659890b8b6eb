// The API keys page: the table, inline rename, the enable/disable switch and the row menu.

import { formatCompact, formatExact, h, icon, relativeTime, replace, timeEl, timeLeft } from "./dom.js";
import { createKeyDialog, rotateDialog, scopesDialog } from "./key-dialogs.js";
import { scopeLabel } from "./scopes.js";
import { confirmAction, empty, errorBox, loading, menuButton, pageActions, toast } from "./ui.js";

// A key that has a successor (it was rotated) and still works until its expiry is "rotating".
export function keyStatus(key, now = new Date(), successor = null) {
  if (key.revoked_at) return "revoked";
  if (key.expires_at && new Date(key.expires_at) <= now) return "expired";
  if (!key.enabled) return "disabled";
  return successor && key.expires_at ? "rotating" : "active";
}

const STATUS_ORDER = { active: 0, rotating: 1, disabled: 2, expired: 3, revoked: 4 };

export const masked = (key) => `…${key.last4}`;

export function renderKeys(ctx) {
  const { container } = ctx;
  // org:api_keys:read alone shows the keys read-only: no create, switch, menu (SPEC §9.3).
  const manage = ctx.can("org:api_keys:manage");
  const createButton = h("button", { type: "button", class: "button button-primary", id: "create-key" }, icon("plus"), "Create key");
  const tableSlot = h("div", { class: "table-slot" });
  createButton.addEventListener("click", () => createKeyDialog(ctx, (issued) => load({ keyId: issued && issued.id, focus: "menu" })));
  replace(
    container,
    h("div", { class: "toolbar" }, h("p", { class: "muted" }, ctx.mode === "test" ? h("span", { class: "badge badge-test" }, "Test keys") : null, ctx.mode === "test" ? " " : null, "Your servers send these keys in the ", h("code", {}, "x-tenant-api-key"), " header. ", h("a", { href: "/docs" }, "API reference"), ".", manage ? null : h("span", { class: "read-only-note" }, " You can view these keys; an admin or a member with the “Manage API keys” permission can change them."))),
    tableSlot,
  );
  pageActions(manage ? createButton : null);

  // Loads the list. `after` says which control gets the focus once the table is redrawn.
  async function load(after = null) {
    tableSlot.setAttribute("aria-busy", "true");
    if (!tableSlot.firstChild) replace(tableSlot, loading("Loading keys…"));
    try {
      const { data } = await ctx.api.get(`/console/keys?mode=${ctx.mode}`);
      // A redraw the user did not ask for (a countdown ran out) keeps their place.
      after = after || heldFocus();
      replace(tableSlot, data.length ? table(data) : empty(ctx.mode === "test" ? "No test keys yet" : "No API keys yet", ctx.mode === "test" ? "Test keys (lw_test_…) call the same API without touching live data or live usage." : "Create a key for each server that calls the Loopwave API, so you can rotate or revoke one without touching the others.", emptyAction()));
      if (after) restoreFocus(after);
      if (!ticker) ticker = setInterval(tick, 20000);
    } catch (error) {
      if (!ctx.handle(error)) return;
      // A table already on screen stays: the failure is a toast. Only a first load fails in place.
      if (tableSlot.querySelector("#keys-table")) toast(error.message, { error, title: "The key list could not be refreshed" }).focus();
      else replace(tableSlot, errorBox(error, () => load()));
    } finally {
      tableSlot.removeAttribute("aria-busy");
    }
  }

  function emptyAction() {
    if (!manage) return null;
    return h("button", { type: "button", class: "button button-primary", onclick: () => createButton.click() }, icon("plus"), "Create your first key");
  }

  // A rotating key's countdown stays true while the page is open: redrawn every 20 seconds,
  // and the list reloads once one runs out (the old key has then expired).
  let ticker = null;
  function tick() {
    if (!tableSlot.isConnected) { clearInterval(ticker); ticker = null; return; }
    for (const note of tableSlot.querySelectorAll("[data-countdown]")) {
      const at = new Date(note.dataset.countdown);
      if (at <= new Date()) { load(); return; }
      note.querySelector(".countdown").textContent = timeLeft(at);
    }
  }

  function heldFocus() {
    const held = document.activeElement;
    const row = held && tableSlot.contains(held) ? held.closest("tr[data-key-id]") : null;
    return row ? { keyId: row.dataset.keyId, focus: held.dataset.focus || "menu" } : null;
  }

  function restoreFocus({ keyId, focus, toastEl }) {
    const row = keyId && tableSlot.querySelector(`tr[data-key-id="${CSS.escape(keyId)}"]`);
    const target = row && row.querySelector(`[data-focus="${focus}"]`);
    if (target) target.focus();
    else if (toastEl && toastEl.isConnected) toastEl.focus();
  }

  // Runs a change on one key. Success: a toast, the list refreshes, the focus goes back to the
  // row's control. Failure: a toast naming the key with the request id; the table stays and
  // refreshes (the key may have changed in another tab).
  async function change(key, work, done, focus) {
    let note;
    try {
      await work();
      note = toast(done);
    } catch (error) {
      if (!ctx.handle(error)) return;
      note = toast(error.message, { error, title: `“${key.name}” (${masked(key)}) was not changed` });
      await load();
      note.focus();
      return;
    }
    await load({ keyId: key.id, focus, toastEl: note });
  }

  function table(keys) {
    const successorOf = new Map(keys.filter((k) => k.rotated_from_id).map((k) => [k.rotated_from_id, k]));
    const byId = new Map(keys.map((k) => [k.id, k]));
    const now = new Date();
    const statusOf = (key) => keyStatus(key, now, successorOf.get(key.id));
    const sorted = [...keys].sort((a, b) => STATUS_ORDER[statusOf(a)] - STATUS_ORDER[statusOf(b)] || b.created_at.localeCompare(a.created_at));
    const columns = [["Name", "col-name"], ["Key", "col-key"], ["Scopes", "col-scopes"], ["Status", "col-status"], ["Created", "col-created"], ["Last used", "col-used"], ["Expires", "col-expires"], ["", "col-actions"]];
    return h(
      "table",
      { class: "table keys-table", id: "keys-table" },
      h("caption", { class: "visually-hidden" }, "API keys of this organization"),
      h("colgroup", {}, columns.map(([, cls]) => h("col", { class: cls }))),
      h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", { scope: "col" }, label || h("span", { class: "visually-hidden" }, "Actions"))))),
      h("tbody", {}, sorted.map((key) => row(key, statusOf(key), successorOf.get(key.id), byId.get(key.rotated_from_id)))),
    );
  }

  function lineageLink(prefix, other) {
    return h("a", { class: "lineage", href: `#key-${other.id}`, onclick: (event) => {
      event.preventDefault();
      const target = document.getElementById(`key-${other.id}`);
      if (target) { target.scrollIntoView({ block: "center" }); target.querySelector(".name-text").focus(); }
    } }, `${prefix} `, h("code", {}, masked(other)));
  }

  function row(key, status, successor, predecessor) {
    const live = status !== "revoked" && status !== "expired";
    const nameCell = h(
      "td",
      { "data-label": "Name", class: "key-name" },
      h("a", { class: "name-text truncate", title: key.name, href: `/dashboard/keys/${encodeURIComponent(key.id)}` }, key.name),
      key.decoy || key.leaked_at ? h("span", { class: "tags" },
        key.decoy ? h("span", { class: "tag tag-decoy" }, "Decoy") : null,
        key.leaked_at ? h("span", { class: "tag tag-leaked", title: `Reported public ${formatExact(key.leaked_at)}` }, "Leaked") : null) : null,
      successor ? lineageLink("Replaced by", successor) : null,
      predecessor ? lineageLink("Rotated from", predecessor) : null,
    );
    return h(
      "tr",
      { id: `key-${key.id}`, "data-key-id": key.id, "data-status": status, class: `key-row status-${status}` },
      nameCell,
      h("td", { "data-label": "Key" }, h("code", { class: "key-mask" }, `${key.start}…${key.last4}`)),
      h("td", { "data-label": "Scopes" }, h("ul", { class: "chips" }, scopeLabel(key.scopes).map((scope) => h("li", { class: "chip" }, scope)))),
      h("td", { "data-label": "Status" }, statusCell(key, status, live)),
      h("td", { "data-label": "Created" }, timeEl(key.created_at)),
      h("td", { "data-label": "Last used", class: "nowrap" }, timeEl(key.last_used_at, { empty: "Never" })),
      h("td", { "data-label": "Expires" }, expiryCell(key)),
      h("td", { "data-label": "Actions", class: "actions" }, live && manage ? actions(key, nameCell) : null),
    );
  }

  function statusCell(key, status, live) {
    if (status === "rotating") {
      // "Rotating — expires in 59 min": the badge, then the time left (the dash is for
      // screen readers and copied text; on screen the note sits under the badge).
      const at = new Date(key.expires_at);
      return h("div", { class: "status-stack" }, h("span", { class: "badge badge-rotating" }, "Rotating"),
        h("time", { class: "status-note", datetime: at.toISOString(), title: formatExact(key.expires_at), "data-countdown": at.toISOString() },
          h("span", { class: "visually-hidden" }, " — "), "expires in ", h("span", { class: "countdown" }, timeLeft(at))));
    }
    const badge = h("span", { class: `badge badge-${status}` }, status);
    return h("div", { class: "status-cell" }, badge, live && manage ? toggle(key) : null);
  }

  function expiryCell(key) {
    if (!key.expires_at) return h("span", { class: "muted" }, "Never");
    const at = new Date(key.expires_at);
    return h("div", { class: "time-stack" },
      h("time", { datetime: at.toISOString(), title: formatExact(key.expires_at) }, relativeTime(at)),
      h("span", { class: "time-exact" }, formatCompact(key.expires_at)));
  }

  function toggle(key) {
    const input = h("input", { type: "checkbox", role: "switch", class: "switch", checked: key.enabled, id: `enabled-${key.id}`, "aria-label": `Enabled: ${key.name}`, "data-focus": "switch" });
    input.addEventListener("change", async () => {
      const enabled = input.checked;
      if (!enabled) {
        const ok = await confirmAction({
          title: `Disable “${key.name}”?`,
          message: [`Requests with “${key.name}” (${key.start}…${key.last4}) are refused until you enable it again.`],
          confirmLabel: `Disable “${key.name}”`,
        });
        if (!ok) { input.checked = true; input.focus(); return; }
      }
      await change(key, () => ctx.api.patch(`/console/keys/${encodeURIComponent(key.id)}`, { enabled }), `“${key.name}” ${enabled ? "enabled" : "disabled"}.`, "switch");
    });
    return h("label", { class: "switch-label", for: input.id }, input, h("span", { "aria-hidden": "true" }, key.enabled ? "On" : "Off"));
  }

  function actions(key, nameCell) {
    return menuButton({
      label: `Actions for ${key.name}`,
      items: [
        { label: "Rename", onSelect: () => rename(key, nameCell) },
        { label: "Edit scopes", onSelect: () => scopesDialog(ctx, key, () => load({ keyId: key.id, focus: "menu" })) },
        { label: "Rotate…", onSelect: () => rotateDialog(ctx, key, (issued) => load({ keyId: issued ? issued.id : key.id, focus: "menu" })) },
        { label: "Revoke…", onSelect: () => revoke(key), danger: true },
      ],
    });
  }

  function rename(key, cell) {
    const previous = [...cell.childNodes];
    const input = h("input", { value: key.name, maxlength: "100", "aria-label": `New name for ${key.name}`, class: "rename-input", required: true });
    const cancel = () => {
      replace(cell, previous);
      const menu = cell.closest("tr").querySelector('[data-focus="menu"]');
      if (menu) menu.focus();
    };
    const form = h(
      "form",
      { class: "rename-form" },
      input,
      h("button", { type: "submit", class: "button button-primary button-small" }, "Save"),
      h("button", { type: "button", class: "button button-small", onclick: cancel }, "Cancel"),
    );
    form.addEventListener("keydown", (event) => { if (event.key === "Escape") { event.preventDefault(); cancel(); } });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (!name || name === key.name) return cancel();
      change(key, () => ctx.api.patch(`/console/keys/${encodeURIComponent(key.id)}`, { name }), `Renamed to “${name}”.`, "menu");
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
    // A revoked row has no controls left: the toast takes the focus.
    if (ok) await change(key, () => ctx.api.post(`/console/keys/${encodeURIComponent(key.id)}/revoke`), `“${key.name}” (${masked(key)}) revoked.`, "none");
  }

  load();
}
