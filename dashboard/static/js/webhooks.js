// The webhooks page: endpoints (URL, event types, state), the signing secret shown once, a
// test event, and each endpoint's deliveries with status, duration and answer, and retry.
// Each URL links to the endpoint's own page (webhook-detail.js).

import { h, icon, replace, timeEl } from "./dom.js";
import { confirmAction, empty, errorBox, loading, menuButton, pageActions, toast } from "./ui.js";
import { confirmRotation, deliveriesTable, endpointApi, endpointDialog as openEndpointDialog, endpointPage, endpointState, eventChips, retryDelivery, showSecret as showSecretDialog, stateStack } from "./webhook-parts.js";

export function renderWebhooks(ctx) {
  const { container } = ctx;
  const add = h("button", { type: "button", class: "button button-primary", id: "add-endpoint" }, icon("plus"), "Add endpoint");
  const listSlot = h("div", { class: "table-slot" });
  const deliveriesSlot = h("section", { class: "deliveries", id: "deliveries", "aria-labelledby": "deliveries-title", hidden: true });
  add.addEventListener("click", () => endpointDialog());
  replace(container,
    h("div", { class: "toolbar" }, h("p", { class: "muted" }, "Loopwave signs every delivery (Standard Webhooks) and retries failures for a day. ", h("a", { href: "/docs" }, "API reference"), ".")),
    listSlot, deliveriesSlot);
  pageActions(add);

  // Loads the list. `after`: the endpoint whose menu button gets the focus once the table is
  // redrawn; where that row is gone (deleted), `note` (the toast) gets it, never <body>.
  async function load(after = null, note = null) {
    listSlot.setAttribute("aria-busy", "true");
    if (!listSlot.firstChild) replace(listSlot, loading("Loading endpoints…"));
    try {
      const { data } = await ctx.api.get("/console/webhooks");
      replace(listSlot, data.length ? table(data) : empty("No endpoints yet", "Add an HTTPS endpoint of yours to hear about key changes, leaked keys and license changes as they happen.", h("button", { type: "button", class: "button button-primary", onclick: () => endpointDialog() }, "Add your first endpoint")));
      if (after) {
        const target = listSlot.querySelector(`tr[data-endpoint-id="${CSS.escape(after)}"] [data-focus=menu]`);
        if (target) target.focus();
        else if (note && note.isConnected) note.focus();
      }
    } catch (error) {
      if (!ctx.handle(error)) return;
      if (listSlot.querySelector("table")) toast(error.message, { error, title: "The endpoints could not be refreshed" }).focus();
      else replace(listSlot, errorBox(error, () => load()));
    } finally {
      listSlot.removeAttribute("aria-busy");
    }
  }

  async function act(endpoint, work, done) {
    try {
      const result = await work();
      const note = done ? toast(done) : null;
      await load(endpoint.id, note);
      return result;
    } catch (error) {
      if (!ctx.handle(error)) return null;
      toast(error.message, { error, title: `${endpoint.url} was not changed` }).focus();
      await load();
      return null;
    }
  }

  function table(endpoints) {
    const columns = [["URL", "col-url"], ["Events", "col-events"], ["State", "col-state"], ["Created", "col-created"], ["", "col-actions"]];
    return h("table", { class: "table webhooks-table", id: "webhooks-table" },
      h("caption", { class: "visually-hidden" }, "Webhook endpoints"),
      h("colgroup", {}, columns.map(([, cls]) => h("col", { class: cls }))),
      h("thead", {}, h("tr", {}, columns.map(([label]) => h("th", { scope: "col" }, label || h("span", { class: "visually-hidden" }, "Actions"))))),
      h("tbody", {}, endpoints.map(row)));
  }

  function row(endpoint) {
    return h("tr", { "data-endpoint-id": endpoint.id, "data-state": endpointState(endpoint) },
      h("td", { "data-label": "URL", class: "key-name" },
        h("a", { class: "name-text truncate", href: endpointPage(endpoint.id), title: endpoint.url }, endpoint.url),
        endpoint.description ? h("span", { class: "muted truncate small", title: endpoint.description }, endpoint.description) : null),
      h("td", { "data-label": "Events" }, eventChips(endpoint)),
      h("td", { "data-label": "State" }, stateStack(endpoint)),
      h("td", { "data-label": "Created" }, timeEl(endpoint.created_at)),
      h("td", { "data-label": "Actions", class: "actions" }, menuButton({
        label: `Actions for ${endpoint.url}`,
        items: [
          { label: "Deliveries", onSelect: () => showDeliveries(endpoint, { focus: "heading" }) },
          { label: "Edit…", onSelect: () => endpointDialog(endpoint) },
          { label: "Send test event", onSelect: () => sendTest(endpoint) },
          { label: endpoint.enabled ? "Disable" : "Enable", onSelect: () => act(endpoint, () => ctx.api.patch(endpointApi(endpoint.id), { enabled: !endpoint.enabled }), `${endpoint.url} ${endpoint.enabled ? "disabled" : "enabled"}.`) },
          { label: "Rotate secret…", onSelect: () => rotateSecret(endpoint) },
          { label: "Delete…", onSelect: () => remove(endpoint), danger: true },
        ],
      })));
  }

  function endpointDialog(endpoint = null) {
    openEndpointDialog(ctx, endpoint, {
      onCreated: (created) => showSecret(created, "Your endpoint's signing secret"),
      onSaved: async (changes) => {
        const note = toast(Object.keys(changes).length ? `${changes.url || endpoint.url} saved.` : "Nothing has changed.");
        await load(endpoint.id, note);
      },
    });
  }

  function showSecret(created, title) {
    showSecretDialog(created, title, (endpoint) => load(endpoint.id));
  }

  async function rotateSecret(endpoint) {
    if (!(await confirmRotation(endpoint))) return;
    const rotated = await act(endpoint, () => ctx.api.post(`${endpointApi(endpoint.id)}/rotate-secret`), null);
    if (rotated) showSecret(rotated, "Your new signing secret");
  }

  async function remove(endpoint) {
    const ok = await confirmAction({ title: "Delete this endpoint?", message: [`${endpoint.url} receives no more events. Its delivery log is deleted with it.`], confirmLabel: "Delete endpoint" });
    if (ok) {
      await act(endpoint, () => ctx.api.delete(endpointApi(endpoint.id)), `${endpoint.url} deleted.`);
      if (deliveriesSlot.dataset.endpointId === endpoint.id) deliveriesSlot.hidden = true;
    }
  }

  async function sendTest(endpoint) {
    const sent = await act(endpoint, () => ctx.api.post(`${endpointApi(endpoint.id)}/test`), `A webhook.test event is on its way to ${endpoint.url}.`);
    if (sent) showDeliveries(endpoint);
  }

  // Shows the endpoint's deliveries. `focus`: "heading", "refresh", or the id of a delivery
  // whose Retry button (or, once it has none, the heading) gets the focus after the redraw.
  async function showDeliveries(endpoint, { focus = null } = {}) {
    deliveriesSlot.hidden = false;
    deliveriesSlot.dataset.endpointId = endpoint.id;
    const heading = h("h2", { id: "deliveries-title", class: "section-title", tabindex: "-1" }, "Deliveries to ", h("span", { class: "break" }, endpoint.url));
    const refresh = h("button", { type: "button", class: "button button-small", onclick: () => showDeliveries(endpoint, { focus: "refresh" }) }, "Refresh");
    replace(deliveriesSlot, h("div", { class: "toolbar" }, heading, refresh), loading("Loading deliveries…"));
    try {
      const { data } = await ctx.api.get(`${endpointApi(endpoint.id)}/deliveries?limit=50`);
      replace(deliveriesSlot, h("div", { class: "toolbar" }, heading, refresh),
        data.length ? deliveriesTable(endpoint, data, (delivery) => retry(endpoint, delivery)) : empty("No deliveries yet", "Send a test event to see one here."));
      if (focus === "refresh") refresh.focus();
      else if (focus) (deliveriesSlot.querySelector(`tr[data-delivery-id="${CSS.escape(focus)}"] button`) || heading).focus();
    } catch (error) {
      if (ctx.handle(error)) replace(deliveriesSlot, h("div", { class: "toolbar" }, heading, refresh), errorBox(error, () => showDeliveries(endpoint)));
    }
  }

  async function retry(endpoint, delivery) {
    const queued = await retryDelivery(ctx, endpoint, delivery);
    showDeliveries(endpoint, queued ? { focus: delivery.id } : {});
  }

  load();
}
