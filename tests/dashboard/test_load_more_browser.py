"""*Load more* on the events and audit log pages: the next page is appended, and the focus never
falls to <body> when the last page makes the button go away."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_ACTOR
from tests.dashboard.axe import serious_violations

pytestmark = pytest.mark.browser
DEV_ISSUER = "urn:loopwave:dev-login"


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_load_more_keeps_the_focus_on_the_new_rows(dashboard, org_id, store, width, height):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    tenant = store.tenant_for_organization(DEV_ISSUER, org_id)
    for number in range(26):  # 52 events and 52 audit entries: two pages of 50
        key = store.create_key(tenant.id, f"batch {number}", TEST_ACTOR).record
        store.revoke_key(tenant.id, key.id, TEST_ACTOR)

    for path, table in (
        ("/dashboard/events", "#events-table"),
        ("/dashboard/audit-log", "#audit-table"),
    ):
        dashboard.open(path)
        rows = page.locator(f"{table} tbody tr")
        expect(rows).to_have_count(50)
        more = page.get_by_role("button", name="Load more")
        more.focus()
        page.keyboard.press("Enter")
        expect(rows).to_have_count(52)
        expect(more).to_be_hidden()
        expect(rows.nth(50)).to_be_focused()
        problems = serious_violations(page, f"{path}-{width}")
        assert not problems, "\n".join(problems)
