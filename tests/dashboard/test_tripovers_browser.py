"""What a user tripped over (issue 16 §1), each checked in Chromium as the user meets it."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.axe import serious_violations

pytestmark = pytest.mark.browser

LONG_NAME = "x" * 100  # the longest name the API takes, without a break opportunity


@pytest.fixture(params=[(1280, 800), (360, 740)], ids=["1280", "360"])
def viewport(dashboard, request) -> int:
    """Runs a test on a desktop and on a phone (where the tables are cards); the width."""
    width, height = request.param
    dashboard.page.set_viewport_size({"width": width, "height": height})
    return width


def active_element(page: Page) -> dict:
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          return {
            tag: el.tagName.toLowerCase(), id: el.id, label: el.getAttribute("aria-label"),
            text: el.textContent.trim(), role: el.getAttribute("role"),
            classes: el.className, row: el.closest("tr") ? el.closest("tr").id : null,
          };
        }"""
    )


def console_call(page: Page, method: str, path: str) -> int:
    """The console API called with the page's own session, as another browser tab would."""
    return page.evaluate(
        """async ([method, path]) => {
          const { token } = JSON.parse(sessionStorage.getItem("lw.dev.token"));
          const answer = await fetch(path, { method, headers: {
            Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: "{}" });
          return answer.status;
        }""",
        [method, path],
    )


def key_id(dashboard, name: str) -> str:
    return dashboard.row(name).first.get_attribute("data-key-id")


def _press(page: Page, key: str) -> str:
    """Presses ``key``; the text of the element that has the focus then."""
    page.keyboard.press(key)
    return active_element(page)["text"]


def _signed_in_with_key(dashboard, org_id: str, name: str) -> Page:
    """Signs in to ``org_id`` and creates a key named ``name``; the dashboard's page."""
    dashboard.sign_in(org_id)
    dashboard.create_key(name)
    return dashboard.page


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_rotation_shows_rotating_with_relative_and_exact_expiry_and_links_both_keys(
    dashboard, org_id, width, height
):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    old = dashboard.create_key("relay")
    dashboard.action("relay", "Rotate…")
    page.get_by_role("dialog").get_by_label("In 1 hour").check()
    page.get_by_role("dialog").get_by_role("button", name="Rotate “relay”").click()
    new = dashboard.read_and_close_secret()

    rotating = page.locator("#keys-table tr[data-status=rotating]")
    active = page.locator("#keys-table tr[data-status=active]")
    expect(rotating).to_have_count(1)
    expect(active).to_have_count(1)
    # "Rotating — expires in 59 min": rounded down, never more time than there is.
    expect(rotating.locator("td[data-label=Status]")).to_have_text("Rotating — expires in 59 min")
    expect(rotating.locator(".status-note")).to_have_attribute(
        "title", re.compile(r"\d{1,2}:\d{2}")
    )
    # The expiry column says it relatively and exactly (date and time, not the date alone).
    expect(rotating.locator("td[data-label=Expires] time")).to_have_text("in 1 hour")
    expect(rotating.locator(".time-exact")).to_have_text(re.compile(r"\d{1,2}:\d{2}"))
    # Each row links to the other, named by …last4.
    expect(rotating.get_by_role("link", name=f"Replaced by …{new[-4:]}")).to_be_visible()
    link = active.get_by_role("link", name=f"Rotated from …{old[-4:]}")
    link.click()
    assert active_element(page)["row"] == rotating.get_attribute("id")
    problems = serious_violations(page, f"keys-rotating-{width}")
    # The old key's page says it too.
    rotating.get_by_role("link", name="relay").click()
    expect(page.locator("#rotating-note")).to_have_text("— expires in 59 min")
    problems += serious_violations(page, f"key-detail-rotating-{width}")
    assert not problems, "\n".join(problems)


