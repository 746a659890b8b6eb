// Test or live mode (SPEC §9.1): which keys and usage the dashboard shows and which kind of key
// it creates. The choice is the browser's (localStorage); test mode is unmistakable on every
// page: an orange banner under the top bar, an orange top border and the switch itself.

const STORE = "lw.mode";

export function currentMode() {
  return localStorage.getItem(STORE) === "test" ? "test" : "live";
}

function apply(mode) {
  document.body.dataset.mode = mode;
  document.getElementById("mode-banner").hidden = mode !== "test";
  const button = document.getElementById("mode-switch");
  button.setAttribute("aria-pressed", mode === "test" ? "true" : "false");
}

// Shows the switch (signed in only) and wires it once; a change re-renders the page.
export function initModeSwitch(onChange) {
  const button = document.getElementById("mode-switch");
  button.hidden = false;
  apply(currentMode());
  if (button.dataset.wired) return;
  button.dataset.wired = "1";
  button.addEventListener("click", () => {
    localStorage.setItem(STORE, currentMode() === "test" ? "live" : "test");
    apply(currentMode());
    onChange();
    button.focus();
  });
}

export function hideModeSwitch() {
  document.getElementById("mode-switch").hidden = true;
  document.getElementById("mode-banner").hidden = true;
  delete document.body.dataset.mode;
}
