"""Members, the license banner, the other pages, narrow screens and the saved screenshots."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from console.devlogin import DEV_ISSUER
from tenants import clock
from tests.servers import ROOT

pytestmark = pytest.mark.browser
# The pictures of the README and docs/console.md are rewritten only on request
# (REFRESH_SCREENSHOTS=1), so that a test run leaves the work tree clean; otherwise the same
# shots go to test-artifacts/.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("REFRESH_SCREENSHOTS") == "1"
    else ROOT / "test-artifacts" / "readme-screenshots"
)


def tenant_of(store, org_id):
    return store.tenant_for_organization(DEV_ISSUER, org_id)


def test_member_sees_no_admin_controls(dashboard, org_id, store):
    page = dashboard.page
    dashboard.sign_in(org_id)  # an admin creates the tenant and a key first
    dashboard.create_key("shared key")
    dashboard.sign_out()

    dashboard.sign_in(org_id, role="member", user_id="user_bob")
    # A member never lands on the admin-only keys page: the dashboard opens on usage.
    expect(page).to_have_url(re.compile(r"/dashboard/usage$"))
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    expect(page.get_by_role("link", name="Usage", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="API keys")).to_be_hidden()
    expect(page.get_by_role("link", name="Audit log")).to_be_hidden()
    expect(page.get_by_role("button", name="Create key")).to_have_count(0)
    expect(page.locator("#keys-table")).to_have_count(0)

    dashboard.open("/dashboard/usage")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    expect(page.locator("#identity-role")).to_have_text("Member")
    expect(page.locator(".state-empty, #usage-table")).to_be_visible()
    expect(page.locator("[role=switch], .menu-button, #create-key")).to_have_count(0)


def test_license_banner_says_what_an_expired_license_blocks(dashboard, org_id, store):
    dashboard.sign_in(org_id)
    tenant = tenant_of(store, org_id)
    store.set_license(tenant.id, "expired", expires_at=clock.now() - timedelta(days=2))

    dashboard.open("/dashboard/usage")
    banner = dashboard.page.locator("#license-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("license expired")
    expect(banner).to_contain_text("refused with 402 LICENSE_INACTIVE")
    expect(banner).to_contain_text("sending messages")


def test_license_close_to_expiry_warns_and_active_license_shows_nothing(dashboard, org_id, store):
    dashboard.sign_in(org_id)
    expect(dashboard.page.locator("#license-banner")).to_be_hidden()
    tenant = tenant_of(store, org_id)
    store.set_license(tenant.id, "active", expires_at=clock.now() + timedelta(days=3))
    dashboard.open("/dashboard/keys")
    expect(dashboard.page.locator("#license-banner")).to_contain_text("expires in 3 days")


def test_audit_log_and_usage_chart_show_the_tenants_activity(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("reporting")
    for _ in range(3):
        assert dashboard.health(secret).status_code == 200
    dashboard.wait_for_usage(secret, 3)

    page.get_by_role("link", name="Audit log").click()
    table = page.locator("#audit-table")
    expect(table).to_contain_text("Created")
    expect(table).to_contain_text("user_alice")
    expect(table).to_contain_text("reporting")
    expect(table.locator("code", has_text="req_").first).to_be_visible()

    page.get_by_role("link", name="Usage", exact=True).click()
    expect(page.locator(".chart-plot .bar-segment")).to_have_count(1)
    expect(page.locator("#usage-table")).to_contain_text("reporting")


def test_api_error_shows_the_request_id(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    page.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog")
    name = dialog.get_by_label("Name")
    name.evaluate("el => el.removeAttribute('maxlength')")
    name.fill("x" * 300)  # the API refuses names over 100 characters
    dialog.get_by_role("button", name="Create key").click()
    error = dialog.get_by_role("alert")
    expect(error).to_contain_text("at most 100 characters")
    expect(error.locator(".request-id")).to_have_text(re.compile(r"^req_[0-9a-f]+$"))
    page.keyboard.press("Escape")
    expect(page.get_by_text("No API keys yet")).to_be_visible()


def test_an_expired_session_token_signs_in_again_without_an_error(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    page.evaluate(
        """() => {
          const stored = JSON.parse(sessionStorage.getItem("lw.dev.token"));
          stored.token = stored.token.slice(0, -4) + "AAAA";  // a token the API refuses (401)
          sessionStorage.setItem("lw.dev.token", JSON.stringify(stored));
        }"""
    )
    page.reload()
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    expect(page.locator(".state-error")).to_have_count(0)


def test_keys_page_works_at_360_pixels(dashboard, org_id):
    page = dashboard.page
    page.set_viewport_size({"width": 360, "height": 740})
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("phone test")
    row = dashboard.row("phone test")
    expect(row).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"
    dashboard.action("phone test", "Revoke…")
    dashboard.confirm("Revoke “phone test”")
    expect(dashboard.row("phone test").locator(".badge")).to_have_text("revoked")
    assert dashboard.health(secret).status_code == 401


def test_saves_screenshots_of_the_key_list_and_the_create_dialog(dashboard, org_id):
    """The pictures the README shows: docs/screenshots/ with REFRESH_SCREENSHOTS=1."""
    page = dashboard.page
    dashboard.sign_in(org_id, user_id="user_ada", org_slug="acme")
    dashboard.create_key("Production server", scopes=["messages:write", "contacts:read"])
    dashboard.create_key("Support desk", scopes=["tickets:read", "tickets:write"])
    dashboard.create_key("Broadcast worker")
    dashboard.action("Support desk", "Rename")
    page.get_by_label("New name for Support desk").press("Escape")
    dashboard.row("Support desk").get_by_label("Enabled: Support desk").click()
    dashboard.confirm("Disable “Support desk”")
    expect(dashboard.row("Support desk").locator(".badge")).to_have_text("disabled")

    page.locator("#toasts").evaluate("el => el.replaceChildren()")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "keys.png"))
    dialog = dashboard.open_create_dialog("Billing sync", scopes=["contacts:read"])
    expect(dialog).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "create-key.png"))
    assert (SCREENSHOTS / "keys.png").stat().st_size > 10_000
    assert (SCREENSHOTS / "create-key.png").stat().st_size > 10_000
