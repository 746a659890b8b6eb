// The dashboard shell: sign-in, identity, navigation by role, the license banner, the page.

import { createApi } from "./api.js";
import { renderAudit } from "./audit.js";
import { SignInRequired, createAuth } from "./auth.js";
import { h, replace } from "./dom.js";
import { renderKeys } from "./keys.js";
import { renderKeyDetail } from "./key-detail.js";
import { showLicenseBanner } from "./license.js";
import { showAlerts } from "./alerts.js";
import { renderUsage } from "./usage.js";
import { renderEvents } from "./events.js";
import { renderWebhooks } from "./webhooks.js";
import { renderWebhookDetail } from "./webhook-detail.js";
import { renderSettings } from "./settings.js";
import { errorBox, loading, pageActions, wireMenu } from "./ui.js";
import { currentMode, hideModeSwitch, initModeSwitch } from "./mode.js";

const PAGES = { keys: renderKeys, key: renderKeyDetail, "audit-log": renderAudit, usage: renderUsage, webhooks: renderWebhooks, events: renderEvents, webhook: renderWebhookDetail, settings: renderSettings };
const LAST_IDENTITY = "lw.dev.last";
let rerender = () => {};

const config = JSON.parse(document.getElementById("lw-config").textContent);
const auth = createAuth(config);
const api = createApi(auth);
const page = document.getElementById("page");
const title = document.getElementById("page-title");
const pageTitle = title.textContent;

function roleOf(me) {
  return String(me.role || "").replace(/^org:/, "");
}

function setChrome(me) {
  const signedIn = Boolean(me);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("identity").hidden = !signedIn;
  const breadcrumb = document.getElementById("breadcrumb");
  if (breadcrumb) breadcrumb.hidden = !signedIn;
  if (!signedIn) {
    hideModeSwitch();
    document.getElementById("alerts").hidden = true;
    document.getElementById("license-banner").hidden = true;
    return;
  }
  const admin = roleOf(me) === "admin";
  document.body.dataset.role = admin ? "admin" : "member";
  const held = me.permissions || [];
  for (const item of document.querySelectorAll("[data-permission]")) item.hidden = !held.includes(item.dataset.permission);
  // On a phone the tabs scroll sideways: bring the current one into view, clear of the fade
  // at the edge (the last tabs, such as Settings, would sit under it).
  const current = document.querySelector("#nav [aria-current=page]");
  if (current) current.scrollIntoView({ block: "nearest", inline: "center" });
  const org = (me.tenant && (me.tenant.name || me.tenant.external_id)) || "";
  for (const id of ["identity-org", "account-org"]) document.getElementById(id).textContent = org;
  for (const id of ["identity-user", "account-user"]) document.getElementById(id).textContent = me.user_id || "";
  document.getElementById("identity-avatar").textContent = (org.replace(/^org_/, "").match(/[a-z0-9]/i) || ["?"])[0].toUpperCase();
  document.getElementById("account-button").setAttribute("aria-label", `Account: ${me.user_id || ""}, ${org} (${admin ? "Admin" : "Member"})`);
  document.getElementById("identity-role").textContent = admin ? "Admin" : "Member";
}

async function showSession() {
  title.textContent = pageTitle;
  delete document.body.dataset.view;
  pageActions();
  replace(page, loading("Loading…"));
  let me;
  try {
    me = await api.get("/console/me");
  } catch (error) {
    if (error instanceof SignInRequired) return showSignIn(error.message);
    setChrome(null);
    return replace(page, errorBox(error, showSession));
  }
  setChrome(me);
  showLicenseBanner(api);
  const admin = roleOf(me) === "admin";
  if (config.permission && !(me.permissions || []).includes(config.permission)) {
    // Nobody lands on a page their permissions do not open: they go to the first one they
    // may see (usage is everyone's).
    const first = [...document.querySelectorAll("#nav li[data-permission]:not([hidden]) a")][0];
    window.location.replace(first ? first.getAttribute("href") : "/dashboard/usage");
    return undefined;
  }
  const context = {
    api, me, config, isAdmin: admin, container: page,
    // "live" or "test" at the time of the call: the switch re-renders the page.
    get mode() { return currentMode(); },
    // The console permissions of /console/me (SPEC §9.3): what the page may offer.
    can: (permission) => (me.permissions || []).includes(permission),
    // A page hands its errors here: sign-in problems go to the sign-in form (returns null),
    // anything else is the page's to show (returns the error).
    handle: (error) => {
      if (error instanceof SignInRequired) { showSignIn(error.message); return null; }
      return error;
    },
  };
  showAlerts(context);
  rerender = () => PAGES[config.page](context);
  initModeSwitch(() => rerender());
  PAGES[config.page](context);
}

function slugOf(orgId) {
  return orgId.replace(/^org_/, "").toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64) || "org";
}

function field(id, label, attrs, hint) {
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name: id, ...attrs }), hint ? h("p", { class: "hint" }, hint) : null);
}

