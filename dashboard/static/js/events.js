// The events page: every event of the organization, newest first, filtered by type, paged
// with the API's cursor. Each row opens its data (never a secret: the API holds none).

import { h, replace, timeEl } from "./dom.js";
import { empty, errorBox, loading } from "./ui.js";

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
  replace(container,
    h("div", { class: "toolbar" }, h("p", { class: "muted" }, "What happened to this organization's keys, license and webhooks. Endpoints receive the same events."),
      h("div", { class: "field field-inline" }, h("label", { for: filter.id }, "Type"), filter)),
    slot, more);

  async function load(reset) {
    if (reset) { cursor = null; body = null; replace(slot, loading("Loading events…")); }
    more.disabled = true;
    try {
      const query = new URLSearchParams({ limit: "50" });
      if (filter.value) query.set("type", filter.value);
      if (cursor) query.set("cursor", cursor);
      const page = await ctx.api.get(`/console/events?${query}`);
      if (!body) {
        if (!page.data.length) {
          replace(slot, empty("No events yet", filter.value ? `No ${filter.value} events so far.` : "Create or change a key and its event appears here."));
          more.hidden = true;
          return;
        }
        body = h("tbody");
        replace(slot, h("table", { class: "table events-table", id: "events-table" },
          h("caption", { class: "visually-hidden" }, "Events"),
          h("thead", {}, h("tr", {}, ["Time", "Type", "Subject", "Mode", "Event id"].map((label) => h("th", { scope: "col" }, label)))),
          body));
      }
      body.append(...page.data.map(row));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (error) {
      if (ctx.handle(error)) replace(slot, errorBox(error, () => load(true)));
    } finally {
      more.disabled = false;
    }
  }

  function row(event) {
    return h("tr", { "data-event-type": event.type },
      h("td", { "data-label": "Time" }, timeEl(event.created_at)),
      h("td", { "data-label": "Type" }, h("code", {}, event.type)),
      h("td", { "data-label": "Subject" }, h("details", { class: "event-data" }, h("summary", {}, h("span", { class: "break" }, subject(event.data))), h("pre", { class: "break" }, JSON.stringify(event.data, null, 2)))),
      h("td", { "data-label": "Mode" }, h("span", { class: `badge ${event.livemode ? "badge-active" : "badge-disabled"}` }, event.livemode ? "live" : "test")),
      h("td", { "data-label": "Event id" }, h("code", { class: "break" }, event.id)));
  }

  filter.addEventListener("change", () => load(true));
  more.addEventListener("click", () => load(false));
  load(true);
}
