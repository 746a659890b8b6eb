"""Controls exactly per the person's permissions (/console/me, SPEC §9.3): a member with
org:api_keys:read sees keys read-only, org:webhooks:manage sees webhooks, and so on."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
READ = "org:api_keys:read"
MANAGE = "org:api_keys:manage"
WEBHOOKS = "org:webhooks:manage"


def nav(page, name):
    return page.get_by_role("navigation").get_by_role("link", name=name, exact=True)


def test_key_readers_see_keys_read_only_and_no_webhooks(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("shared key", scopes=["contacts:read", "tickets:read"])
    assert dashboard.health(secret).status_code == 200
    dashboard.sign_out()

    dashboard.sign_in(org_id, role="member", user_id="user_bob", permissions=(READ,))
    expect(page).to_have_url(re.compile(r"/dashboard/keys$"))
    expect(dashboard.row("shared key")).to_be_visible()
    expect(dashboard.row("shared key").locator(".badge")).to_have_text("active")
    expect(page.get_by_text("You can view these keys")).to_be_visible()
    expect(page.locator("#create-key, [role=switch], .menu-button")).to_have_count(0)
    for name in ("API keys", "Audit log", "Usage", "Events"):
        expect(nav(page, name)).to_be_visible()
    expect(nav(page, "Webhooks")).to_be_hidden()

    dashboard.row("shared key").get_by_role("link", name="shared key").click()
    expect(page.locator("#scope-report")).to_be_visible()
    expect(page.locator("#last-used")).to_contain_text("127.0.0.1")
    expect(page.locator("#edit-key, #narrow-scopes")).to_have_count(0)

    dashboard.open("/dashboard/webhooks")  # not theirs: sent to the first page they may see
    expect(page).to_have_url(re.compile(r"/dashboard/keys$"))
    dashboard.open("/dashboard/audit-log")
    expect(page.locator("#audit-table")).to_contain_text("shared key")


def test_webhook_managers_see_webhooks_and_not_keys(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id, role="member", user_id="user_carol", permissions=(WEBHOOKS,))
    expect(page).to_have_url(re.compile(r"/dashboard/webhooks$"))
    expect(page.get_by_role("button", name="Add endpoint")).to_be_visible()
    expect(nav(page, "Webhooks")).to_be_visible()
    expect(nav(page, "Usage")).to_be_visible()
    for name in ("API keys", "Audit log", "Events"):
        expect(nav(page, name)).to_be_hidden()
    dashboard.open("/dashboard/keys")
    expect(page).to_have_url(re.compile(r"/dashboard/webhooks$"))


def test_key_managers_get_every_key_control(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id, role="member", user_id="user_dan", permissions=(MANAGE,))
    expect(page).to_have_url(re.compile(r"/dashboard/keys$"))
    secret = dashboard.create_key("deploy bot")
    expect(dashboard.menu_button("deploy bot")).to_be_visible()
    dashboard.action("deploy bot", "Revoke…")
    dashboard.confirm("Revoke “deploy bot”")
    expect(dashboard.row("deploy bot").locator(".badge")).to_have_text("revoked")
    assert dashboard.health(secret).status_code == 401
    expect(nav(page, "Webhooks")).to_be_hidden()


def test_a_webhook_managers_new_endpoint_defaults_to_the_events_they_may_receive(dashboard, org_id):
    """Key events need org:api_keys:read (a 403 otherwise): the dialog neither offers nor
    preselects them, so adding an endpoint with the defaults just works."""
    page = dashboard.page
    dashboard.sign_in(org_id, role="member", user_id="user_erin", permissions=(WEBHOOKS,))
    page.get_by_role("button", name="Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add a webhook endpoint")
    expect(dialog.get_by_label("All events")).not_to_be_checked()
    expect(dialog.get_by_label("All events")).to_be_disabled()
    expect(dialog.locator("input[value^='key.']")).to_have_count(0)
    expect(dialog.get_by_label("license.updated", exact=True)).to_be_checked()
    dialog.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
    dialog.get_by_role("button", name="Add endpoint").click()
    shown = page.locator("dialog.dialog-secret")
    assert shown.get_by_test_id("new-key").input_value().startswith("whsec_")
    shown.get_by_role("button", name="Done, I have stored it").click()
    chips = page.locator("#webhooks-table tbody tr .chip")
    expect(chips).to_have_text(["license.updated", "webhook.disabled"])
