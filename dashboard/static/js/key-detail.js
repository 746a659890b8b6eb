// One key's page (/dashboard/keys/<id>): its details, lineage, last use, usage by endpoint
// and outcome, the scope report with "narrow to these scopes", and the edit form.

import { formatExact, h, replace, timeEl, timeLeft } from "./dom.js";
import { expiryValue, isoDate } from "./key-dialogs.js";
import { keyStatus, masked } from "./keys.js";
import { scopeLabel } from "./scopes.js";
import { confirmAction, empty, errorBox, loading, toast } from "./ui.js";

const MANAGE = "org:api_keys:manage";
const keyUrl = (id) => `/dashboard/keys/${encodeURIComponent(id)}`;
const apiUrl = (id) => `/console/keys/${encodeURIComponent(id)}`;

export function renderKeyDetail(ctx) {
  const { container } = ctx;
  const heading = document.getElementById("page-title");
  const canManage = ctx.can(MANAGE);

  async function load(focusId = null) {
    if (!container.querySelector(".key-detail")) replace(container, loading("Loading the key…"));
    let key = null;
    try {
      key = await ctx.api.get(apiUrl(ctx.config.keyId));
    } catch (error) {
      if (error.status !== 404) {
        if (ctx.handle(error)) replace(container, errorBox(error, () => load()));
        return;
      }
    }
    if (!key) {
      heading.textContent = "Key not found";
      replace(container, empty("There is no such key in this organization.", "It may belong to another organization, or the link is mistyped.",
        h("a", { class: "button", href: "/dashboard/keys" }, "Back to all keys")));
      return;
    }
    const byId = await lineage(key);
    heading.textContent = key.name;
    document.title = `${key.name} · API key · Loopwave`;
    const usageSlot = h("section", { class: "detail-section", "aria-labelledby": "usage-heading" }, h("h2", { id: "usage-heading", tabindex: "-1" }, "Usage by endpoint and outcome"), loading("Loading usage…"));
    const reportSlot = h("section", { class: "detail-section", "aria-labelledby": "report-heading" }, h("h2", { id: "report-heading", tabindex: "-1" }, "Scope report"), loading("Loading the scope report…"));
    replace(container, h("div", { class: "key-detail" },
      summary(key, byId),
      details(key, byId),
      canManage && live(key) ? editForm(key) : null,
      usageSlot,
      reportSlot,
    ));
    if (focusId) { const el = document.getElementById(focusId); if (el) el.focus(); }
    usage(key, usageSlot);
    scopeReport(key, reportSlot);
  }

  // The keys this one was rotated from and into, each fetched by id (the page never lists
  // the organization's keys); one that cannot be read shows as "a key no longer listed".
  async function lineage(key) {
    const ids = [key.rotated_from_id, key.replaced_by_id].filter(Boolean);
    const found = await Promise.all(ids.map((id) => ctx.api.get(apiUrl(id)).catch(() => null)));
    return new Map(found.filter(Boolean).map((other) => [other.id, other]));
  }

  const live = (key) => !["revoked", "expired"].includes(keyStatus(key));

  function summary(key) {
    const status = keyStatus(key, new Date(), key.replaced_by_id ? {} : null);
    return h("div", { class: "detail-summary" },
      h("code", { class: "key-mask" }, `${key.start}…${key.last4}`),
      h("span", { class: `badge badge-${status}` }, status),
      status === "rotating" ? h("span", { class: "status-note", id: "rotating-note" }, `— expires in ${timeLeft(new Date(key.expires_at))}`) : null,
      h("span", { class: key.mode === "test" ? "badge badge-test" : "badge" }, key.mode === "test" ? "Test" : "Live"),
      key.decoy ? h("span", { class: "tag tag-decoy" }, "Decoy") : null,
      key.leaked_at ? h("span", { class: "tag tag-leaked" }, "Leaked") : null);
  }

  function item(term, ...value) {
    return h("div", { class: "detail-item" }, h("dt", {}, term), h("dd", {}, ...value));
  }

  function link(other) {
    return other
      ? h("a", { href: keyUrl(other.id), class: "lineage-link" }, h("span", { class: "break" }, other.name), " ", h("code", {}, masked(other)))
      : h("span", { class: "muted" }, "a key no longer listed");
  }

  function details(key, byId) {
    const meta = Object.entries(key.metadata || {});
    const limit = key.rate_limit_per_minute;
    return h("section", { class: "detail-section", "aria-labelledby": "details-heading" },
      h("h2", { id: "details-heading", tabindex: "-1" }, "Details"),
      h("dl", { class: "detail-list card" },
        item("Description", key.description ? h("span", { class: "break" }, key.description) : h("span", { class: "muted" }, "None")),
        item("Scopes", h("ul", { class: "chips" }, scopeLabel(key.scopes).map((s) => h("li", { class: "chip" }, s)))),
        item("Metadata", meta.length
          ? h("ul", { class: "meta-list" }, meta.map(([k, v]) => h("li", {}, h("code", { class: "break" }, k), " = ", h("span", { class: "break" }, v))))
          : h("span", { class: "muted" }, "None")),
        item("Allowed IPs", key.allowed_ips.length
          ? h("ul", { class: "chips" }, key.allowed_ips.map((ip) => h("li", { class: "chip" }, ip)))
          : h("span", { class: "muted" }, "Any address")),
        item("Rate limit", limit === null ? h("span", { class: "muted" }, "Deployment default") : limit === 0 ? "Unlimited" : `${limit.toLocaleString()} requests per minute`),
        item("Expires", key.expires_at ? h("span", {}, timeEl(key.expires_at), ` (${formatExact(key.expires_at)})`) : h("span", { class: "muted" }, "Never")),
        item("Created", timeEl(key.created_at), ` (${formatExact(key.created_at)})`),
        item("Last used", key.last_used_at
          ? h("span", { id: "last-used" }, timeEl(key.last_used_at), key.last_used_ip ? h("span", {}, " from ", h("code", {}, key.last_used_ip)) : null)
          : h("span", { class: "muted", id: "last-used" }, "Never")),
        key.rotated_from_id ? item("Rotated from", link(byId.get(key.rotated_from_id))) : null,
        key.replaced_by_id ? item("Replaced by", link(byId.get(key.replaced_by_id))) : null,
        key.leaked_at ? item("Reported leaked", timeEl(key.leaked_at), ` (${formatExact(key.leaked_at)})`) : null,
        h("div", { class: "detail-item" }, h("dt", {}, "Id"), h("dd", {}, h("code", { class: "break" }, key.id)))));
  }

  // --- editing ------------------------------------------------------------------------

  // One labelled control with its hint and an inline error slot (aria-describedby).
  function field(id, label, control, hint) {
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
    control.id = control.id || id;
    control.setAttribute("aria-describedby", [hintEl && hintEl.id, error.id].filter(Boolean).join(" "));
    const wrapper = h("div", { class: "field", dataset: { field: id } }, h("label", { for: control.id }, label), control, hintEl, error);
    return { wrapper, control, error };
  }

  function editForm(key) {
    const description = field("edit-description", "Description", h("textarea", { rows: "2", maxlength: "500" }), "Up to 500 characters.");
    description.control.value = key.description;
    const metadata = field("edit-metadata", "Metadata", h("textarea", { rows: "3", spellcheck: "false" }), "One key=value per line, at most 20; keys of 1–40 characters.");
    metadata.control.value = Object.entries(key.metadata || {}).map(([k, v]) => `${k}=${v}`).join("\n");
    const ips = field("edit-allowed-ips", "Allowed IPs", h("textarea", { rows: "3", spellcheck: "false" }), "One IPv4/IPv6 address or CIDR per line (e.g. 203.0.113.0/24). Empty: any address.");
    ips.control.value = key.allowed_ips.join("\n");
    const limitChoice = h("select", { id: "edit-limit-choice" },
      h("option", { value: "default" }, "Deployment default"), h("option", { value: "unlimited" }, "Unlimited"), h("option", { value: "custom" }, "Requests per minute…"));
    const limitNumber = h("input", { type: "number", id: "edit-rate-limit", min: "1", max: "1000000", step: "1", inputmode: "numeric", "aria-label": "Requests per minute" });
    const current = key.rate_limit_per_minute;
    limitChoice.value = current === null ? "default" : current === 0 ? "unlimited" : "custom";
    if (current) limitNumber.value = String(current);
    const limit = field("edit-rate-limit-field", "Rate limit", limitChoice, "1 to 1,000,000 requests per minute.");
    limit.wrapper.insertBefore(limitNumber, limit.error);
    limitNumber.setAttribute("aria-describedby", limit.error.id);
    const syncLimit = () => { limitNumber.hidden = limitChoice.value !== "custom"; };
    limitChoice.addEventListener("change", () => { syncLimit(); if (!limitNumber.hidden) limitNumber.focus(); });
    syncLimit();
    // A rotated key's expiry is its successor's grace period; an expired key is final (409s).
    const expiryLocked = Boolean(key.replaced_by_id);
    const expiryChoice = h("select", { disabled: expiryLocked },
      h("option", { value: "keep" }, key.expires_at ? `Keep (${formatExact(key.expires_at)})` : "Keep (never)"),
      h("option", { value: "never" }, "Never"), h("option", { value: "custom" }, "On a date…"));
    const expiryDate = h("input", { type: "date", id: "edit-expiry-date", min: isoDate(new Date()), hidden: true, "aria-label": "Expiry date" });
    const expiry = field("edit-expiry", "Expires", expiryChoice, expiryLocked ? "A rotated key expires when its grace period ends." : "The key stops working at the end of that day.");
    expiry.wrapper.insertBefore(expiryDate, expiry.error);
    expiryDate.setAttribute("aria-describedby", expiry.error.id);
    expiryChoice.addEventListener("change", () => { expiryDate.hidden = expiryChoice.value !== "custom"; if (!expiryDate.hidden) expiryDate.focus(); });

    const fields = { description, metadata, allowed_ips: ips, rate_limit_per_minute: limit, expires_at: expiry };
    const focusOf = { rate_limit_per_minute: () => (limitNumber.hidden ? limitChoice : limitNumber), expires_at: () => (expiryDate.hidden ? expiryChoice : expiryDate) };
    const formNote = h("div", { class: "form-error-slot" });
    const save = h("button", { type: "submit", class: "button button-primary" }, "Save changes");
    const form = h("form", { class: "form card edit-form", novalidate: true, id: "edit-key" },
      ...Object.values(fields).map((f) => f.wrapper), formNote, h("div", { class: "form-actions" }, save));

    function clear() {
      for (const f of Object.values(fields)) {
        f.error.hidden = true;
        f.error.textContent = "";
        f.wrapper.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
      }
      formNote.replaceChildren();
    }
    function invalid(name, message) {
      const f = fields[name];
      f.error.textContent = message;
      f.error.hidden = false;
      const control = focusOf[name] ? focusOf[name]() : f.control;
      control.setAttribute("aria-invalid", "true");
      return control;
    }

    // The changed fields as a PATCH body, or the first problem found in the browser.
    function collect() {
      const body = {};
      const problems = [];
      const text = description.control.value.trim();
      if (text !== key.description) body.description = text;
      const meta = {};
      const lines = metadata.control.value.split("\n").map((l) => l.trim()).filter(Boolean);
      for (const line of lines) {
        const at = line.indexOf("=");
        const name = at < 0 ? "" : line.slice(0, at).trim();
        if (at < 0 || !name) { problems.push(["metadata", `“${line.slice(0, 40)}” is not key=value.`]); break; }
        if (name.length > 40) { problems.push(["metadata", `The key “${name.slice(0, 40)}…” is longer than 40 characters.`]); break; }
        meta[name] = line.slice(at + 1).trim();
      }
      if (Object.keys(meta).length > 20) problems.push(["metadata", "At most 20 entries."]);
      if (JSON.stringify(meta) !== JSON.stringify(key.metadata || {})) body.metadata = meta;
      const list = ips.control.value.split(/[\s,]+/).filter(Boolean);
      if (list.join("\n") !== key.allowed_ips.join("\n")) body.allowed_ips = list;
      let rate = null;
      if (limitChoice.value === "unlimited") rate = 0;
      if (limitChoice.value === "custom") {
        rate = Number(limitNumber.value);
        if (!limitNumber.value || !Number.isInteger(rate) || rate < 1 || rate > 1000000) {
          problems.push(["rate_limit_per_minute", "Enter a whole number from 1 to 1,000,000."]);
        }
      }
      if (rate !== key.rate_limit_per_minute) body.rate_limit_per_minute = rate;
      if (expiryChoice.value === "never" && key.expires_at) body.expires_at = null;
      if (expiryChoice.value === "custom") {
        const value = expiryValue("custom", expiryDate.value);
        if (value && value.problem) problems.push(["expires_at", value.problem]);
        else body.expires_at = value;
      }
      return { body, problems };
    }

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clear();
      const { body, problems } = collect();
      if (problems.length) {
        const controls = problems.map(([name, message]) => invalid(name, message));
        controls[0].focus();
        return;
      }
      if (!Object.keys(body).length) {
        formNote.replaceChildren(h("p", { class: "muted", role: "status" }, "Nothing has changed."));
        return;
      }
      save.disabled = true;
      try {
        await ctx.api.patch(apiUrl(key.id), body);
      } catch (error) {
        save.disabled = false;
        if (!ctx.handle(error)) return;
        const named = [];
        if (error.details && error.details.field) named.push([error.details.field, error.message]);
        for (const f of (error.details && error.details.fields) || []) named.push([String(f.field).split(".")[0], f.message]);
        const known = named.filter(([name]) => fields[name]);
        if (known.length) {
          known.map(([name, message]) => invalid(name, message))[0].focus();
        }
        formNote.replaceChildren(h("div", { class: "form-error", role: "alert" },
          h("p", {}, known.length ? "Nothing was saved: correct the field marked above." : error.message),
          error.requestId ? h("p", { class: "muted" }, "Request id: ", h("code", { class: "request-id" }, error.requestId)) : null));
        return;
      }
      toast(`“${key.name}” (${masked(key)}) saved.`);
      await load("details-heading");
    });
    return h("section", { class: "detail-section", "aria-labelledby": "edit-heading" }, h("h2", { id: "edit-heading", tabindex: "-1" }, "Edit"), form);
  }

  // --- usage and scopes ---------------------------------------------------------------

  async function usage(key, slot) {
    let rows;
    try {
      // This key's rows only (`key_id`): the page never downloads the organization's usage.
      const query = new URLSearchParams({ days: "30", group_by: "endpoint,outcome", key_id: key.id });
      ({ data: rows } = await ctx.api.get(`/console/usage?${query}`));
    } catch (error) {
      if (ctx.handle(error)) slot.replaceChildren(slot.firstChild, errorBox(error));
      return;
    }
    const mine = [...rows].sort((a, b) => b.requests - a.requests);
    const total = mine.reduce((sum, r) => sum + r.requests, 0);
    slot.replaceChildren(slot.firstChild, mine.length
      ? h("div", {},
        h("p", { class: "muted" }, `${total.toLocaleString()} requests in the last 30 days.`),
        h("table", { class: "table usage-endpoints", id: "key-usage-table" },
          h("caption", { class: "visually-hidden" }, `Requests of ${key.name} by endpoint and outcome, last 30 days`),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Endpoint"), h("th", { scope: "col" }, "Outcome"), h("th", { scope: "col", class: "num" }, "Requests"))),
          h("tbody", {}, mine.map((r) => h("tr", {},
            h("td", { "data-label": "Endpoint" }, h("code", { class: "break" }, r.endpoint)),
            h("td", { "data-label": "Outcome" }, h("span", { class: `badge outcome-${r.outcome === "success" ? "ok" : "bad"}` }, r.outcome.replace(/_/g, " "))),
            h("td", { "data-label": "Requests", class: "num" }, r.requests.toLocaleString()))))))
      : h("p", { class: "muted" }, "No requests in the last 30 days."));
  }

  async function scopeReport(key, slot) {
    let report;
    try {
      report = await ctx.api.get(`${apiUrl(key.id)}/scope-report?days=30`);
    } catch (error) {
      if (ctx.handle(error)) slot.replaceChildren(slot.firstChild, errorBox(error));
      return;
    }
    const chips = (list, empty) => (list.length ? h("ul", { class: "chips" }, list.map((s) => h("li", { class: "chip" }, s))) : h("span", { class: "muted" }, empty));
    const suggested = report.suggested_scopes;
    const granted = key.scopes.includes("*") ? ["*"] : key.scopes;
    const same = suggested.length === granted.length && suggested.every((s) => granted.includes(s));
    let action = null;
    if (!suggested.length) {
      action = h("p", { class: "muted" }, "No scoped request in these days, so there is nothing to narrow to (a key keeps at least one scope).");
    } else if (same) {
      action = h("p", { class: "muted" }, "The key already holds exactly the scopes it used.");
    } else if (canManage && live(key)) {
      action = h("button", { type: "button", class: "button button-primary", id: "narrow-scopes", onclick: () => narrow(key, suggested) }, "Narrow to these scopes");
    }
    slot.replaceChildren(slot.firstChild,
      h("p", { class: "muted" }, `What the key's traffic of the last ${report.days} days needed (requests it was refused do not count).`),
      h("dl", { class: "detail-list card", id: "scope-report" },
        item("Granted", chips(scopeLabel(report.granted), "None")),
        item("Used", chips(report.used, "None")),
        item("Not used", chips(report.unused, "None")),
        item("Suggested", chips(suggested, "None"))),
      action);
  }

  async function narrow(key, scopes) {
    const ok = await confirmAction({
      title: `Narrow “${key.name}” to ${scopes.length} ${scopes.length === 1 ? "scope" : "scopes"}?`,
      message: [`“${key.name}” (${key.start}…${key.last4}) will hold only: ${scopes.join(", ")}.`, "Requests that need any other scope are refused with 403 from now on."],
      confirmLabel: `Narrow “${key.name}”`,
      danger: false,
    });
    if (!ok) return;
    try {
      await ctx.api.patch(apiUrl(key.id), { scopes });
    } catch (error) {
      if (ctx.handle(error)) toast(error.message, { error, title: `“${key.name}” (${masked(key)}) was not changed` }).focus();
      return;
    }
    toast(`“${key.name}” (${masked(key)}) now holds ${scopes.join(", ")}.`);
    await load("report-heading");
  }

  load();
}
