// The organization's settings (/dashboard/settings): what a confirmed leak of a key does,
// `leak_response` of GET/PATCH /console/settings. Reading it needs org:api_keys:read (the page's
// permission), changing it org:api_keys:manage, as the API requires (SPEC §9.3): without it
// the choice is shown, with both explanations, and no control.

import { h, replace } from "./dom.js";
import { errorBox, formError, loading, toast } from "./ui.js";

const MANAGE = "org:api_keys:manage";

export const LEAK_RESPONSES = [
  {
    value: "revoke",
    title: "Revoke the key",
    tag: "Recommended",
    text: "The key stops working at once: every request made with it is refused with 401 AUTH_INVALID_KEY. "
      + "You get a key.leaked event (and its webhooks) and an alert on every page of this dashboard. "
      + "Create a new key and deploy it where the old one was used.",
  },
  {
    value: "notify",
    title: "Notify only",
    tag: null,
    text: "The key keeps working until you act. You get the same key.leaked event, webhooks and alert, "
      + "and choose yourself when to rotate or revoke the key — but until then anyone who found it can use it.",
  },
];

const DONE = {
  revoke: "Leaked keys are now revoked as soon as they are reported.",
  notify: "Leaked keys now keep working; you are notified and decide.",
};

export function renderSettings(ctx) {
  const { container } = ctx;
  const canManage = ctx.can(MANAGE);

  async function load(focusId = null) {
    if (!container.querySelector(".settings")) replace(container, loading("Loading settings…"));
    let settings;
    try {
      settings = await ctx.api.get("/console/settings");
    } catch (error) {
      if (ctx.handle(error)) replace(container, errorBox(error, () => load()));
      return;
    }
    replace(container, h("div", { class: "settings" }, leakSection(settings)));
    if (focusId) { const el = document.getElementById(focusId); if (el) el.focus(); }
  }

  function leakSection(settings) {
    const intro = h("p", { class: "muted", id: "leak-intro" },
      "When a secret scanner (GitHub secret scanning) finds one of this organization's keys — live or test — in public code, "
      + "Loopwave confirms the report and then does what you choose here. Every change of this setting is in the audit log.");
    return h("section", { class: "detail-section", "aria-labelledby": "leak-heading" },
      h("h2", { id: "leak-heading", tabindex: "-1" }, "Leaked API keys"),
      intro,
      canManage ? leakForm(settings) : leakReadOnly(settings));
  }

  function leakReadOnly(settings) {
    return h("div", { class: "settings-card card" },
      h("ul", { class: "choices", "aria-label": "When a key is reported leaked", id: "leak-response" }, LEAK_RESPONSES.map((choice) => {
        const current = choice.value === settings.leak_response;
        return h("li", { class: current ? "choice choice-current" : "choice", "aria-current": current ? "true" : null, dataset: { value: choice.value } },
          h("span", { class: "choice-title" }, choice.title,
            current ? h("span", { class: "badge badge-active" }, "current setting") : null),
          h("span", { class: "choice-text" }, choice.text));
      })),
      h("p", { class: "muted read-only-note", id: "settings-read-only" }, "You can view this setting; an admin or a member with the “Manage API keys” permission can change it."));
  }

  function leakForm(settings) {
    const radios = LEAK_RESPONSES.map((choice) => h("input", {
      type: "radio", name: "leak_response", value: choice.value, id: `leak-${choice.value}`,
      checked: choice.value === settings.leak_response, "aria-describedby": `leak-${choice.value}-text`,
    }));
    const note = h("div", { class: "form-note" });
    const save = h("button", { type: "submit", class: "button button-primary", id: "save-settings" }, "Save");
    const form = h("form", { class: "form settings-card card", id: "leak-form", novalidate: true },
      h("fieldset", { class: "choices" },
        h("legend", {}, "When a key is reported leaked"),
        LEAK_RESPONSES.map((choice, index) => h("div", { class: "choice" },
          radios[index],
          h("label", { for: radios[index].id, class: "choice-title" }, choice.title, choice.tag ? h("span", { class: "badge badge-active" }, choice.tag.toLowerCase()) : null),
          h("p", { class: "choice-text", id: `leak-${choice.value}-text` }, choice.text)))),
      note,
      h("div", { class: "form-actions" }, save));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = radios.find((radio) => radio.checked);
      note.replaceChildren();
      if (!chosen || chosen.value === settings.leak_response) {
        note.replaceChildren(h("p", { class: "muted", role: "status" }, "Nothing has changed."));
        return;
      }
      save.disabled = true;
      try {
        await ctx.api.patch("/console/settings", { leak_response: chosen.value });
      } catch (error) {
        save.disabled = false;
        if (ctx.handle(error)) note.replaceChildren(formError(error));
        return;
      }
      toast(DONE[chosen.value]);
      await load("save-settings");
    });
    return form;
  }

  load();
}
