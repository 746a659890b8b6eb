// Session tokens for the console API. Two sources:
//  - development sign-in (DEV_LOGIN): the chosen identity lives in sessionStorage and a fresh
//    token is minted from /dev-login/token before the current one expires;
//  - Clerk (CONSOLE_CLERK_PUBLISHABLE_KEY): Clerk's browser library keeps the session and
//    Clerk.session.getToken() returns a current token (Clerk refreshes it itself).

const IDENTITY = "lw.dev.identity";
const TOKEN = "lw.dev.token";
const REFRESH_MARGIN_SECONDS = 60;

export class SignInRequired extends Error {}

export function createAuth(config) {
  if (config.clerkPublishableKey && !config.clerkProblem) return clerkAuth();
  if (config.devLogin) return devAuth(config.devLoginTokenUrl);
  return {
    mode: "none",
    problem: config.clerkProblem,
    async start() { return false; },
    async token() { throw new SignInRequired("No sign-in method is configured."); },
    signOut() {},
  };
}

function devAuth(tokenUrl) {
  let timer = null;

  const identity = () => JSON.parse(sessionStorage.getItem(IDENTITY) || "null");
  const stored = () => JSON.parse(sessionStorage.getItem(TOKEN) || "null");

  async function mint() {
    const chosen = identity();
    if (!chosen) throw new SignInRequired("Sign in to continue.");
    const response = await fetch(tokenUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(chosen),
      credentials: "same-origin",
    });
    if (!response.ok) {
      sessionStorage.removeItem(TOKEN);
      const refusal = await response.json().catch(() => null);
      const fields = (refusal && refusal.error && refusal.error.details && refusal.error.details.fields) || [];
      const detail = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
      throw new SignInRequired(`The development sign-in refused this identity${detail ? ` (${detail})` : ""}.`);
    }
    const minted = await response.json();
    sessionStorage.setItem(TOKEN, JSON.stringify(minted));
    schedule(minted.expires_at);
    return minted.token;
  }

  function schedule(expiresAt) {
    clearTimeout(timer);
    const delay = (expiresAt - REFRESH_MARGIN_SECONDS) * 1000 - Date.now();
    timer = setTimeout(() => mint().catch(() => {}), Math.max(delay, 1000));
  }

  return {
    mode: "dev",
    identity,
    async start() {
      const current = stored();
      if (current && identity()) schedule(current.expires_at);
      return Boolean(identity());
    },
    async signIn(chosen) {
      sessionStorage.setItem(IDENTITY, JSON.stringify(chosen));
      sessionStorage.removeItem(TOKEN);
      await mint();
    },
    async token({ fresh = false } = {}) {
      const current = stored();
      const nowSeconds = Date.now() / 1000;
      if (!fresh && current && current.expires_at - REFRESH_MARGIN_SECONDS > nowSeconds) {
        return current.token;
      }
      return mint();
    },
    signOut() {
      clearTimeout(timer);
      sessionStorage.removeItem(IDENTITY);
      sessionStorage.removeItem(TOKEN);
    },
  };
}

function clerkAuth() {
  async function loaded() {
    for (let waited = 0; !window.Clerk && waited < 10000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!window.Clerk) throw new Error("Clerk's sign-in library could not be loaded.");
    await window.Clerk.load();
    return window.Clerk;
  }

  return {
    mode: "clerk",
    async start() {
      const clerk = await loaded();
      clerk.addListener(({ session }) => {
        if (!session) window.location.reload();
      });
      return Boolean(clerk.session && clerk.organization);
    },
    mountSignIn(container) {
      const clerk = window.Clerk;
      if (!clerk.user) clerk.mountSignIn(container);
      else clerk.mountOrganizationList(container, { hidePersonal: true, afterSelectOrganizationUrl: window.location.href });
    },
    async token({ fresh = false } = {}) {
      const clerk = window.Clerk;
      if (!clerk || !clerk.session) throw new SignInRequired("Sign in to continue.");
      const token = await clerk.session.getToken(fresh ? { skipCache: true } : undefined);
      if (!token) throw new SignInRequired("Sign in to continue.");
      return token;
    },
    signOut() {
      return window.Clerk && window.Clerk.signOut();
    },
  };
}
