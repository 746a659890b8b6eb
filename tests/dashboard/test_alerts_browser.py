"""Leaked-key and decoy alerts: on every page until someone in the organization acknowledges
them (on the server: gone in every browser), decoys created from the create dialog and tagged
"Decoy"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tenants.leaks import LeakReport, handle_report, record_decoy_use
from tests.conftest import TEST_ACTOR
from tests.dashboard.axe import serious_violations
from tests.dashboard.pages import Dashboard

pytestmark = pytest.mark.browser

READ = "org:api_keys:read"


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

    dashboard.open_until_alerts("/dashboard/keys", 2)
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
    expect(page.get_by_role("status").filter(has_text="Acknowledged for everyone")).to_be_visible()
    dashboard.open("/dashboard/usage")
    expect(alerts.locator(".alert")).to_have_count(1)
    expect(alerts).to_contain_text("ci runner")
    alerts.get_by_role("button", name="Acknowledge").click()
    expect(alerts).to_be_hidden()
    dashboard.open("/dashboard/keys")
    expect(page.locator("#alerts")).to_be_hidden()

    # A new use of the decoy is a new event: it alerts again.
    assert dashboard.health(decoy).status_code == 401
    dashboard.open_until_alerts("/dashboard/keys", 1)


def test_acknowledged_in_one_browser_is_gone_in_another(dashboard, org_id, store, browser):
    """The acknowledgement is the organization's: a colleague in another browser context (no
    shared storage) no longer sees it; a reader sees alerts but cannot acknowledge them."""
    page = dashboard.page
    dashboard.sign_in(org_id)
    first = dashboard.create_key("first")
    second = dashboard.create_key("second")
    for secret in (first, second):
        report = LeakReport(secret, "loopwave", "https://gist.github.com/x/2", "gist")
        assert handle_report(store, report, "github")

    other = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        colleague = Dashboard(other.new_page(), dashboard.base_url)
        colleague.page.set_default_timeout(10_000)
        colleague.sign_in(org_id, role="member", user_id="user_bob", permissions=(READ,))
        expect(colleague.page.locator("#alerts .alert")).to_have_count(2)
        # Reading the keys is not enough to hide an alert from the whole organization.
        expect(colleague.page.locator("#alerts").get_by_role("button")).to_have_count(0)
        problems = serious_violations(colleague.page, "alerts-reader-360")

        dashboard.open_until_alerts("/dashboard/keys", 2)
        page.locator("#alerts .alert").filter(has_text="“first”").get_by_role(
            "button", name="Acknowledge"
        ).click()
        expect(page.locator("#alerts .alert")).to_have_count(1)
        # Focus moves to the next alert's button, never to <body>.
        expect(page.locator("#alerts .alert").get_by_role("button")).to_be_focused()
        problems += serious_violations(page, "alerts-acknowledged-1280")
        assert not problems, "\n".join(problems)

        colleague.open("/dashboard/usage")
        expect(colleague.page.locator("#alerts[data-loaded]")).to_have_count(1)
        expect(colleague.page.locator("#alerts .alert")).to_have_count(1)
        expect(colleague.page.locator("#alerts")).to_contain_text("“second”")
    finally:
        other.close()

    # A fresh context of the same person (no localStorage) agrees too.
    page.context.clear_cookies()
    page.evaluate("() => localStorage.clear()")
    dashboard.open("/dashboard/events")
    expect(page.locator("#alerts[data-loaded]")).to_have_count(1)
    expect(page.locator("#alerts .alert")).to_have_count(1)


def _decoy_used_times(store, org_id: str, times: int) -> None:
    """A decoy key of ``org_id``'s tenant used ``times`` times (one event each)."""
    tenant = store.tenant_for_organization("urn:loopwave:dev-login", org_id)
    decoy = store.create_key(tenant.id, "trap", TEST_ACTOR, decoy=True).record
    for number in range(times):
        record_decoy_use(
            db.session,
            key_id=decoy.id,
            tenant_id=tenant.id,
            used_at=decoy.created_at,
            client_ip=f"203.0.113.{number}",
            user_agent="curl/8",
            method="GET",
            path="/api/v1/health",
        )
    db.session.commit()


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_a_failed_acknowledgement_keeps_the_alert_and_says_why(
    dashboard, org_id, store, width, height
):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    _decoy_used_times(store, org_id, 1)
    dashboard.open_until_alerts("/dashboard/usage", 1)
    page.route("**/acknowledge", lambda route: route.abort())
    button = page.locator("#alerts").get_by_role("button", name=re.compile("^Acknowledge"))
    button.click()
    failed = page.locator(".toast-error")
    expect(failed).to_contain_text("Could not acknowledge")
    expect(failed).to_contain_text("could not be reached")
    expect(page.locator("#alerts .alert")).to_have_count(1)
    expect(button).to_be_focused()
    page.unroute("**/acknowledge")
    problems = serious_violations(page, f"alerts-failed-{width}")
    assert not problems, "\n".join(problems)


def test_more_alerts_than_shown_come_next(dashboard, org_id, store):
    page = dashboard.page
    page.set_viewport_size({"width": 360, "height": 740})
    dashboard.sign_in(org_id)
    _decoy_used_times(store, org_id, 51)
    alerts = dashboard.open_until_alerts("/dashboard/usage", 50)
    expect(page.locator("#alerts .alerts-more")).to_contain_text("the 50 newest alerts")
    for left in range(49, -1, -1):
        alerts.first.get_by_role("button").click()
        if left:
            expect(alerts).to_have_count(left)
            expect(alerts.first.get_by_role("button")).to_be_focused()
    # The toasts saying so do not pile up over the page (at most three stay).
    assert page.locator(".toast").count() <= 3
    # The last one shown is acknowledged: the oldest, not shown before, comes next.
    expect(alerts).to_have_count(1)
    expect(page.locator("#alerts .alerts-more")).to_have_count(0)
    expect(alerts).to_contain_text("203.0.113.0")
