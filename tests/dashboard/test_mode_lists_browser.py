"""The events and audit log pages follow the test/live switch (SPEC §9.1): in test mode they
show what happened to test keys only, live mode everything else; at 1280 and 360 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.axe import serious_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width, height", [(1280, 800), (360, 740)])
def test_events_and_audit_log_follow_the_mode_switch(dashboard, org_id, width, height):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    dashboard.create_key("live server")
    switch = page.get_by_role("button", name="Test mode")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "true")
    dashboard.create_key("sandbox")

    asked: list[str] = []
    page.on(
        "request",
        lambda request: (
            asked.append(request.url)
            if "/console/events" in request.url or "/console/audit-log" in request.url
            else None
        ),
    )
    dashboard.open("/dashboard/events")
    table = page.locator("#events-table")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("sandbox")
    expect(table).not_to_contain_text("live server")

    problems = serious_violations(page, "events-test-mode")
    dashboard.open("/dashboard/audit-log")
    audit = page.locator("#audit-table")
    expect(audit.locator("tbody tr")).to_have_count(1)
    expect(audit).to_contain_text("sandbox")
    problems += serious_violations(page, "audit-log-test-mode")
    assert not problems, "\n".join(problems)
    assert all("mode=test" in url for url in asked), asked

    # Switching re-renders the page in live mode.
    page.get_by_role("button", name="Test mode").click()
    expect(audit.locator("tbody tr")).to_have_count(1)
    expect(page.locator("#audit-table")).to_contain_text("live server")
    expect(page.locator("#audit-table")).not_to_contain_text("sandbox")
    dashboard.open("/dashboard/events")
    expect(page.locator("#events-table")).to_contain_text("live server")
    expect(page.locator("#events-table")).not_to_contain_text("sandbox")
    assert "mode=live" in asked[-1]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways at {width} px ({scroll} px)"