def test_the_rotation_countdown_stays_true_while_the_page_is_open(dashboard, org_id):
    """An open key list counts a rotating key down, and reloads once it has expired."""
    page = dashboard.page
    page.clock.install()
    dashboard.sign_in(org_id)
    dashboard.create_key("relay")
    dashboard.action("relay", "Rotate…")
    page.get_by_role("dialog").get_by_label("In 1 hour").check()
    page.get_by_role("dialog").get_by_role("button", name="Rotate “relay”").click()
    dashboard.read_and_close_secret()
    rotating = page.locator("#keys-table tr[data-status=rotating]")
    expect(rotating.locator("td[data-label=Status]")).to_have_text("Rotating — expires in 59 min")
    page.clock.fast_forward("30:00")
    expect(rotating.locator("td[data-label=Status]")).to_have_text("Rotating — expires in 29 min")
    page.clock.fast_forward("31:00")
    # The old key has expired: the list is drawn again from the server.
    expect(page.locator("#keys-table tr[data-status=expired]")).to_have_count(1)
    expect(rotating).to_have_count(0)


def test_usage_and_audit_name_keys_with_their_last4(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("reporting")
    assert dashboard.health(secret).status_code == 200

    dashboard.open("/dashboard/audit-log")
    expect(page.locator("#audit-table td[data-label=Key]").first).to_have_text(
        f"reporting …{secret[-4:]}"
    )
    dashboard.open("/dashboard/usage")
    expect(page.locator("#usage-table td[data-label=Key]").first).to_have_text(
        f"reporting …{secret[-4:]}"
    )


def test_a_refused_action_is_a_toast_naming_the_key_and_the_table_stays(
    dashboard, org_id, viewport
):
    page = _signed_in_with_key(dashboard, org_id, "other tab")
    dashboard.create_key("neighbour")
    # Revoked in another tab: this page still shows the key as active.
    assert (
        console_call(page, "POST", f"/console/keys/{key_id(dashboard, 'other tab')}/revoke") == 200
    )

    dashboard.row("other tab").get_by_label("Enabled: other tab").click()
    dashboard.confirm("Disable “other tab”")
    toast = page.locator(".toast-error")
    expect(toast).to_contain_text("“other tab”")
    expect(toast.locator(".request-id")).to_have_text(re.compile(r"^req_[0-9a-f]+$"))
    expect(page.locator("#keys-table")).to_be_visible()
    expect(page.locator(".state-error")).to_have_count(0)
    # The list refreshed: the key shows as revoked now; the toast holds the focus.
    expect(dashboard.row("other tab").locator(".badge")).to_have_text("revoked")
    expect(dashboard.row("neighbour").locator(".badge")).to_have_text("active")
    assert "toast" in active_element(page)["classes"]


def test_an_unreachable_server_is_a_toast_too(dashboard, org_id, viewport):
    page = _signed_in_with_key(dashboard, org_id, "offline")
    page.route("**/console/keys/*", lambda route: route.abort())
    dashboard.action("offline", "Rename")
    page.get_by_label("New name for offline").fill("renamed")
    page.get_by_label("New name for offline").press("Enter")
    expect(page.locator(".toast-error")).to_contain_text("could not be reached")
    expect(page.locator(".toast-error")).to_contain_text("“offline”")
    expect(page.locator("#keys-table")).to_be_visible()


def test_focus_returns_to_the_rows_control_after_an_action_or_escape(dashboard, org_id, viewport):
    page = _signed_in_with_key(dashboard, org_id, "focus me")
    expect(page.locator("#page")).not_to_have_attribute("aria-live", re.compile(".*"))

    dashboard.row("focus me").get_by_label("Enabled: focus me").click()
    dashboard.confirm("Disable “focus me”")
    expect(dashboard.row("focus me").locator(".badge")).to_have_text("disabled")
    assert active_element(page)["label"] == "Enabled: focus me"

    dashboard.action("focus me", "Rename")
    page.get_by_label("New name for focus me").press("Escape")
    expect(page.get_by_label("New name for focus me")).to_have_count(0)
    assert active_element(page)["label"] == "Actions for focus me"

    dashboard.action("focus me", "Rename")
    page.get_by_label("New name for focus me").fill("focused")
    page.get_by_label("New name for focus me").press("Enter")
    expect(dashboard.row("focused")).to_be_visible()
    expect(page.get_by_role("button", name="Actions for focused")).to_be_focused()

    dashboard.action("focused", "Revoke…")
    dashboard.confirm("Revoke “focused”")
    expect(dashboard.row("focused").locator(".badge")).to_have_text("revoked")
    # The revoked row has no control left: the toast has the focus, not <body>.
    assert "toast" in active_element(page)["classes"]


def test_row_menu_follows_the_menu_button_pattern(dashboard, org_id, viewport):
    page = _signed_in_with_key(dashboard, org_id, "menu key")
    button = dashboard.menu_button("menu key")
    menu = dashboard.row("menu key").get_by_role("menu")
    expect(button).to_have_attribute("aria-haspopup", "menu")

    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    assert active_element(page)["text"] == "Rename"
    assert _press(page, "ArrowDown") == "Edit scopes"
    assert _press(page, "End") == "Revoke…"
    assert _press(page, "ArrowDown") == "Rename"
    assert _press(page, "ArrowUp") == "Revoke…"
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    assert active_element(page)["label"] == "Actions for menu key"

    assert _press(page, "ArrowUp") == "Revoke…"
    page.keyboard.press("Tab")  # leaving the menu closes it
    expect(menu).to_be_hidden()
    button.click()
    expect(menu).to_be_visible()
    page.locator("h1").click()  # so does a click elsewhere
    expect(menu).to_be_hidden()


def test_the_shown_once_dialog_asks_before_escape_closes_it(dashboard, org_id, viewport):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dashboard.open_create_dialog("once").get_by_role("button", name="Create key").click()
    secret_dialog = page.locator("dialog.dialog-secret")
    expect(secret_dialog).to_be_visible()

    page.keyboard.press("Escape")
    expect(secret_dialog).to_be_visible()
    expect(secret_dialog.get_by_text("Have you copied it?")).to_be_visible()
    secret_dialog.get_by_role("button", name="Go back to the key").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(secret_dialog).to_be_visible()
    secret_dialog.get_by_role("button", name="Close without copying").click()
    expect(page.locator("dialog")).to_have_count(0)

    # Once copied, Escape closes it.
    dashboard.open_create_dialog("twice").get_by_role("button", name="Create key").click()
    secret_dialog.get_by_role("button", name="Copy key").click()
    expect(secret_dialog.get_by_text("Copied to the clipboard.")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_no_page_scrolls_sideways_with_long_names(dashboard, org_id, width, height):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(f"{org_id}_{'o' * 44}", user_id="user_" + "u" * 60)
    secret = dashboard.create_key(LONG_NAME)
    dashboard.health(secret)
    dashboard.wait_for_usage(secret, 1)
    dashboard.create_key("short")
    dashboard.action("short", "Rotate…")
    page.get_by_role("dialog").get_by_role("button", name="Rotate “short”").click()
    dashboard.read_and_close_secret()

    for path in ("/dashboard/keys", "/dashboard/audit-log", "/dashboard/usage", "/docs"):
        dashboard.open(path)
        page.wait_for_selector("#keys-table, #audit-table, #usage-table, #docs-toc")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} is {scroll} px wide at {width} px"


def test_columns_keep_their_widths_after_an_action(dashboard, org_id):
    page = _signed_in_with_key(dashboard, org_id, "alpha")
    dashboard.create_key("beta")
    widths = "[...document.querySelectorAll('#keys-table thead th')].map(th => th.offsetWidth)"
    before = page.evaluate(widths)
    dashboard.row("beta").get_by_label("Enabled: beta").click()
    dashboard.confirm("Disable “beta”")
    expect(dashboard.row("beta").locator(".badge")).to_have_text("disabled")
    assert page.evaluate(widths) == before
    # "Last used" fits on one line.
    heights = page.evaluate(
        "[...document.querySelectorAll('#keys-table td[data-label=\"Last used\"]')]"
        ".map(td => td.firstChild.getClientRects().length)"
    )
    assert heights and all(lines == 1 for lines in heights)


@pytest.mark.parametrize("width,height", [(1280, 800), (360, 740)])
def test_usage_chart_has_total_range_readable_labels_and_keyboard_numbers(
    dashboard, org_id, width, height
):
    page = dashboard.page
    page.set_viewport_size({"width": width, "height": height})
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("chart key")
    for _ in range(3):
        assert dashboard.health(secret).status_code == 200
    dashboard.wait_for_usage(secret, 3)

    dashboard.open("/dashboard/usage")
    expect(page.locator("#usage-total")).to_have_text("3")
    expect(page.locator("#usage-range")).to_contain_text(str(date.today().year))
    labels = page.locator(".chart-x span")
    expect(labels).to_have_count(3)
    boxes = [labels.nth(i).bounding_box() for i in range(3)]
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert left["x"] + left["width"] <= right["x"], "axis labels overlap"
    assert boxes[-1]["x"] + boxes[-1]["width"] <= width, "the last label is clipped"
    size = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.chart-x span')).fontSize)"
    )
    assert size >= 11, f"axis text is {size} px"

    bars = page.locator(".chart-plot .bar")
    expect(bars).to_have_count(30)
    bars.last.focus()
    expect(page.locator("#chart-readout")).to_contain_text("3 requests")
    expect(page.locator("#chart-readout")).to_contain_text(f"chart key …{secret[-4:]}: 3")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#chart-readout")).to_contain_text("0 requests")
    page.keyboard.press("End")
    expect(page.locator("#chart-readout")).to_contain_text("3 requests")

    page.get_by_role("button", name="7 days").click()
    expect(bars).to_have_count(7)
    expect(page.get_by_role("button", name="7 days")).to_have_attribute("aria-pressed", "true")


