// Leaked-key and decoy alerts, on every page until acknowledged. They are the `key.leaked`
// and `key.decoy_used` events of GET /console/events. The console has no acknowledge API, so
// an acknowledgement is kept in this browser (localStorage, per organization and event id):
// another browser or person still sees the alert.

import { formatExact, h, icon, replace, timeEl } from "./dom.js";

const TYPES = ["key.leaked", "key.decoy_used"];
const KEEP = 500; // acknowledged ids kept per organization

const storeKey = (me) => `lw.ack.${me.tenant.id}`;

function acknowledged(me) {
  try {
    return new Set(JSON.parse(localStorage.getItem(storeKey(me)) || "[]"));
  } catch (error) {
    return new Set();
  }
}

function acknowledge(me, id) {
  const ids = [...acknowledged(me), id].slice(-KEEP);
  localStorage.setItem(storeKey(me), JSON.stringify(ids));
}

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
  let found = [];
  try {
    const pages = await Promise.all(TYPES.map((type) => ctx.api.get(`/console/events?type=${type}&limit=20`)));
    found = pages.flatMap((page) => page.data);
  } catch (error) {
    ctx.handle(error);
    return; // the page itself shows what is wrong with the connection
  }
  const done = acknowledged(ctx.me);
  const open = found.filter((event) => !done.has(event.id)).sort((a, b) => b.created_at.localeCompare(a.created_at));
  if (!open.length) return;
  const heading = h("h2", { class: "visually-hidden", id: "alerts-heading" }, "Security alerts");
  replace(slot, heading, open.map((event) => alertItem(ctx, event, slot)));
  slot.hidden = false;
}

function alertItem(ctx, event, slot) {
  const { title, body, key } = describe(event);
  const item = h("div", { class: "alert", "data-event-id": event.id, "data-event-type": event.type });
  const button = h("button", {
    type: "button", class: "button button-small",
    "aria-label": `Acknowledge: ${title.filter((part) => typeof part === "string").join("")}`,
    title: `Hide this alert in this browser (${formatExact(event.created_at)}, ${event.id})`,
  }, "Acknowledge");
  button.addEventListener("click", () => {
    acknowledge(ctx.me, event.id);
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    if (!slot.querySelector(".alert")) { slot.hidden = true; document.getElementById("main").focus(); }
    else if (next) (next.querySelector("button") || next).focus();
  });
  replace(item,
    icon("shield-alert", "alert-icon"),
    h("div", { class: "alert-body" },
      h("p", { class: "alert-title" }, title),
      h("p", {}, body, " ", key.id ? keyLink(key) : null)),
    button);
  return item;
}
