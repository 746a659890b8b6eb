"""The settings page: what a confirmed leak of a key does (`leak_response`, GET/PATCH
/console/settings), editable with org:api_keys:manage, read-only with org:api_keys:read alone,
absent without it (SPEC §9.3) — at 1280 and 360 px, with no serious axe violation and no
sideways scroll."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.extensions import db
from tests.dashboard.axe import serious_violations
from tests.dashboard.shots import WIDTHS, shoot, sideways_scroll, use_width

pytestmark = pytest.mark.browser
DEV_ISSUER = "urn:loopwave:dev-login"
READ = "org:api_keys:read"
MANAGE = "org:api_keys:manage"
WEBHOOKS = "org:webhooks:manage"


def nav(page, name):
    return page.get_by_role("navigation", name="Dashboard").get_by_role(
        "link", name=name, exact=True
    )


def leak_response(store, org_id: str) -> str:
    db.session.expire_all()
    tenant = store.tenant_for_organization(DEV_ISSUER, org_id)
    return store.tenant(tenant.id).leak_response


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_key_manager_chooses_what_a_leak_does(dashboard, org_id, store, width):
    page = dashboard.page
    use_width(page, width)
    dashboard.sign_in(org_id, role="member", user_id="user_dan", permissions=(MANAGE,))
    nav(page, "Settings").click()
    expect(page).to_have_url(re.compile(r"/dashboard/settings$"))
    revoke = page.get_by_role("radio", name=re.compile(r"^Revoke the key"))
    notify = page.get_by_role("radio", name="Notify only")
    expect(revoke).to_be_checked()
    expect(revoke).to_have_accessible_description(re.compile(r"stops working at once"))
    expect(notify).to_have_accessible_description(re.compile(r"keeps working until you act"))
    problems = serious_violations(page, f"settings-{width}")
    tab = nav(page, "Settings").bounding_box()
    assert tab and tab["x"] >= 0 and tab["x"] + tab["width"] <= WIDTHS[width][0] - 32, (
        "the current tab sits under the fade at the edge of the tabs"
    )
    shoot(page, "settings", width)
    assert sideways_scroll(page) <= 0, f"the settings page scrolls sideways at {width}"

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Nothing has changed.")).to_be_visible()
    assert leak_response(store, org_id) == "revoke"

    notify.check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast", has_text="Leaked keys now keep working")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_focused()
    expect(page.get_by_role("radio", name="Notify only")).to_be_checked()
    assert leak_response(store, org_id) == "notify"

    # A refusal is said in the form, with the request id; nothing changes.
    page.route(
        "**/console/settings",
        lambda route: (
            route.fulfill(
                status=409,
                content_type="application/json",
                headers={"X-Request-Id": "req_0123abcd"},
                body='{"request_id": "req_0123abcd", "error": {"code": "CONFLICT", '
                '"message": "Try again"}}',
            )
            if route.request.method == "PATCH"
            else route.continue_()
        ),
    )
    page.get_by_role("radio", name=re.compile(r"^Revoke the key")).check()
    page.get_by_role("button", name="Save").click()
    error = page.locator("#leak-form .form-error")
    expect(error).to_contain_text("Try again")
    expect(error.locator(".request-id")).to_have_text("req_0123abcd")
    assert leak_response(store, org_id) == "notify"
    page.unroute("**/console/settings")
    problems += serious_violations(page, f"settings-error-{width}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_key_readers_see_the_setting_read_only(dashboard, org_id, store, width):
    page = dashboard.page
    use_width(page, width)
    dashboard.sign_in(org_id)
    dashboard.open("/dashboard/settings")
    page.get_by_role("radio", name="Notify only").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast", has_text="Leaked keys now keep working")).to_be_visible()
    dashboard.sign_out()

    dashboard.sign_in(org_id, role="member", user_id="user_bob", permissions=(READ,))
    nav(page, "Settings").click()
    choices = page.get_by_role("list", name="When a key is reported leaked")
    expect(choices.locator("[aria-current=true]")).to_contain_text("Notify only")
    expect(choices.locator("[aria-current=true]")).to_contain_text("current setting")
    expect(choices).to_contain_text("stops working at once")  # both choices are explained
    expect(page.get_by_text("You can view this setting")).to_be_visible()
    expect(page.locator("#leak-form, input[type=radio], #save-settings")).to_have_count(0)
    problems = serious_violations(page, f"settings-read-only-{width}")
    shoot(page, "settings-read-only", width)
    assert sideways_scroll(page) <= 0, f"the read-only settings scroll sideways at {width}"
    assert not problems, "\n".join(problems)


def test_without_key_read_there_is_no_settings_page(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id, role="member", user_id="user_carol", permissions=(WEBHOOKS,))
    expect(page).to_have_url(re.compile(r"/dashboard/webhooks$"))  # sent on from the keys
    expect(nav(page, "Webhooks")).to_be_visible()
    expect(nav(page, "Settings")).to_be_hidden()
    dashboard.open("/dashboard/settings")
    expect(page).to_have_url(re.compile(r"/dashboard/webhooks$"))
