// What the webhooks list and an endpoint's page share: its state, the add/edit dialog, the
// shown-once secret, and the deliveries table with each attempt and Retry.

import { h, timeEl } from "./dom.js";
import { secretDialog } from "./key-dialogs.js";
import { confirmAction, formError, openDialog, toast } from "./ui.js";

export const endpointPage = (id) => `/dashboard/webhooks/${encodeURIComponent(id)}`;
export const endpointApi = (id) => `/console/webhooks/${encodeURIComponent(id)}`;

export function endpointState(endpoint) {
  if (endpoint.enabled) return endpoint.failing_since ? "failing" : "enabled";
  return "disabled";
}

// The state as a badge, with why it is failing or disabled underneath.
export function stateStack(endpoint) {
  const state = endpointState(endpoint);
  return h("div", { class: "status-stack" },
    h("span", { class: `badge badge-${state === "enabled" ? "active" : state === "failing" ? "disabled" : "revoked"}` }, state),
    endpoint.disabled_reason ? h("span", { class: "status-note" }, endpoint.disabled_reason) : null,
    endpoint.failing_since ? h("span", { class: "status-note" }, "failing since ", timeEl(endpoint.failing_since)) : null);
}

export function eventChips(endpoint) {
  return h("ul", { class: "chips" }, (endpoint.events.includes("*") ? ["All events"] : endpoint.events).map((type) => h("li", { class: "chip" }, type)));
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

// Adds an endpoint (`onCreated(created)`, the answer with its secret), or, given one, changes
// its URL, description and event types (`onSaved(changes)`): the PATCH sends only what changed.
export function endpointDialog(ctx, endpoint, { onCreated = () => {}, onSaved = () => {} } = {}) {
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
            if (Object.keys(changes).length) await ctx.api.patch(endpointApi(endpoint.id), changes);
            dialog.close();
            await onSaved(changes);
            return;
          }
          const created = await ctx.api.post("/console/webhooks", { url: url.value.trim(), description: description.value.trim(), events });
          dialog.close();
          onCreated(created);
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

// The signing secret, shown once (with the "Have you copied it?" check of a new key); the
// answer without it goes to `onDone`.
export function showSecret(created, title, onDone) {
  const { secret, ...endpoint } = created;
  secretDialog({ key: secret, name: endpoint.url, last4: secret.slice(-4) }, title, () => onDone(endpoint),
    { noun: "signing secret", label: "Endpoint", lost: "rotate the secret to get a new one" });
}

// Queues a delivery again; a toast says how it went. True when it was queued.
export async function retryDelivery(ctx, endpoint, delivery) {
  try {
    await ctx.api.post(`${endpointApi(endpoint.id)}/deliveries/${encodeURIComponent(delivery.id)}/retry`);
  } catch (error) {
    // The failure toast keeps the focus; the list behind it is drawn again.
    if (ctx.handle(error)) toast(error.message, { error, title: `Delivery of ${delivery.event_id} was not retried` }).focus();
    return false;
  }
  toast(`Delivery of ${delivery.event_id} queued again.`);
  return true;
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

// One delivery: event, status, attempts, the last answer, its duration, when, and Retry
// (`onRetry(delivery)`) while it has not succeeded.
export function deliveryRow(delivery, onRetry) {
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
      ? h("button", { type: "button", class: "button button-small", "aria-label": `Retry delivery of ${delivery.event_id}`, onclick: () => onRetry(delivery) }, "Retry")
      : null));
}

export function deliveriesTable(endpoint, deliveries, onRetry) {
  return h("table", { class: "table deliveries-table", id: "deliveries-table" },
    h("caption", { class: "visually-hidden" }, `Deliveries to ${endpoint.url}`),
    h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Answer", "Duration", "When", ""].map((label) => h("th", { scope: "col" }, label || h("span", { class: "visually-hidden" }, "Retry"))))),
    h("tbody", {}, deliveries.map((delivery) => deliveryRow(delivery, onRetry))));
}

// Asks before a signing secret is rotated (the list's row menu and the endpoint's page).
export function confirmRotation(endpoint) {
  return confirmAction({
    title: "Rotate the signing secret?",
    message: [`Deliveries to ${endpoint.url} are signed with a new secret from now on; the old one stays valid for 24 hours so you can deploy the new one.`],
    confirmLabel: "Rotate secret", danger: false,
  });
}
