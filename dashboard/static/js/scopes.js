// The scope picker used by the create and edit-scopes dialogs.

import { h } from "./dom.js";

const HIGH_RISK = "broadcasts:write";

export function scopeLabel(scopes) {
  return scopes.includes("*") ? ["All scopes"] : scopes;
}

// A fieldset with "All scopes" (the default) and one checkbox per scope.
// Returns { element, value() } where value() is ["*"], a list of scopes, or [] (nothing chosen).
export function scopePicker(allScopes, selected = ["*"]) {
  const all = selected.includes("*");
  const allBox = h("input", { type: "checkbox", name: "all-scopes", id: uid("all"), checked: all });
  const boxes = allScopes.map((scope) =>
    h("input", { type: "checkbox", name: "scope", value: scope, id: uid(scope), checked: all || selected.includes(scope), disabled: all }),
  );
  // "All scopes" shows every box ticked and locked; leaving it starts from none, so a
  // restricted key holds only what the admin picks.
  allBox.addEventListener("change", () => {
    for (const box of boxes) {
      box.disabled = allBox.checked;
      box.checked = allBox.checked;
    }
  });
  const element = h(
    "fieldset",
    { class: "scopes" },
    h("legend", {}, "Scopes"),
    h("div", { class: "check" }, allBox, h("label", { for: allBox.id }, h("strong", {}, "All scopes"), " — current and future endpoints")),
    h(
      "div",
      { class: "scope-grid" },
      boxes.map((box) =>
        h("div", { class: box.value === HIGH_RISK ? "check check-risk" : "check" }, box, h("label", { for: box.id }, h("code", {}, box.value))),
      ),
    ),
    h(
      "p",
      { class: "hint hint-risk" },
      h("code", {}, HIGH_RISK),
      " carries the highest risk: a key with it can message every contact at once. Grant it only to the server that sends broadcasts.",
    ),
  );
  return {
    element,
    value: () => (allBox.checked ? ["*"] : boxes.filter((box) => box.checked).map((box) => box.value)),
  };
}

let counter = 0;
function uid(name) {
  counter += 1;
  return `scope-${name.replace(/[^a-z]/gi, "-")}-${counter}`;
}
