// One webhook endpoint's page (/dashboard/webhooks/<id>), like Stripe's: its URL, description,
// event types and state; the signing secret (shown once, after a rotation); a test event; its
// deliveries with status, duration and answer, each attempt, Retry and "Load more"; edit,
// enable/disable and delete. It reads the endpoint alone (GET /console/webhooks/<id>).

import { formatExact, h, icon, replace, timeEl } from "./dom.js";
import { confirmAction, empty, errorBox, keepFocus, loading, menuButton, pageActions, toast } from "./ui.js";
import { confirmRotation, deliveriesTable, deliveryRow, endpointApi, endpointDialog, eventChips, retryDelivery, showSecret, stateStack } from "./webhook-parts.js";

const PAGE_SIZE = 25;

export function renderWebhookDetail(ctx) {
  const { container } = ctx;
  const heading = document.getElementById("page-title");
  const apiUrl = endpointApi(ctx.config.endpointId);

  // Draws the page from the endpoint's current state; `focusId`: the control (or heading)
  // that gets the focus afterwards, so an action never leaves it on <body>.
  async function load(focusId = null) {
    if (!container.querySelector(".webhook-detail")) replace(container, loading("Loading the endpoint…"));
    let endpoint = null;
    try {
      endpoint = await ctx.api.get(apiUrl);
    } catch (error) {
      if (error.status !== 404) {
        if (ctx.handle(error)) replace(container, errorBox(error, () => load()));
        return;
      }
    }
    if (!endpoint) {
      heading.textContent = "Endpoint not found";
      pageActions();
      replace(container, empty("There is no such endpoint in this organization.", "It may have been deleted, or the link is mistyped.",
        h("a", { class: "button", href: "/dashboard/webhooks" }, "Back to all endpoints")));
      return;
    }
    heading.textContent = endpoint.url;
    heading.classList.add("break");
    document.title = `${endpoint.url} · Webhook endpoint · Loopwave`;
    const deliveriesSlot = h("section", { class: "detail-section", id: "deliveries", "aria-labelledby": "deliveries-title" });
    replace(container, h("div", { class: "key-detail webhook-detail" },
      summary(endpoint),
      details(endpoint),
      deliveriesSlot));
    if (focusId) { const el = document.getElementById(focusId); if (el) el.focus(); }
    deliveries(endpoint, deliveriesSlot);
  }

  // One action on the endpoint: a toast says how it went (naming the endpoint and, on failure,
  // with the request id); the page is drawn again either way and the focus goes to `focusId`.
  async function act(endpoint, work, done, focusId) {
    try {
      const result = await work();
      if (done) toast(done);
      await load(focusId);
      return result;
    } catch (error) {
      if (!ctx.handle(error)) return null;
      const note = toast(error.message, { error, title: `${endpoint.url} was not changed` });
      await load();
      note.focus();
      return null;
    }
  }

  function summary(endpoint) {
    const test = h("button", { type: "button", class: "button button-primary", id: "send-test", onclick: () => sendTest(endpoint) }, icon("send"), "Send test event");
    const edit = h("button", { type: "button", class: "button", id: "edit-endpoint", onclick: () => editEndpoint(endpoint) }, icon("pencil"), "Edit");
    const more = menuButton({
      label: `More actions for ${endpoint.url}`,
      items: [
        { label: endpoint.enabled ? "Disable" : "Enable", onSelect: () => toggle(endpoint) },
        { label: "Delete…", onSelect: () => remove(endpoint), danger: true },
      ],
    });
    more.querySelector("button").id = "more-actions";
    // A disabled endpoint (by someone, or by Loopwave after 3 days of failures) says so first,
    // with the way back.
    const off = endpoint.enabled ? null : h("div", { class: "warning endpoint-off", role: "note" }, icon("circle-pause"),
      h("span", {}, h("strong", {}, "This endpoint is disabled. "), endpoint.disabled_reason ? `${endpoint.disabled_reason} ` : "",
        "It receives no events (test events excepted) until it is enabled again."),
      h("button", { type: "button", class: "button button-small", id: "enable-endpoint", onclick: () => toggle(endpoint) }, icon("circle-play"), "Enable endpoint"));
    // The endpoint's actions sit on the title row, as every page's primary action does.
    pageActions(test, edit, more);
    return h("div", { class: "webhook-top" }, off, h("div", { class: "webhook-head" },
      h("div", { class: "webhook-head-text" },
        h("div", { class: "detail-summary" }, stateStack(endpoint)),
        endpoint.description ? h("p", { class: "muted break webhook-description" }, endpoint.description) : null)));
  }

  function item(term, ...value) {
    return h("div", { class: "detail-item" }, h("dt", {}, term), h("dd", {}, ...value));
  }

  function details(endpoint) {
    const overlap = endpoint.previous_secret_until && new Date(endpoint.previous_secret_until) > new Date();
    const rotate = h("button", { type: "button", class: "button button-small", id: "rotate-secret", onclick: () => rotateSecret(endpoint) }, icon("rotate-cw"), "Rotate secret…");
    return h("section", { class: "detail-section", "aria-labelledby": "details-heading" },
      h("h2", { id: "details-heading", tabindex: "-1" }, "Details"),
      h("dl", { class: "detail-list card", id: "endpoint-details" },
        item("URL", h("code", { class: "break" }, endpoint.url)),
        item("Description", endpoint.description ? h("span", { class: "break" }, endpoint.description) : h("span", { class: "muted" }, "None")),
        item("Events", eventChips(endpoint)),
        item("Signing secret", h("div", { class: "secret-item" },
          h("p", { class: "secret-note" }, h("code", {}, "whsec_••••••••"), " ",
            h("span", { class: "muted" }, "Shown once, when the endpoint was created and after each rotation. Verify deliveries with it (Standard Webhooks).")),
          overlap ? h("p", { class: "status-note", id: "previous-secret" }, "The previous secret signs too until ", timeEl(endpoint.previous_secret_until), ` (${formatExact(endpoint.previous_secret_until)}).`) : null,
          rotate)),
        item("Created", timeEl(endpoint.created_at), ` (${formatExact(endpoint.created_at)})`),
        item("Id", h("code", { class: "break" }, endpoint.id))));
  }

  // --- actions ------------------------------------------------------------------------

  function editEndpoint(endpoint) {
    endpointDialog(ctx, endpoint, {
      onSaved: async (changes) => {
        toast(Object.keys(changes).length ? `${changes.url || endpoint.url} saved.` : "Nothing has changed.");
        await load("edit-endpoint");
      },
    });
  }

  function toggle(endpoint) {
    const verb = endpoint.enabled ? "disabled" : "enabled";
    return act(endpoint, () => ctx.api.patch(apiUrl, { enabled: !endpoint.enabled }), `${endpoint.url} ${verb}.`, "more-actions");
  }

  async function sendTest(endpoint) {
    await act(endpoint, () => ctx.api.post(`${apiUrl}/test`), `A webhook.test event is on its way to ${endpoint.url}.`, "send-test");
  }

  async function rotateSecret(endpoint) {
    if (!(await confirmRotation(endpoint))) return;
    let rotated;
    try {
      rotated = await ctx.api.post(`${apiUrl}/rotate-secret`);
    } catch (error) {
      if (ctx.handle(error)) toast(error.message, { error, title: `${endpoint.url} was not changed` }).focus();
      return;
    }
    showSecret(rotated, "Your new signing secret", () => load("rotate-secret"));
  }

  async function remove(endpoint) {
    const ok = await confirmAction({ title: "Delete this endpoint?", message: [`${endpoint.url} receives no more events. Its delivery log is deleted with it.`], confirmLabel: "Delete endpoint" });
    if (!ok) return;
    try {
      await ctx.api.delete(apiUrl);
    } catch (error) {
      if (!ctx.handle(error)) return;
      toast(error.message, { error, title: `${endpoint.url} was not deleted` }).focus();
      await load();
      return;
    }
    toast(`${endpoint.url} deleted.`);
    heading.textContent = "Endpoint deleted";
    pageActions();
    const back = h("a", { class: "button", href: "/dashboard/webhooks", id: "back-to-endpoints" }, "Back to all endpoints");
    replace(container, empty(`${endpoint.url} was deleted.`, "It receives no more events; its delivery log is gone with it.", back));
    back.focus();
  }

  // --- deliveries ---------------------------------------------------------------------

  // The endpoint's deliveries, newest first, PAGE_SIZE at a time. `focus`: "refresh", or the
  // id of a delivery whose Retry button (or, once it has none, the heading) gets the focus.
  async function deliveries(endpoint, slot, { focus = null } = {}) {
    const title = h("h2", { id: "deliveries-title", tabindex: "-1" }, "Deliveries");
    const refresh = h("button", { type: "button", class: "button button-small", id: "refresh-deliveries", onclick: () => deliveries(endpoint, slot, { focus: "refresh" }) }, icon("refresh-cw"), "Refresh");
    const head = h("div", { class: "toolbar section-head" }, title, refresh);
    const more = h("button", { type: "button", class: "button", id: "more-deliveries", hidden: true }, "Load more");
    replace(slot, head, loading("Loading deliveries…"));
    const retry = async (delivery) => {
      const queued = await retryDelivery(ctx, endpoint, delivery);
      await deliveries(endpoint, slot, queued ? { focus: delivery.id } : {});
    };
    let cursor = null;
    let body = null;
    async function page() {
      const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
      if (cursor) query.set("cursor", cursor);
      const answer = await ctx.api.get(`${apiUrl}/deliveries?${query}`);
      cursor = answer.next_cursor;
      return answer.data;
    }
    try {
      const first = await page();
      if (!first.length) {
        replace(slot, head, empty("No deliveries yet", "Events this endpoint subscribes to are delivered here as they happen. Send a test event to see one now."));
      } else {
        const table = deliveriesTable(endpoint, first, retry);
        body = table.querySelector("tbody");
        replace(slot, head, table, more);
        more.hidden = !cursor;
      }
    } catch (error) {
      if (ctx.handle(error)) replace(slot, head, errorBox(error, () => deliveries(endpoint, slot)));
      return;
    }
    more.addEventListener("click", async () => {
      if (more.hasAttribute("aria-disabled")) return;
      more.setAttribute("aria-disabled", "true"); // not `disabled`: that would drop its focus
      try {
        const rows = (await page()).map((delivery) => deliveryRow(delivery, retry));
        body.append(...rows);
        keepFocus(more, rows, !cursor);
      } catch (error) {
        if (ctx.handle(error)) toast(error.message, { error, title: "More deliveries could not be loaded" }).focus();
      } finally {
        more.removeAttribute("aria-disabled");
      }
    });
    if (focus === "refresh") refresh.focus();
    else if (focus) (slot.querySelector(`tr[data-delivery-id="${CSS.escape(focus)}"] button`) || title).focus();
  }

  load();
}
