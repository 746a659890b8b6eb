// The events page: every event of the organization in the dashboard's mode (SPEC §9.1),
// newest first, filtered by type, paged with the API's cursor. Each row opens its data (never a secret: the API holds none).

import { h, replace, timeEl } from "./dom.js";
import { copyableId, empty, errorBox, keepFocus, loading } from "./ui.js";

function subject(data) {
  const object = (data && (data.object || data)) || {};
  if (object.name && object.last4) return `${object.name} …${object.last4}`;
  return object.name || object.url || object.id || "—";
}

export function renderEvents(ctx) {
  const { container } = ctx;
  const filter = h("select", { id: "event-type" }, h("option", { value: "" }, "All types"), (ctx.config.eventTypes || []).map((type) => h("option", { value: type }, type)));
  const slot = h("div", { class: "table-slot" });
  const more = h("button", { type: "button", class: "button", hidden: true }, "Load more");
  let cursor = null;
  let body = null;
  const mode = ctx.mode;
  const intro = mode === "test"
    ? [h("span", { class: "badge badge-test" }, "Test mode"), " What happened to this organization's test keys."]
    : "What happened to this organization's live keys, license and webhooks. Endpoints receive the same events.";
  replace(container,
    h("div", { class: "toolbar" }, h("p", { class: "muted" }, intro),
      h("div", { class: "field field-inline" }, h("label", { for: filter.id }, "Type"), filter)),
    slot, more);

  async function load(reset) {
    if (reset) { cursor = null; body = null; replace(slot, loading("Loading events…")); }
    more.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop its focus
    try {
      const query = new URLSearchParams({ limit: "50", mode });
      if (filter.value) query.set("type", filter.value);
      if (cursor) query.set("cursor", cursor);
      const page = await ctx.api.get(`/console/events?${query}`);
      if (!body) {
        if (!page.data.length) {
          const what = [filter.value, mode === "test" ? "test-mode" : null].filter(Boolean).join(" ");
          replace(slot, empty(mode === "test" ? "No test events yet" : "No events yet", what ? `No ${what} events so far.` : "Create or change a key and its event appears here."));
          more.hidden = true;
          return;
        }
        body = h("tbody");
        replace(slot, h("table", { class: "table events-table", id: "events-table" },
          h("caption", { class: "visually-hidden" }, "Events"),
          h("thead", {}, h("tr", {}, ["Time", "Type", "Subject", "Mode", "Event id"].map((label) => h("th", { scope: "col" }, label)))),
          body));
      }
      const rows = page.data.map(row);
      body.append(...rows);
      cursor = page.next_cursor;
      keepFocus(more, rows, !cursor);
    } catch (error) {
      if (ctx.handle(error)) replace(slot, errorBox(error, () => load(true)));
    } finally {
      more.removeAttribute("aria-disabled");
    }
  }

  function row(event) {
    return h("tr", { "data-event-type": event.type },
      h("td", { "data-label": "Time" }, timeEl(event.created_at)),
      h("td", { "data-label": "Type" }, h("code", {}, event.type)),
      h("td", { "data-label": "Subject" }, h("details", { class: "event-data" }, h("summary", {}, h("span", { class: "break" }, subject(event.data))), h("pre", { class: "break" }, JSON.stringify(event.data, null, 2)))),
      h("td", { "data-label": "Mode" }, h("span", { class: `badge ${event.livemode ? "badge-active" : "badge-disabled"}` }, event.livemode ? "live" : "test")),
      h("td", { "data-label": "Event id" }, copyableId(event.id, "event id")));
  }

  filter.addEventListener("change", () => load(true));
  more.addEventListener("click", () => { if (!more.hasAttribute("aria-disabled")) load(false); });
  load(true);
}
