"""The design system as the browser meets it (issue 16 §4): the one icon sprite loads under
the CSP, no page scrolls sideways at 360 px with long names and ids, and the phone's top bar
is one row whose account menu works from the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dashboard import build_sprite
from tests.servers import ROOT

DASHBOARD = ROOT / "dashboard"
PHONE = {"width": 360, "height": 740}
LONG_NAME = "x" * 100  # the longest key name the API takes, without a break opportunity
LONG_ORG = "org_" + "o" * 64  # the longest organization id the sign-in takes
LONG_USER = "user_" + "u" * 64
LONG_URL = "http://127.0.0.1:9/" + "h" * 150
# What the page saw go wrong: CSP violations and sub-resources that failed to load.
WATCH = """
  window.__problems = [];
  document.addEventListener("securitypolicyviolation",
    (event) => window.__problems.push(`CSP ${event.violatedDirective} ${event.blockedURI}`));
"""


def icons_used() -> set[str]:
    """Every icon name the templates and scripts ask for."""
    names: set[str] = set()
    for path in [*DASHBOARD.glob("templates/*.html"), *DASHBOARD.glob("static/js/*.js")]:
        text = path.read_text()
        names |= set(re.findall(r"""icon\(\s*["']([a-z0-9-]+)["']""", text))
        names |= set(re.findall(r"""icon: ["']([a-z0-9-]+)["']""", text))
        # The tables of ui.js: an empty state's icon per page, a menu item's per verb.
        for table in re.findall(r"const \w+_ICONS = \{(.*?)\};", text, re.DOTALL):
            names |= set(re.findall(r""":\s*["']([a-z0-9-]+)["']""", table))
    return names


def test_the_sprite_holds_exactly_the_icons_the_dashboard_uses():
    sprite = (DASHBOARD / "static" / "icons.svg").read_text()
    symbols = set(re.findall(r'<symbol id="([a-z0-9-]+)"', sprite))
    used = icons_used()
    assert used, "no icon found in the dashboard's sources"
    assert used <= symbols, f"icons missing from the sprite: {sorted(used - symbols)}"
    assert symbols == set(build_sprite.ICONS), "the sprite is not what build_sprite.py makes"
    assert (DASHBOARD / "static" / "icons.LICENSE.txt").read_text().startswith("ISC License")


def signed_in_on_a_phone(dashboard, org_id: str = LONG_ORG, user_id: str = LONG_USER) -> Page:
    page = dashboard.page
    page.add_init_script(WATCH)
    page.set_viewport_size(PHONE)
    dashboard.sign_in(org_id, user_id=user_id)
    return page


def assert_no_sideways_scroll(page: Page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{where} scrolls sideways at 360 px ({width} px wide)"


@pytest.mark.browser
def test_icons_load_from_the_sprite_under_the_csp(dashboard, org_id):
    page = dashboard.page
    page.add_init_script(WATCH)
    sprite_answers = []
    page.on(
        "response",
        lambda response: (
            sprite_answers.append(response) if response.url.endswith("/icons.svg") else None
        ),
    )
    dashboard.sign_in(org_id)
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    uses = page.evaluate(
        """() => [...document.querySelectorAll("svg.icon use")]
                 .map((use) => use.getAttribute("href"))"""
    )
    assert uses and all(href.startswith("/dashboard/static/icons.svg#") for href in uses), uses
    assert sprite_answers and sprite_answers[0].status == 200
    assert sprite_answers[0].headers["content-type"].startswith("image/svg+xml")
    # Drawn: the <use> of the empty state's key icon has the symbol's shapes inside it.
    key_icon = page.locator(".state-icon svg.icon use")
    expect(key_icon).to_have_attribute("href", re.compile(r"#key-round$"))
    page.wait_for_function(
        """() => { const box = document.querySelector(".state-icon use").getBBox();
                   return box.width > 10 && box.height > 10; }"""
    )
    assert page.evaluate("window.__problems") == []


@pytest.mark.browser
def test_no_page_scrolls_sideways_at_360_with_long_names_and_ids(dashboard):
    page = signed_in_on_a_phone(dashboard)
    assert_no_sideways_scroll(page, "the key list, empty")
    dialog = dashboard.open_create_dialog(LONG_NAME)
    assert_no_sideways_scroll(page, "the create dialog")
    dialog.get_by_role("button", name="Create key").click()
    assert_no_sideways_scroll(page, "the new key dialog")
    secret = dashboard.read_and_close_secret()
    dashboard.health(secret)
    dashboard.wait_for_usage(secret, 1)
    dashboard.menu_button(LONG_NAME).click()
    assert_no_sideways_scroll(page, "the key list with its row menu open")
    page.keyboard.press("Escape")
    page.get_by_role("button", name=re.compile(r"^Account: ")).click()
    expect(page.get_by_role("menuitem", name="Sign out")).to_be_visible()
    assert_no_sideways_scroll(page, "the account menu")
    page.keyboard.press("Escape")
    dashboard.row(LONG_NAME).get_by_role("link").click()
    expect(page.locator("#scope-report")).to_be_visible()
    assert_no_sideways_scroll(page, "a key's page")

    dashboard.open("/dashboard/webhooks")
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_label("Endpoint URL").fill(LONG_URL[:100])
    page.get_by_label("Description (optional)").fill("d" * 100)
    page.get_by_role("dialog").get_by_role("button", name="Add endpoint").click()
    page.get_by_role("button", name="Done, I have stored it").click()
    page.get_by_role("button", name=f"Actions for {LONG_URL[:100]}").click()
    page.get_by_role("menuitem", name="Send test event").click()
    expect(page.locator("#deliveries-table")).to_be_visible()
    assert_no_sideways_scroll(page, "webhooks and deliveries")
    for path, ready in [
        ("/dashboard/audit-log", "#audit-table"),
        ("/dashboard/usage", "#usage-table"),
        ("/dashboard/events", "#events-table"),
    ]:
        dashboard.open(path)
        expect(page.locator(ready)).to_be_visible()
        if path.endswith("events"):
            page.locator("#events-table summary").first.click()
            tab = page.locator("#nav [aria-current=page]").bounding_box()
            assert tab and tab["x"] + tab["width"] <= PHONE["width"], "the current tab is cut off"
        assert_no_sideways_scroll(page, path)
    dashboard.sign_out()
    assert_no_sideways_scroll(page, "the sign-in page")
    assert page.evaluate("window.__problems") == []


@pytest.mark.browser
def test_the_phone_top_bar_is_one_row_and_its_account_menu_works_by_keyboard(dashboard):
    page = signed_in_on_a_phone(dashboard)
    expect(page.get_by_text("No API keys yet")).to_be_visible()
    brand, account = page.locator(".brand"), page.locator("#account-button")
    brand_box, account_box = brand.bounding_box(), account.bounding_box()
    assert brand_box and account_box
    middle = [box["y"] + box["height"] / 2 for box in (brand_box, account_box)]
    assert abs(middle[0] - middle[1]) < 4, "the brand and the account menu are not on one row"
    assert page.locator(".topbar").bounding_box()["height"] < 64
    tops = page.evaluate("[...document.querySelectorAll('#nav li')].map((li) => li.offsetTop)")
    assert len(set(tops)) == 1, f"the tabs wrap onto {len(set(tops))} rows"
    banner = page.locator("#dev-banner")
    assert banner.bounding_box()["height"] < 40, "the development banner takes several lines"
    page.get_by_role("button", name="Test mode").click()
    assert page.locator("#mode-banner").bounding_box()["height"] < 40, "so does test mode's"
    page.get_by_role("button", name="Test mode").click()

    account.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("menu", name="Account")
    expect(menu).to_be_visible()
    expect(account).to_have_attribute("aria-expanded", "true")
    expect(menu).to_contain_text(LONG_USER)
    expect(page.get_by_role("menuitem", name="API reference")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem", name="Sign out")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(account).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_role("menuitem", name="Sign out")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#dev-sign-in")).to_be_visible()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
