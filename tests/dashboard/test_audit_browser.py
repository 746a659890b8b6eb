"""Every page and dialog, at 1280 and 360 px: axe-core finds no serious or critical violation,
and a screenshot is saved (docs/screenshots/ with REFRESH_SCREENSHOTS=1, else test-artifacts/).
"""

from __future__ import annotations

import os
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.servers import ROOT

pytestmark = pytest.mark.browser
SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("REFRESH_SCREENSHOTS") == "1"
    else ROOT / "test-artifacts" / "readme-screenshots"
)
WIDTHS = {"desktop": (1280, 800), "mobile": (360, 740)}
HOSTILE = "<img src=x onerror=alert(1)> \"Robert'); DROP TABLE keys;--"


class Audit:
    def __init__(self, page: Page, width: str):
        self.page = page
        self.width = width
        self.axe = Axe()
        self.problems: list[str] = []

    def check(self, name: str, keep_toasts: bool = False) -> None:
        """Run axe on what is on screen now and save its picture."""
        if self.page.locator("#toasts").count() and not keep_toasts:
            self.page.locator("#toasts").evaluate("el => el.replaceChildren()")
        results = self.axe.run(self.page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.problems.append(f"{name}: {violation['id']} ({violation['impact']}) {targets}")
        SHOTS.mkdir(parents=True, exist_ok=True)
        # A dialog, and the long reference, are pictured as the screen shows them.
        full = name != "docs" and not self.page.locator("dialog[open]").count()
        # Animations (a bottom sheet sliding up) are pictured finished.
        self.page.screenshot(
            path=str(SHOTS / f"{name}-{self.width}.png"), full_page=full, animations="disabled"
        )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_and_dialog_passes_axe_and_is_photographed(dashboard, org_id, width):
    page = dashboard.page
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    audit = Audit(page, width)
    dashboard.open("/")
    expect(page.locator("#dev-sign-in")).to_be_visible()
    page.locator("#dev-sign-in").get_by_label("Role").select_option("member")
    expect(page.get_by_role("group", name="Member permissions")).to_be_visible()
    audit.check("sign-in")

    dashboard.sign_in(org_id, user_id="user_ada", org_slug="acme")
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    audit.check("keys-empty")

    dialog = dashboard.open_create_dialog("Billing sync", scopes=["contacts:read"])
    audit.check("create-key")
    dialog.get_by_role("button", name="Create key").click()
    expect(page.locator("dialog.dialog-secret")).to_be_visible()
    page.locator("dialog.dialog-secret [data-testid=new-key]").evaluate(
        "el => { el.value = 'lw_live_' + 'x'.repeat(32); }"  # no real key in a picture
    )
    audit.check("new-key")
    page.keyboard.press("Escape")
    expect(page.get_by_text("Have you copied it?")).to_be_visible()
    audit.check("new-key-check")
    page.get_by_role("button", name="Close without copying").click()

    dashboard.create_key("Production server", scopes=["messages:write", "contacts:read"])
    dashboard.create_key("Support desk", scopes=["tickets:read", "tickets:write"])
    secret = dashboard.create_key(HOSTILE)
    for _ in range(4):
        dashboard.health(secret)
    dashboard.wait_for_usage(secret, 4)
    dashboard.action("Support desk", "Rotate…")
    audit.check("rotate")
    page.get_by_role("dialog").get_by_role("button", name="Rotate “Support desk”").click()
    dashboard.read_and_close_secret()
    dashboard.action("Billing sync", "Edit scopes")
    audit.check("edit-scopes")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    dashboard.action("Billing sync", "Revoke…")
    audit.check("revoke")
    dashboard.confirm("Revoke “Billing sync”")
    expect(dashboard.row("Billing sync").locator(".badge")).to_have_text("revoked")
    expect(page.locator(".toast")).to_be_visible()
    audit.check("toast", keep_toasts=True)
    assert page.evaluate("() => !document.querySelector('img[src=x]')"), "a name became markup"
    dashboard.menu_button("Production server").click()
    audit.check("keys-menu")
    page.keyboard.press("Escape")
    audit.check("keys")
    page.get_by_role("button", name=re.compile(r"^Account: ")).click()
    expect(page.get_by_role("menu", name="Account")).to_be_visible()
    audit.check("account-menu")
    page.keyboard.press("Escape")
    page.route("**/console/keys/*", lambda route: route.abort())
    dashboard.action("Production server", "Rename")
    page.get_by_label("New name for Production server").fill("Production API")
    page.get_by_label("New name for Production server").press("Enter")
    expect(page.locator(".toast-error")).to_contain_text("could not be reached")
    audit.check("toast-error", keep_toasts=True)
    page.unroute("**/console/keys/*")
    page.locator(".toast-error").get_by_role("button", name="Dismiss").click()
    page.get_by_role("button", name="Test mode").click()
    expect(page.get_by_text("No test keys yet")).to_be_visible()
    audit.check("keys-test-mode")
    page.get_by_role("button", name="Test mode").click()
    expect(dashboard.row("Support desk").first).to_be_visible()
    dashboard.row("Production server").get_by_role("link", name="Production server").click()
    expect(page.locator("#scope-report")).to_be_visible()
    expect(page.locator("#edit-key")).to_be_visible()
    audit.check("key-detail")
    dashboard.open("/dashboard/keys")
    dashboard.open_create_dialog("Wiki tripwire").get_by_label("Decoy key").check()
    page.get_by_role("dialog").get_by_role("button", name="Create key").click()
    dashboard.health(dashboard.read_and_close_secret())
    dashboard.open_until_alerts("/dashboard/keys", 1)
    audit.check("alerts")

    dashboard.open("/dashboard/audit-log")
    expect(page.locator("#audit-table")).to_be_visible()
    audit.check("audit-log")
    dashboard.open("/dashboard/usage")
    expect(page.locator("#usage-table")).to_be_visible()
    page.locator(".chart-plot .bar").last.focus()
    audit.check("usage")
    dashboard.open("/dashboard/webhooks")
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_label("Endpoint URL").fill("http://127.0.0.1:9/hooks")
    page.get_by_label("Description (optional)").fill("Billing service")
    audit.check("webhook-create")
    page.get_by_role("dialog").get_by_role("button", name="Add endpoint").click()
    expect(page.locator("dialog.dialog-secret")).to_be_visible()
    page.locator("dialog.dialog-secret [data-testid=new-key]").evaluate(
        "el => { el.value = 'whsec_' + 'x'.repeat(32); }"
    )
    audit.check("webhook-secret")
    page.get_by_role("button", name="Done, I have stored it").click()
    page.get_by_role("button", name="Actions for http://127.0.0.1:9/hooks").click()
    page.get_by_role("menuitem", name="Send test event").click()
    expect(page.locator("#deliveries-table")).to_be_visible()
    audit.check("webhooks")
    dashboard.open("/dashboard/events")
    expect(page.locator("#events-table")).to_be_visible()
    page.locator("#events-table summary").first.click()
    audit.check("events")
    dashboard.open("/dashboard/keys/key_0000000000000000000000000")
    expect(page.get_by_text("There is no such key in this organization.")).to_be_visible()
    audit.check("key-not-found")
    dashboard.open("/docs")
    audit.check("docs")
    dashboard.open("/dashboard/usage")
    dashboard.sign_out()
    dashboard.sign_in(org_id, role="member", user_id="user_bob")
    expect(page.locator("#usage-table")).to_be_visible()
    audit.check("member-usage")

    assert audit.problems == []
