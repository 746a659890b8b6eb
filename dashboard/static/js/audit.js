// The audit log page: every key change, newest first, paged with the API's cursor, in the
// dashboard's mode (test mode: the changes to test keys; live: everything else, SPEC §9.1).

import { formatExact, h, replace, timeEl } from "./dom.js";
import { copyableId, empty, errorBox, keepFocus, loading } from "./ui.js";

const ACTIONS = {
  "key.created": "Created", "key.updated": "Updated", "key.renamed": "Renamed", "key.enabled": "Enabled",
  "key.disabled": "Disabled", "key.rescoped": "Changed scopes", "key.revoked": "Revoked", "key.rotated": "Rotated",
  "key.leaked": "Reported leaked", "alert.acknowledged": "Acknowledged the alert",
};

function actionLabel(action) {
  return ACTIONS[action] || String(action).replace(/^key[._]/, "").replace(/[._]/g, " ");
}

function changesText(changes) {
  if (!changes || typeof changes !== "object") return "";
  return Object.entries(changes)
    .map(([field, value]) => {
      if (Array.isArray(value) && value.length === 2) return `${field}: ${show(value[0])} → ${show(value[1])}`;
      return `${field}: ${show(value)}`;
    })
    .join("; ");
}

function show(value) {
  if (Array.isArray(value)) return value.join(", ") || "none";
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

export function renderAudit(ctx) {
  const { container } = ctx;
  const body = h("tbody");
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
  const slot = h("div", { class: "table-slot" }, loading("Loading the audit log…"));
  let cursor = null;
  const keyNames = new Map();

  const mode = ctx.mode;
  const intro = mode === "test"
    ? [h("span", { class: "badge badge-test" }, "Test mode"), " Every change to this organization's test keys: who made it, from where, and the request id."]
    : "Every change to this organization's live API keys, webhooks and settings: who made it, from where, and the request id.";
  replace(container, h("p", { class: "muted" }, intro), slot);

  async function load() {
    more.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop its focus
    try {
      const query = new URLSearchParams({ limit: "50", mode });
      if (cursor) query.set("cursor", cursor);
      const page = await ctx.api.get(`/console/audit-log?${query}`);
      if (!cursor && !keyNames.size) await loadKeyNames();
      if (!cursor && !page.data.length) {
        replace(slot, empty(mode === "test" ? "No changes to test keys yet" : "No changes yet", "Key creations, edits, rotations and revocations appear here."));
        return;
      }
      if (!body.isConnected) replace(slot, table(), more);
      const rows = page.data.map(row);
      body.append(...rows);
      cursor = page.next_cursor;
      keepFocus(more, rows, !cursor);
    } catch (error) {
      if (ctx.handle(error)) replace(slot, errorBox(error, () => { replace(slot, loading("Loading the audit log…")); load(); }));
    } finally {
      more.removeAttribute("aria-disabled");
    }
  }

  async function loadKeyNames() {
    try {
      const { data } = await ctx.api.get(`/console/keys?mode=${mode}`);
      for (const key of data) keyNames.set(key.id, key);
    } catch (error) {
      // Names are a convenience; the log still shows key ids.
    }
  }

  function table() {
    return h(
      "table",
      { class: "table audit-table", id: "audit-table" },
      h("caption", { class: "visually-hidden" }, "Audit log"),
      h("thead", {}, h("tr", {}, ["Time", "Actor", "Action", "Key", "Request id", "Source IP"].map((label) => h("th", { scope: "col" }, label)))),
      body,
    );
  }

  function row(event) {
    const at = event.created_at || event.time || event.at;
    const keyId = event.key_id;
    const name = keyNames.get(keyId) || null;
    return h(
      "tr",
      {},
      h("td", { "data-label": "Time" }, timeEl(at), h("span", { class: "visually-hidden" }, ` (${formatExact(at)})`)),
      h("td", { "data-label": "Actor" }, h("code", { class: "break" }, event.actor || "—")),
      h("td", { "data-label": "Action" }, h("span", { title: changesText(event.changes) || null }, actionLabel(event.action))),
      h("td", { "data-label": "Key" }, keyId ? keyCell(keyId, name) : "—"),
      h("td", { "data-label": "Request id" }, event.request_id ? copyableId(event.request_id, "request id") : "—"),
      h("td", { "data-label": "Source IP" }, event.source_ip || "—"),
    );
  }

  // The key as people know it: its name and …last4; the id in the tooltip.
  function keyCell(keyId, key) {
    if (!key) return h("code", { class: "muted break" }, keyId);
    return h("span", { class: "key-label", title: keyId }, h("span", { class: "truncate" }, key.name), h("code", { class: "muted" }, ` …${key.last4}`));
  }

  more.addEventListener("click", () => { if (!more.hasAttribute("aria-disabled")) load(); });
  load();
}
