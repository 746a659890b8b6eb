"""The API keys page in headless Chromium; every change is checked on the tenant API."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_admin_signs_in_with_the_development_sign_in(dashboard, org_id):
    dashboard.open("/")
    expect(dashboard.page.locator("#dev-banner")).to_be_visible()
    expect(dashboard.page.locator("#dev-banner")).to_contain_text("Development sign-in")
    dashboard.sign_in(org_id)
    expect(dashboard.page.get_by_role("navigation")).to_contain_text("API keys")
    expect(dashboard.page.get_by_text("No API keys yet")).to_be_visible()
    expect(dashboard.page.locator("#identity-user")).to_have_text("user_alice")


def test_new_key_is_shown_once_works_and_never_stays_in_the_page(dashboard, org_id):
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("Production server", scopes=["contacts:read"])
    assert secret.startswith("lw_live_")

    health = dashboard.health(secret)
    assert health.status_code == 200
    assert health.json()["key"] == {
        "id": health.json()["key"]["id"],
        "name": "Production server",
        "scopes": ["contacts:read"],
        "mode": "live",
    }
    row = dashboard.row("Production server")
    expect(row).to_contain_text(f"{secret[:12]}…{secret[-4:]}")
    expect(row.locator(".badge")).to_have_text("active")
    assert secret not in dashboard.page.content()
    dashboard.page.reload()
    expect(dashboard.row("Production server")).to_be_visible()
    assert secret not in dashboard.page.content()


def test_rename_disable_and_rescope_take_effect_on_the_tenant_api(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("ci runner")

    dashboard.action("ci runner", "Rename")
    rename = page.get_by_label("New name for ci runner")
    rename.fill("build server")
    rename.press("Enter")
    expect(dashboard.row("build server")).to_be_visible()
    assert dashboard.health(secret).json()["key"]["name"] == "build server"

    dashboard.action("build server", "Edit scopes")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("All scopes").uncheck()
    dialog.get_by_label("contacts:read", exact=True).check()
    dialog.get_by_role("button", name="Save scopes").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(dashboard.row("build server").locator(".chip")).to_have_text(["contacts:read"])
    assert dashboard.health(secret).json()["key"]["scopes"] == ["contacts:read"]

    dashboard.row("build server").get_by_label("Enabled: build server").click()
    expect(page.get_by_role("dialog")).to_contain_text("build server")
    dashboard.confirm("Disable “build server”")
    expect(dashboard.row("build server").locator(".badge")).to_have_text("disabled")
    assert dashboard.health(secret).status_code == 401

    dashboard.row("build server").get_by_label("Enabled: build server").click()
    expect(dashboard.row("build server").locator(".badge")).to_have_text("active")
    assert dashboard.health(secret).status_code == 200


def test_rotate_with_grace_keeps_the_old_key_working_for_a_while(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    old = dashboard.create_key("webhook relay")

    dashboard.action("webhook relay", "Rotate…")
    dialog = page.get_by_role("dialog", name="Rotate “webhook relay”?")
    dialog.get_by_label("In 1 hour").check()
    dialog.get_by_role("button", name="Rotate “webhook relay”").click()
    new = dashboard.read_and_close_secret()

    assert new != old
    assert dashboard.health(new).json()["key"]["name"] == "webhook relay"
    assert dashboard.health(old).status_code == 200  # inside the grace period
    expect(page.locator("#keys-table tbody tr")).to_have_count(2)
    assert old not in page.content() and new not in page.content()


def test_rotate_immediately_and_revoke_stop_the_key(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    old = dashboard.create_key("nightly export")

    dashboard.action("nightly export", "Rotate…")
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Immediately").check()
    dialog.get_by_role("button", name="Rotate “nightly export”").click()
    new = dashboard.read_and_close_secret()
    assert dashboard.health(old).status_code == 401
    assert dashboard.health(new).status_code == 200

    active = page.locator("#keys-table tbody tr[data-status=active]")
    active.get_by_role("button", name="Actions for nightly export").click()
    active.get_by_role("menuitem", name="Revoke…").click()
    confirm = page.get_by_role("dialog", name="Revoke “nightly export”?")
    expect(confirm).to_contain_text("cannot be enabled again")
    dashboard.confirm("Revoke “nightly export”")
    expect(page.locator("#keys-table tbody tr[data-status=revoked]")).to_have_count(2)
    assert dashboard.health(new).status_code == 401


def test_cancelled_revoke_changes_nothing(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("keep me")
    dashboard.action("keep me", "Revoke…")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(dashboard.row("keep me").locator(".badge")).to_have_text("active")
    assert dashboard.health(secret).status_code == 200