def test_custom_expiry_refuses_a_past_date_in_words(dashboard, org_id, viewport):
    page = dashboard.page
    dashboard.sign_in(org_id)
    dialog = dashboard.open_create_dialog("dated")
    dialog.get_by_label("Expires").select_option("custom")
    date_input = dialog.get_by_label("Expiry date")
    expect(date_input).to_have_attribute("min", re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    date_input.fill((date.today() - timedelta(days=2)).isoformat())
    dialog.get_by_role("button", name="Create key").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_text("The expiry date has passed. Choose today or a later day.")
    expect(page.locator("dialog.dialog-secret")).to_have_count(0)

    date_input.fill((date.today() + timedelta(days=10)).isoformat())
    dialog.get_by_role("button", name="Create key").click()
    dashboard.read_and_close_secret()
    expect(dashboard.row("dated").locator(".time-exact")).to_contain_text(
        str((date.today() + timedelta(days=10)).day)
    )


def test_rotate_does_not_look_like_revoke(dashboard, org_id):
    page = _signed_in_with_key(dashboard, org_id, "styled")
    dashboard.menu_button("styled").click()
    color = "el => getComputedStyle(el).color"
    rotate = page.get_by_role("menuitem", name="Rotate…").evaluate(color)
    revoke = page.get_by_role("menuitem", name="Revoke…").evaluate(color)
    assert rotate != revoke
    page.get_by_role("menuitem", name="Rotate…").click()
    rotate_button = page.get_by_role("dialog").get_by_role("button", name="Rotate “styled”")
    expect(rotate_button).not_to_have_class(re.compile("button-danger"))
    expect(rotate_button).to_have_class(re.compile("button-primary"))


def test_every_page_has_the_favicon_and_a_link_to_the_api_docs(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(f"{dashboard.base_url}{icon}")
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    page.get_by_role("link", name="API docs").click()
    expect(page).to_have_url(re.compile(r"/docs$"))
