"""Test and live mode (SPEC §9.1): the switch, the banner on every page, the filtered key list
and usage, and keys created in the chosen mode."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_test_mode_is_unmistakable_filters_keys_and_usage_and_creates_test_keys(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    live_secret = dashboard.create_key("live server")
    assert live_secret.startswith("lw_live_")
    switch = page.get_by_role("button", name="Test mode")
    expect(switch).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#mode-banner")).to_be_hidden()

    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#mode-banner")).to_be_visible()
    expect(page.locator("#mode-banner")).to_contain_text("Test mode")
    expect(page.locator("body")).to_have_attribute("data-mode", "test")
    expect(page.get_by_text("No test keys yet")).to_be_visible()
    expect(dashboard.row("live server")).to_have_count(0)

    test_secret = dashboard.create_key("sandbox")
    assert test_secret.startswith("lw_test_"), "a key created in test mode is a test key"
    for _ in range(2):
        assert dashboard.health(test_secret).status_code == 200
    assert dashboard.health(live_secret).status_code == 200
    dashboard.wait_for_usage(test_secret, 2)
    dashboard.wait_for_usage(live_secret, 1)

    # The choice holds across pages and reloads; usage shows the test key's traffic only.
    dashboard.open("/dashboard/usage")
    expect(page.locator("#mode-banner")).to_be_visible()
    expect(page.locator("#usage-table")).to_contain_text("sandbox")
    expect(page.locator("#usage-table")).not_to_contain_text("live server")

    page.get_by_role("button", name="Test mode").click()
    expect(page.locator("#mode-banner")).to_be_hidden()
    expect(page.locator("#usage-table")).to_contain_text("live server")
    expect(page.locator("#usage-table")).not_to_contain_text("sandbox")
    dashboard.open("/dashboard/keys")
    expect(dashboard.row("live server")).to_be_visible()
    expect(dashboard.row("sandbox")).to_have_count(0)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
