// The license banner, on every page: shown when the license is expired, revoked or close to
// expiry, saying what that blocks.

import { formatDate, h, icon, relativeTime, replace } from "./dom.js";

const SOON_DAYS = 14;
const WRITES = "sending messages, creating contacts and tickets, and broadcasts";

export function licenseMessage(license, now = new Date()) {
  const expiresAt = license.expires_at ? new Date(license.expires_at) : null;
  const enforced = license.enforcement !== "warn";
  if (!license.active) {
    const what = license.status === "revoked"
      ? "Your Loopwave license has been revoked."
      : `Your Loopwave license expired${expiresAt ? ` on ${formatDate(license.expires_at)}` : ""}.`;
    const effect = enforced
      ? `Tenant API writes — ${WRITES} — are refused with 402 LICENSE_INACTIVE. Reads and key management keep working.`
      : `Tenant API writes — ${WRITES} — still go through for now, flagged with an X-License-Warning header. Reads keep working.`;
    return { level: "danger", title: what, text: `${effect} Contact your account manager to renew.` };
  }
  if (expiresAt && expiresAt.getTime() - now.getTime() < SOON_DAYS * 86400000) {
    return {
      level: "warning",
      title: `Your Loopwave license expires ${relativeTime(expiresAt, now)} (${formatDate(license.expires_at)}).`,
      text: `After that, tenant API writes — ${WRITES} — ${enforced ? "will be refused" : "will carry a license warning"}. Renew to avoid an interruption.`,
    };
  }
  return null;
}

export async function showLicenseBanner(api) {
  const banner = document.getElementById("license-banner");
  let license;
  try {
    license = await api.get("/console/license");
  } catch (error) {
    banner.hidden = true; // the page itself reports errors; the banner is informational
    return;
  }
  const message = licenseMessage(license);
  if (!message) {
    banner.hidden = true;
    return;
  }
  banner.className = `banner banner-${message.level}`;
  banner.dataset.licenseStatus = license.status;
  replace(banner, icon("triangle-alert"), h("span", {}, h("strong", {}, message.title), " ", message.text));
  banner.hidden = false;
}
