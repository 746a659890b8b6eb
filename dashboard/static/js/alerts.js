// Leaked-key and decoy alerts, on every page until acknowledged: the `key.leaked` and
// `key.decoy_used` events nobody in the organization has acknowledged (GET /console/alerts).
// Acknowledging is the server's (POST /console/alerts/<id>/acknowledge, audited): once done,
// no browser and no colleague sees the alert again. It needs org:api_keys:manage; a reader
// sees the alerts without the button.

import { formatExact, h, icon, replace, timeEl } from "./dom.js";
import { toast } from "./ui.js";

const SHOWN = 50; // the newest unacknowledged alerts shown above the page

const keyLink = (key) => h("a", { href: `/dashboard/keys/${encodeURIComponent(key.id)}` }, "Open the key");

function describe(event) {
  const key = (event.data && event.data.object) || {};
  const who = `“${key.name || key.id}” (…${key.last4 || "????"})`;
  const mode = event.livemode ? null : h("span", { class: "badge badge-test" }, "Test");
  if (event.type === "key.leaked") {
    const revoked = event.data.response === "revoked";
    return {
      title: [`API key ${who} was found in public`, mode],
      body: [
        "A secret scanner reported it ", timeEl(event.created_at), event.data.url ? [" at ", h("span", { class: "break" }, String(event.data.url))] : null, ". ",
        revoked ? "It has been revoked: give its users a new key." : "It still works: rotate it, then revoke the old one.",
      ],
      key,
    };
  }
  const where = [event.data.method, event.data.path].filter(Boolean).join(" ");
  return {
    title: [`Decoy key ${who} was used`, mode],
    body: [
      "Someone tried it ", timeEl(event.data.used_at || event.created_at),
      event.data.client_ip ? [" from ", h("code", {}, String(event.data.client_ip))] : null,
      where ? [" (", h("code", { class: "break" }, where), ")"] : null,
      ". Whoever holds it read the place where it was planted.",
    ],
    key,
  };
}

// Fetches the alert events and shows the ones not acknowledged here. Needs org:api_keys:read.
export async function showAlerts(ctx) {
  const slot = document.getElementById("alerts");
  replace(slot);
  slot.hidden = true;
  delete slot.dataset.loaded;
  try {
    await fetchAndShow(ctx, slot);
  } finally {
    slot.dataset.loaded = "true"; // for tests and scripts: the alerts are as the server had them
  }
}

async function fetchAndShow(ctx, slot) {
  if (!ctx.can("org:api_keys:read")) return;
  let open = [];
  let more = false;
  try {
    const page = await ctx.api.get(`/console/alerts?limit=${SHOWN}`);
    open = page.data;
    more = Boolean(page.next_cursor);
  } catch (error) {
    ctx.handle(error);
    return; // the page itself shows what is wrong with the connection
  }
  if (!open.length) return;
  const heading = h("h2", { class: "visually-hidden", id: "alerts-heading" }, "Security alerts");
  replace(slot, heading, open.map((event) => alertItem(ctx, event, slot)),
    more ? h("p", { class: "alerts-more" }, `These are the ${SHOWN} newest alerts; older ones show once these are acknowledged. `, h("a", { href: "/dashboard/events" }, "All events")) : null);
  slot.hidden = false;
}

function alertItem(ctx, event, slot) {
  const { title, body, key } = describe(event);
  const item = h("div", { class: "alert", "data-event-id": event.id, "data-event-type": event.type });
  const words = title.filter((part) => typeof part === "string").join("");
  const button = ctx.can("org:api_keys:manage") ? h("button", {
    type: "button", class: "button button-small",
    "aria-label": `Acknowledge: ${words}`,
    title: `Hide this alert for everyone in the organization (${formatExact(event.created_at)}, ${event.id})`,
  }, "Acknowledge") : null;
  if (button) button.addEventListener("click", () => acknowledgeItem(ctx, event, item, slot, button, words));
  replace(item,
    icon("shield-alert", "alert-icon"),
    h("div", { class: "alert-body" },
      h("p", { class: "alert-title" }, title),
      h("p", {}, body, " ", key.id ? keyLink(key) : null)),
    button);
  return item;
}

async function acknowledgeItem(ctx, event, item, slot, button, words) {
  button.disabled = true;
  try {
    await ctx.api.post(`/console/alerts/${encodeURIComponent(event.id)}/acknowledge`);
  } catch (error) {
    button.disabled = false;
    if (!ctx.handle(error)) return;
    // The alert stays; the failure says what it was about and carries the request id.
    toast(error.message, { error, title: `Could not acknowledge: ${words}` });
    button.focus();
    return;
  }
  const items = [...slot.querySelectorAll(".alert")];
  const next = items[items.indexOf(item) + 1] || items[items.indexOf(item) - 1];
  item.remove();
  toast(`Acknowledged for everyone in the organization: ${words}`);
  if (next) { next.querySelector("button").focus(); return; }
  document.getElementById("main").focus();
  await showAlerts(ctx); // the older alerts, if there were more than shown
}
