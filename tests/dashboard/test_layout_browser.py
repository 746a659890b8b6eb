"""The layout a Stripe or Clerk user expects: the sign-in is a card centred on the page, a
page's primary action sits on its title row, dialogs are bottom sheets on a phone (and stay
centred on a desktop), and ids in the log cards keep one line with a copy button."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

WIDTHS = [(1280, 800), (360, 740)]


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{locator} is not on screen"
    return found


def middle_y(found: dict[str, float]) -> float:
    return found["y"] + found["height"] / 2


@pytest.mark.parametrize("width,height", WIDTHS)
def test_the_sign_in_is_a_centred_card_with_its_title_inside(dashboard, width, height):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.open("/")
    form = page.locator("#dev-sign-in")
    expect(form).to_be_visible()
    card = box(page.locator("main"))
    left, right = card["x"], width - card["x"] - card["width"]
    assert abs(left - right) <= 1, f"the card is off centre ({left} px left, {right} px right)"
    assert card["width"] <= 440
    title = box(page.get_by_role("heading", name="Sign in"))
    assert card["y"] < title["y"] and title["y"] + title["height"] < box(form)["y"]
    assert abs(title["x"] + title["width"] / 2 - (card["x"] + card["width"] / 2)) <= 1
    assert page.locator("main").evaluate("el => getComputedStyle(el).boxShadow") != "none"
    button = box(form.get_by_role("button", name="Sign in"))
    assert abs(button["width"] - box(form.get_by_label("User id"))["width"]) <= 1, "not full width"


@pytest.mark.parametrize("width,height", WIDTHS)
def test_the_primary_action_sits_on_the_title_row(dashboard, org_id, width, height):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    for path, label in (("/dashboard/keys", "Create key"), ("/dashboard/webhooks", "Add endpoint")):
        dashboard.open(path)
        expect(page.locator("#page-actions").get_by_role("button", name=label)).to_be_visible()
        expect(page.locator("[aria-busy=true]")).to_have_count(0)
        # Measured together, once the page has settled (banners load on their own).
        title, action, content = page.evaluate(
            """() => ["#page-title", "#page-actions .button", "#page"].map((selector) => {
                 const r = document.querySelector(selector).getBoundingClientRect();
                 return { x: r.x, y: r.y, width: r.width, height: r.height }; })"""
        )
        assert abs(middle_y(title) - middle_y(action)) <= 2, f"{label} is not beside the title"
        assert abs(action["x"] + action["width"] - content["x"] - content["width"]) <= 1, (
            f"{label} does not end where the content ends"
        )
    dashboard.open("/dashboard/usage")
    expect(page.locator("#page-actions")).to_be_hidden()  # a page without one has none left


def sheet_geometry(dialog: Locator) -> dict[str, float | str]:
    return dialog.evaluate(
        """(el) => { const r = el.getBoundingClientRect(), s = getComputedStyle(el);
           return { top: r.top, bottom: r.bottom, left: r.left, width: r.width,
                    scrollable: el.scrollHeight > el.clientHeight,
                    topLeft: s.borderTopLeftRadius, bottomLeft: s.borderBottomLeftRadius }; }"""
    )


def open_create(page: Page) -> Locator:
    page.get_by_role("button", name="Create key").click()
    return page.get_by_role("dialog", name=re.compile("^Create an API key$"))


def test_dialogs_are_bottom_sheets_on_a_phone_and_keep_the_keyboard(dashboard, org_id):
    page = dashboard.page
    page.set_viewport_size({"width": 360, "height": 740})
    dashboard.sign_in(org_id)
    dialog = open_create(page)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Name")).to_be_focused()
    page.wait_for_function("() => !document.querySelector('dialog').getAnimations().length")
    sheet = sheet_geometry(dialog)
    assert sheet["left"] == 0 and sheet["width"] == 360, sheet
    assert sheet["bottom"] == 740, f"not docked to the bottom: {sheet}"
    assert sheet["top"] >= 48, f"no band left above the sheet: {sheet}"
    assert sheet["topLeft"] == "12px" and sheet["bottomLeft"] == "0px", sheet
    assert sheet["scrollable"], "the long form does not scroll inside the sheet"
    footer = box(dialog.locator(".dialog-actions"))
    assert footer["y"] + footer["height"] == 740, "the actions are not kept in view"
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Create key")).to_be_focused()

    dialog = open_create(page)
    dialog.get_by_label("Name").fill("sheet")
    dialog.get_by_role("button", name="Create key").click()
    secret = page.locator("dialog.dialog-secret")
    expect(secret).to_be_visible()
    page.keyboard.press("Escape")  # the shown-once key is not closed unasked
    expect(page.get_by_text("Have you copied it?")).to_be_visible()
    expect(page.get_by_role("button", name="Go back to the key")).to_be_focused()
    page.wait_for_function("() => !document.querySelector('dialog').getAnimations().length")
    assert sheet_geometry(secret)["bottom"] == 740
    page.get_by_role("button", name="Close without copying").click()
    expect(page.locator("dialog")).to_have_count(0)

    page.set_viewport_size({"width": 1280, "height": 800})
    dialog = open_create(page)
    page.wait_for_function("() => !document.querySelector('dialog').getAnimations().length")
    centred = sheet_geometry(dialog)
    assert centred["bottom"] < 800 and centred["width"] == 560, f"not centred: {centred}"
    assert centred["bottomLeft"] == "12px"


def test_ids_in_the_log_cards_keep_one_line_and_copy(dashboard, org_id):
    page = dashboard.page
    page.set_viewport_size({"width": 360, "height": 740})
    dashboard.sign_in(org_id)
    dashboard.create_key("audited")
    for path, table, noun in (
        ("/dashboard/audit-log", "#audit-table", "request id"),
        ("/dashboard/events", "#events-table", "event id"),
    ):
        dashboard.open(path)
        ids = page.locator(f"{table} .copy-id code")
        expect(ids.first).to_be_visible()
        lines = ids.evaluate_all("codes => codes.map((code) => code.getClientRects().length)")
        heights = ids.evaluate_all("codes => codes.map((code) => code.offsetHeight)")
        assert lines and set(lines) == {1} and len(set(heights)) == 1, (lines, heights)
        full = ids.first.text_content()
        expect(ids.first).to_have_attribute("title", full)
        page.get_by_role("button", name=f"Copy {noun} {full}").click()
        assert page.evaluate("navigator.clipboard.readText()") == full
        expect(page.locator(".toast").last).to_contain_text(full)


def test_the_close_button_of_a_dialog_does_what_escape_does(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dialog = open_create(page)
    expect(dialog.get_by_label("Name")).to_be_focused()  # not the corner button
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator("dialog")).to_have_count(0)
    expect(page.get_by_role("button", name="Create key")).to_be_focused()

    dialog = open_create(page)
    dialog.get_by_label("Name").fill("cornered")
    dialog.get_by_role("button", name="Create key").click()
    secret = page.locator("dialog.dialog-secret")
    secret.get_by_role("button", name="Close", exact=True).click()
    expect(page.get_by_text("Have you copied it?")).to_be_visible()  # asked, not closed
    expect(secret).to_be_visible()
    secret.get_by_role("button", name="Copy key").click()
    secret.get_by_role("button", name="Close", exact=True).click()
    expect(page.locator("dialog")).to_have_count(0)


def test_a_time_that_rounds_up_to_a_whole_unit_is_said_in_it(dashboard):
    """An hour less a second is "in 1 hour" (a rotation's grace period, drawn a moment after
    it began), never "in 60 minutes"."""
    page = dashboard.page
    dashboard.open("/")
    said = page.evaluate(
        """async () => {
             const { relativeTime } = await import("/dashboard/static/js/dom.js");
             const now = new Date("2026-12-01T12:00:00Z");
             const at = (seconds) => relativeTime(new Date(now.getTime() + seconds * 1000), now);
             return [at(3599), at(3600), at(3569), at(-3599), at(86400 * 6.6), at(86400 * 29)];
           }"""
    )
    assert said == [
        "in 1 hour",
        "in 1 hour",
        "in 59 minutes",
        "1 hour ago",
        "next week",
        "in 4 weeks",
    ]
