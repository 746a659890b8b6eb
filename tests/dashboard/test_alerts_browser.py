"""Leaked-key and decoy alerts: on every page until acknowledged (in this browser), decoys
created from the create dialog and tagged "Decoy"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tenants.leaks import LeakReport, handle_report

pytestmark = pytest.mark.browser


def test_decoy_use_and_leak_alert_every_page_until_acknowledged(dashboard, org_id, store):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dashboard.open_create_dialog("<i>wiki</i> tripwire").get_by_label("Decoy key").check()
    page.get_by_role("dialog").get_by_role("button", name="Create key").click()
    decoy = dashboard.read_and_close_secret()
    expect(dashboard.row("<i>wiki</i> tripwire").locator(".tag-decoy")).to_have_text("Decoy")
    leaked = dashboard.create_key("ci runner")
    expect(page.locator("#alerts")).to_be_hidden()

    assert dashboard.health(decoy).status_code == 401  # a decoy never authenticates
    # GitHub's secret scanning reports the other key (the real handler, as the endpoint runs it).
    assert handle_report(
        store, LeakReport(leaked, "loopwave", "https://gist.github.com/x/1", "gist"), "github"
    )
    assert dashboard.health(leaked).status_code == 401  # revoked by the default leak_response

    for path in ("/dashboard/keys", "/dashboard/usage", "/dashboard/events"):
        dashboard.open(path)
        alerts = page.get_by_role("region", name="Security alerts")
        expect(alerts.locator(".alert")).to_have_count(2)
        expect(alerts).to_contain_text("Decoy key “<i>wiki</i> tripwire”")
        expect(alerts).to_contain_text("from 127.0.0.1")
        expect(alerts).to_contain_text("“ci runner”")
        expect(alerts).to_contain_text("It has been revoked")
    assert page.evaluate("() => !document.querySelector('#alerts i')"), "a name became markup"
    dashboard.open("/dashboard/keys")
    expect(dashboard.row("ci runner").locator(".tag-leaked")).to_have_text("Leaked")

    alerts = page.locator("#alerts")
    alerts.locator(".alert[data-event-type='key.decoy_used']").get_by_role(
        "button", name="Acknowledge"
    ).click()
    expect(alerts.locator(".alert")).to_have_count(1)
    dashboard.open("/dashboard/usage")
    expect(alerts.locator(".alert")).to_have_count(1)
    expect(alerts).to_contain_text("ci runner")
    alerts.get_by_role("button", name="Acknowledge").click()
    expect(alerts).to_be_hidden()
    dashboard.open("/dashboard/keys")
    expect(page.locator("#alerts")).to_be_hidden()

    # A new use of the decoy is a new event: it alerts again.
    assert dashboard.health(decoy).status_code == 401
    dashboard.open("/dashboard/keys")
    expect(page.locator("#alerts .alert")).to_have_count(1)