function devSignInForm(message) {
  const last = JSON.parse(sessionStorage.getItem(LAST_IDENTITY) || "null") || { user_id: "user_dev_admin", org_id: "org_dev", org_slug: "", role: "admin" };
  const errorSlot = h("div");
  const role = h("select", { id: "dev-role", name: "role" }, h("option", { value: "admin" }, "Admin — manages API keys"), h("option", { value: "member" }, "Member — sees usage and license"));
  role.value = last.role;
  const PERMISSIONS = [["org:api_keys:read", "Read API keys, audit log and events"], ["org:api_keys:manage", "Manage API keys"], ["org:webhooks:manage", "Manage webhooks"]];
  const granted = new Set(last.permissions || []);
  const permissionBoxes = PERMISSIONS.map(([value, label]) => {
    const id = `dev-perm-${value.replace(/:/g, "-")}`;
    return h("div", { class: "check" }, h("input", { type: "checkbox", id, name: "permissions", value, checked: granted.has(value) }), h("label", { for: id }, label, " ", h("code", {}, value)));
  });
  const permissions = h("fieldset", { id: "dev-permissions" }, h("legend", {}, "Member permissions"), h("p", { class: "hint" }, "What a member's token grants (Clerk organization permissions). Admins hold all."), permissionBoxes);
  const syncPermissions = () => { permissions.hidden = role.value === "admin"; };
  role.addEventListener("change", syncPermissions);
  syncPermissions();
  const form = h(
    "form",
    { class: "form sign-in", id: "dev-sign-in" },
    message ? h("p", { class: "form-error", role: "alert" }, message) : null,
    h("p", { class: "muted sign-in-intro" }, "Choose who you are. The development sign-in mints a short-lived session token for this identity, verified like any identity provider's."),
    field("dev-user", "User id", { value: last.user_id, required: true, autocomplete: "off", pattern: "user_[A-Za-z0-9_\\-]{1,64}" }, "Starts with user_."),
    field("dev-org", "Organization id", { value: last.org_id, required: true, autocomplete: "off", pattern: "org_[A-Za-z0-9_\\-]{1,64}" }, "Starts with org_. The organization is your tenant; a new id creates a new tenant."),
    field("dev-slug", "Organization slug", { value: last.org_slug, autocomplete: "off", placeholder: "derived from the id when empty" }),
    h("div", { class: "field" }, h("label", { for: role.id }, "Role"), role),
    permissions,
    errorSlot,
    h("button", { type: "submit", class: "button button-primary button-block" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const orgId = form.querySelector("#dev-org").value.trim();
    const chosen = {
      user_id: form.querySelector("#dev-user").value.trim(),
      org_id: orgId,
      org_slug: form.querySelector("#dev-slug").value.trim() || slugOf(orgId),
      role: role.value,
      permissions: role.value === "admin" ? [] : [...form.querySelectorAll("input[name=permissions]:checked")].map((box) => box.value),
    };
    try {
      await auth.signIn(chosen);
    } catch (error) {
      replace(errorSlot, h("p", { class: "form-error", role: "alert" }, error.message));
      return;
    }
    sessionStorage.setItem(LAST_IDENTITY, JSON.stringify(chosen));
    showSession();
  });
  return form;
}

function showSignIn(message) {
  setChrome(null);
  for (const dialog of document.querySelectorAll("dialog")) dialog.close();
  title.textContent = "Sign in";
  pageActions();
  // The sign-in is a card centred on the page, like Clerk's (dashboard.css, "sign-in").
  document.body.dataset.view = "sign-in";
  if (auth.mode === "dev") {
    auth.signOut();
    replace(page, devSignInForm(message));
    page.querySelector("input").focus();
  } else if (auth.mode === "clerk") {
    const mount = h("div", { id: "clerk-sign-in" });
    replace(page, message ? h("p", { class: "muted" }, message) : null, mount);
    auth.mountSignIn(mount);
  } else {
    replace(page, h("div", { class: "state state-error", role: "alert" },
      h("p", { class: "state-title" }, auth.problem || "No sign-in method is configured."),
      h("p", {}, "Set CONSOLE_CLERK_PUBLISHABLE_KEY to sign in with Clerk, or DEV_LOGIN=1 for the development sign-in.")));
  }
}

async function boot() {
  document.getElementById("dev-banner").hidden = auth.mode !== "dev";
  const accountMenu = document.getElementById("account-menu");
  const accountItems = [...accountMenu.querySelectorAll("[role=menuitem]")];
  wireMenu({
    wrapper: document.getElementById("account"),
    button: document.getElementById("account-button"),
    list: accountMenu,
    entries: accountItems,
    onSelect: async (index) => {
      if (accountItems[index].id !== "sign-out") return;
      await auth.signOut();
      showSignIn();
    },
  });
  window.addEventListener("lw:sign-in-required", (event) => showSignIn(event.detail));
  let signedIn = false;
  try {
    signedIn = await auth.start();
  } catch (error) {
    return replace(page, errorBox(error));
  }
  if (signedIn) showSession();
  else showSignIn();
}

boot();
