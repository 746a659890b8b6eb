// The webhooks page: endpoints (URL, event types, state), the signing secret shown once, a
// test event, and each endpoint's deliveries with status, duration and answer, and retry.

import { h, icon, replace, timeEl } from "./dom.js";
import { secretDialog } from "./key-dialogs.js";
import { confirmAction, empty, errorBox, formError, loading, menuButton, openDialog, pageActions, toast } from "./ui.js";

function endpointState(endpoint) {
  if (endpoint.enabled) return endpoint.failing_since ? "failing" : "enabled";
  return "disabled";
}

// `allowAll`: whether "All events" may be chosen; it includes key events, which only a
// person who may read keys may receive (a 403 otherwise).
function eventPicker(types, selected = ["*"], allowAll = true) {
  const all = allowAll && selected.includes("*");
  const allBox = h("input", { type: "checkbox", id: "events-all", checked: all, disabled: !allowAll });
  const boxes = types.map((type, index) => h("input", { type: "checkbox", value: type, id: `event-type-${index}`, checked: all || selected.includes(type), disabled: all }));
  allBox.addEventListener("change", () => {
    for (const box of boxes) { box.disabled = allBox.checked; box.checked = allBox.checked; }
  });
  const element = h("fieldset", { class: "scopes" }, h("legend", {}, "Events to send"),
    h("div", { class: "check" }, allBox, h("label", { for: allBox.id }, h("strong", {}, "All events"), allowAll ? " — current and future types" : " — key events need permission to read API keys")),
    h("div", { class: "scope-grid" }, boxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, h("code", {}, box.value))))));
  return { element, value: () => (allBox.checked ? ["*"] : boxes.filter((b) => b.checked).map((b) => b.value)) };
}

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
    const state = endpointState(endpoint);
    return h("tr", { "data-endpoint-id": endpoint.id, "data-state": state },
      h("td", { "data-label": "URL", class: "key-name" },
        h("span", { class: "name-text truncate", title: endpoint.url }, endpoint.url),
        endpoint.description ? h("span", { class: "muted truncate small", title: endpoint.description }, endpoint.description) : null),
      h("td", { "data-label": "Events" }, h("ul", { class: "chips" }, (endpoint.events.includes("*") ? ["All events"] : endpoint.events).map((type) => h("li", { class: "chip" }, type)))),
      h("td", { "data-label": "State" }, h("div", { class: "status-stack" },
        h("span", { class: `badge badge-${state === "enabled" ? "active" : state === "failing" ? "disabled" : "revoked"}` }, state),
        endpoint.disabled_reason ? h("span", { class: "status-note" }, endpoint.disabled_reason) : null,
        endpoint.failing_since ? h("span", { class: "status-note" }, "failing since ", timeEl(endpoint.failing_since)) : null)),
      h("td", { "data-label": "Created" }, timeEl(endpoint.created_at)),
      h("td", { "data-label": "Actions", class: "actions" }, menuButton({
        label: `Actions for ${endpoint.url}`,
        items: [
          { label: "Deliveries", onSelect: () => showDeliveries(endpoint, { focus: "heading" }) },
          { label: "Edit…", onSelect: () => endpointDialog(endpoint) },
          { label: "Send test event", onSelect: () => sendTest(endpoint) },
          { label: endpoint.enabled ? "Disable" : "Enable", onSelect: () => act(endpoint, () => ctx.api.patch(`/console/webhooks/${encodeURIComponent(endpoint.id)}`, { enabled: !endpoint.enabled }), `${endpoint.url} ${endpoint.enabled ? "disabled" : "enabled"}.`) },
          { label: "Rotate secret…", onSelect: () => rotateSecret(endpoint) },
          { label: "Delete…", onSelect: () => remove(endpoint), danger: true },
        ],
      })));
  }

  // Adds an endpoint, or (given one) changes its URL, description and event types: the
  // PATCH sends only what changed.
  function endpointDialog(endpoint = null) {
    openDialog({
      title: endpoint ? "Edit the webhook endpoint" : "Add a webhook endpoint",
      build: (dialog) => {
        const url = h("input", { id: "endpoint-url", type: "url", required: true, autocomplete: "off", placeholder: "https://example.com/loopwave/webhooks", maxlength: "100" });
        const description = h("input", { id: "endpoint-description", autocomplete: "off", maxlength: "100" });
        if (endpoint) { url.value = endpoint.url; description.value = endpoint.description || ""; }
        // Key events carry key metadata: offered only to people who may read keys.
        const readsKeys = ctx.can("org:api_keys:read");
        const types = (ctx.config.webhookEventTypes || []).filter((type) => readsKeys || !type.startsWith("key."));
        // What the picker starts from: an endpoint's own types (for someone who may not read
        // keys, "all events" shows as every type they may choose), or all for a new one.
        const initial = endpoint ? (readsKeys || !endpoint.events.includes("*") ? endpoint.events : types) : (readsKeys ? ["*"] : types);
        const picker = eventPicker(types, initial, readsKeys);
        const errorSlot = h("div");
        const submit = h("button", { type: "submit", class: "button button-primary" }, endpoint ? "Save endpoint" : "Add endpoint");
        const form = h("form", { class: "form", novalidate: true },
          h("div", { class: "field" }, h("label", { for: url.id }, "Endpoint URL"), url, h("p", { class: "hint" }, "HTTPS, reachable from the internet. Loopwave POSTs JSON events to it; test events reach it whatever it subscribes to.")),
          h("div", { class: "field" }, h("label", { for: description.id }, "Description (optional)"), description),
          picker.element, errorSlot,
          h("div", { class: "dialog-actions" }, h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Cancel"), submit));
        form.addEventListener("submit", async (event) => {
          event.preventDefault();
          const events = picker.value();
          if (!url.value.trim()) { errorSlot.replaceChildren(h("p", { class: "form-error", role: "alert" }, "Enter the URL of your endpoint.")); url.focus(); return; }
          if (!events.length) { errorSlot.replaceChildren(h("p", { class: "form-error", role: "alert" }, "Choose at least one event type, or all events.")); return; }
          submit.disabled = true;
          try {
            if (endpoint) {
              const changes = {};
              if (url.value.trim() !== endpoint.url) changes.url = url.value.trim();
              if (description.value.trim() !== (endpoint.description || "")) changes.description = description.value.trim();
              if ([...events].sort().join() !== [...initial].filter((type) => readsKeys || type === "*" || types.includes(type)).sort().join()) changes.events = events;
              if (Object.keys(changes).length) await ctx.api.patch(`/console/webhooks/${encodeURIComponent(endpoint.id)}`, changes);
              dialog.close();
              const note = toast(Object.keys(changes).length ? `${changes.url || endpoint.url} saved.` : "Nothing has changed.");
              await load(endpoint.id, note);
              return;
            }
            const created = await ctx.api.post("/console/webhooks", { url: url.value.trim(), description: description.value.trim(), events });
            dialog.close();
            showSecret(created, "Your endpoint's signing secret");
          } catch (error) {
            if (ctx.handle(error)) errorSlot.replaceChildren(formError(error));
          } finally {
            submit.disabled = false;
          }
        });
        return [form];
      },
    });
  }

  function showSecret(created, title) {
    const { secret, ...endpoint } = created;
    secretDialog({ key: secret, name: endpoint.url, last4: secret.slice(-4) }, title, () => load(endpoint.id),
      { noun: "signing secret", label: "Endpoint", lost: "rotate the secret to get a new one" });
  }

  async function rotateSecret(endpoint) {
    const ok = await confirmAction({
      title: "Rotate the signing secret?",
      message: [`Deliveries to ${endpoint.url} are signed with a new secret from now on; the old one stays valid for 24 hours so you can deploy the new one.`],
      confirmLabel: "Rotate secret", danger: false,
    });
    if (!ok) return;
    const rotated = await act(endpoint, () => ctx.api.post(`/console/webhooks/${encodeURIComponent(endpoint.id)}/rotate-secret`), null);
    if (rotated) showSecret(rotated, "Your new signing secret");
  }

  async function remove(endpoint) {
    const ok = await confirmAction({ title: "Delete this endpoint?", message: [`${endpoint.url} receives no more events. Its delivery log is deleted with it.`], confirmLabel: "Delete endpoint" });
    if (ok) {
      await act(endpoint, () => ctx.api.delete(`/console/webhooks/${encodeURIComponent(endpoint.id)}`), `${endpoint.url} deleted.`);
      if (deliveriesSlot.dataset.endpointId === endpoint.id) deliveriesSlot.hidden = true;
    }
  }

  async function sendTest(endpoint) {
    const sent = await act(endpoint, () => ctx.api.post(`/console/webhooks/${encodeURIComponent(endpoint.id)}/test`), `A webhook.test event is on its way to ${endpoint.url}.`);
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
      const { data } = await ctx.api.get(`/console/webhooks/${encodeURIComponent(endpoint.id)}/deliveries?limit=50`);
      replace(deliveriesSlot, h("div", { class: "toolbar" }, heading, refresh),
        data.length ? deliveriesTable(endpoint, data) : empty("No deliveries yet", "Send a test event to see one here."));
      if (focus === "refresh") refresh.focus();
      else if (focus) (deliveriesSlot.querySelector(`tr[data-delivery-id="${CSS.escape(focus)}"] button`) || heading).focus();
    } catch (error) {
      if (ctx.handle(error)) replace(deliveriesSlot, h("div", { class: "toolbar" }, heading, refresh), errorBox(error, () => showDeliveries(endpoint)));
    }
  }

  // Every attempt of a delivery tried more than once: when, the answer, how long it took.
  function attemptLog(delivery) {
    return h("details", { class: "attempt-log" },
      h("summary", { "aria-label": `${delivery.attempts} attempts: show each` }, String(delivery.attempts)),
      h("ol", { class: "attempts" }, delivery.attempt_log.map((attempt) => h("li", {},
        timeEl(attempt.started_at), " · ",
        attempt.status_code ? String(attempt.status_code) : (attempt.error || "no answer"), " · ",
        `${attempt.duration_ms} ms`,
        attempt.response_excerpt ? h("span", { class: "truncate", title: attempt.response_excerpt }, ` · ${attempt.response_excerpt}`) : null))));
  }

  function deliveriesTable(endpoint, deliveries) {
    return h("table", { class: "table deliveries-table", id: "deliveries-table" },
      h("caption", { class: "visually-hidden" }, `Deliveries to ${endpoint.url}`),
      h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Answer", "Duration", "When", ""].map((label) => h("th", { scope: "col" }, label || h("span", { class: "visually-hidden" }, "Retry"))))),
      h("tbody", {}, deliveries.map((delivery) => {
        const last = delivery.attempt_log[delivery.attempt_log.length - 1] || null;
        const answer = last ? (last.status_code ? `${last.status_code}` : last.error || "—") : "—";
        return h("tr", { "data-delivery-id": delivery.id, "data-status": delivery.status },
          h("td", { "data-label": "Event" }, h("code", { class: "break" }, delivery.event_id)),
          h("td", { "data-label": "Status" }, h("span", { class: `badge badge-${delivery.status === "succeeded" ? "active" : delivery.status === "pending" ? "rotating" : "revoked"}` }, delivery.status),
            delivery.next_attempt_at ? h("span", { class: "status-note" }, " next ", timeEl(delivery.next_attempt_at)) : null),
          h("td", { "data-label": "Attempts", class: "num" }, delivery.attempt_log.length > 1 ? attemptLog(delivery) : String(delivery.attempts)),
          h("td", { "data-label": "Answer" }, h("span", { class: "truncate", title: last && last.response_excerpt ? last.response_excerpt : answer }, answer, last && last.response_excerpt ? ` · ${last.response_excerpt}` : "")),
          h("td", { "data-label": "Duration", class: "num" }, last && last.duration_ms !== null && last.duration_ms !== undefined ? `${last.duration_ms} ms` : "—"),
          h("td", { "data-label": "When" }, timeEl(delivery.completed_at || delivery.created_at)),
          h("td", { "data-label": "Retry", class: "actions-inline" }, delivery.status !== "succeeded"
            ? h("button", { type: "button", class: "button button-small", "aria-label": `Retry delivery of ${delivery.event_id}`, onclick: async () => {
              try {
                await ctx.api.post(`/console/webhooks/${encodeURIComponent(endpoint.id)}/deliveries/${encodeURIComponent(delivery.id)}/retry`);
                toast(`Delivery of ${delivery.event_id} queued again.`);
              } catch (error) {
                // The failure toast keeps the focus; the list behind it is drawn again.
                if (ctx.handle(error)) toast(error.message, { error, title: `Delivery of ${delivery.event_id} was not retried` }).focus();
                showDeliveries(endpoint);
                return;
              }
              showDeliveries(endpoint, { focus: delivery.id });
            } }, "Retry") : null));
      })));
  }

  load();
}
