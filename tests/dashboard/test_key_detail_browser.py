"""A key's page: details, last use with the IP, usage by endpoint and outcome, the scope report
with "narrow to these scopes", editing with inline errors, and the rotation lineage."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
NAME = "Billing <b>sync</b>"


def get(dashboard, path, key):
    return requests.get(
        f"{dashboard.base_url}{path}", headers={"x-tenant-api-key": key}, timeout=10
    )


def wait_for_usage(dashboard, key, endpoint, count, attempts=50):
    """Until ``key``'s usage shows ``count`` requests to ``endpoint``: each gunicorn worker
    counts the requests it served and writes them on its own flush (USAGE_FLUSH_SECONDS), so a
    page loaded at once may miss those of the other worker."""
    for _ in range(attempts):
        rows = get(dashboard, "/api/v1/usage?group_by=endpoint", key).json()["data"]
        if sum(row["requests"] for row in rows if row["endpoint"] == endpoint) >= count:
            return
        dashboard.page.wait_for_timeout(200)
    raise AssertionError(f"{endpoint} never reached {count} requests in the usage")


def open_detail(dashboard, name):
    dashboard.row(name).get_by_role("link", name=name).click()
    expect(dashboard.page).to_have_url(re.compile(r"/dashboard/keys/key_[0-9A-Z]+$"))
    expect(dashboard.page.get_by_role("heading", level=1)).to_have_text(name)


def test_key_page_shows_use_and_narrows_scopes_after_a_confirmation(dashboard, org_id):
    page = dashboard.page
    dashboard.sign_in(org_id)
    secret = dashboard.create_key(NAME, scopes=["contacts:read", "contacts:write", "tickets:read"])
    assert get(dashboard, "/api/v1/contacts", secret).status_code == 200
    assert get(dashboard, "/api/v1/contacts", secret).status_code == 200
    wait_for_usage(dashboard, secret, "GET /api/v1/contacts", 2)

    open_detail(dashboard, NAME)
    assert page.evaluate("() => !document.querySelector('main b')"), "a name became markup"
    expect(page.locator("#last-used")).to_contain_text("from 127.0.0.1")
    usage = page.locator("#key-usage-table")
    expect(usage.locator("tr", has_text="GET /api/v1/contacts")).to_contain_text("success")
    expect(usage.locator("tr", has_text="GET /api/v1/contacts")).to_contain_text("2")
    report = page.locator("#scope-report")
    expect(report.locator(".detail-item", has_text="Suggested")).to_contain_text("contacts:read")
    expect(report.locator(".detail-item", has_text="Not used")).to_contain_text("tickets:read")

    page.get_by_role("button", name="Narrow to these scopes").click()
    dialog = page.get_by_role("dialog", name=f"Narrow “{NAME}” to 1 scope?")
    expect(dialog).to_contain_text("contacts:read")
    dialog.get_by_role("button", name=f"Narrow “{NAME}”").click()
    expect(page.locator("#scope-report")).to_be_visible()
    expect(page.get_by_text("The key already holds exactly the scopes it used.")).to_be_visible()
    assert get(dashboard, "/api/v1/tickets", secret).status_code == 403
    assert get(dashboard, "/api/v1/contacts", secret).status_code == 200
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280


def test_key_page_edits_with_inline_errors_and_links_the_rotation(dashboard, org_id):
    page = dashboard.page
    page.set_viewport_size({"width": 360, "height": 740})
    dashboard.sign_in(org_id)
    secret = dashboard.create_key("export job")
    open_detail(dashboard, "export job")
    form = page.locator("#edit-key")

    # Checked in the browser: the field says what is wrong, nothing is sent.
    form.get_by_label("Metadata").fill("no equals sign")
    form.get_by_label("Rate limit").select_option("custom")
    form.get_by_label("Requests per minute").fill("0")
    form.get_by_role("button", name="Save changes").click()
    expect(form.get_by_label("Metadata")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#edit-metadata-error")).to_contain_text("is not key=value")
    expect(form.get_by_label("Requests per minute")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#edit-rate-limit-field-error")).to_contain_text("from 1 to 1,000,000")

    # Checked by the API: its message goes under the field it names; nothing changes.
    form.get_by_label("Metadata").fill("team=billing")
    form.get_by_label("Requests per minute").fill("600")
    form.get_by_label("Allowed IPs").fill("10.0.0.1/8")
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator("#edit-allowed-ips-error")).to_contain_text("did you mean 10.0.0.0/8")
    expect(form.get_by_label("Allowed IPs")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Allowed IPs")).to_be_focused()
    assert dashboard.health(secret).status_code == 200

    form.get_by_label("Description").fill("Nightly export to the ledger")
    form.get_by_label("Allowed IPs").fill("203.0.113.0/24")
    form.get_by_role("button", name="Save changes").click()
    details = page.locator(".detail-list").first
    expect(details).to_contain_text("Nightly export to the ledger")
    expect(details).to_contain_text("team = billing")
    expect(details).to_contain_text("203.0.113.0/24")
    expect(details).to_contain_text("600 requests per minute")
    assert dashboard.health(secret).status_code == 403  # loopback is not on the list
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the key page scrolls sideways at 360 px ({width} px)"

    page.get_by_role("link", name="All keys").click()
    dashboard.action("export job", "Rotate…")
    page.get_by_role("dialog").get_by_role("button", name="Rotate “export job”").click()
    dashboard.read_and_close_secret()
    old = page.locator("#keys-table tbody tr[data-status=rotating]")
    old.get_by_role("link", name="export job").click()
    replaced_by = page.locator(".detail-item", has_text="Replaced by")
    expect(replaced_by).to_be_visible()
    replaced_by.get_by_role("link").click()
    expect(page.locator(".detail-item", has_text="Rotated from")).to_be_visible()
    # The successor carries the details.
    expect(page.locator(".detail-list").first).to_contain_text("203.0.113.0/24")


def test_key_page_fetches_only_its_key_and_its_lineage(dashboard, org_id):
    """The page asks for its key by id (and the keys of its rotation), never the whole list;
    a key of no such id is "not found", not an error."""
    page = dashboard.page
    dashboard.sign_in(org_id)
    assert dashboard.health(dashboard.create_key("unrelated")).status_code == 200
    dashboard.create_key("rotated one")
    dashboard.action("rotated one", "Rotate…")
    page.get_by_role("dialog").get_by_role("button", name="Rotate “rotated one”").click()
    dashboard.read_and_close_secret()
    old = page.locator("#keys-table tbody tr[data-status=rotating]")
    href = old.get_by_role("link", name="rotated one").get_attribute("href")

    asked: list[str] = []
    page.on(
        "request",
        lambda request: (
            asked.append(request.url.split(dashboard.base_url, 1)[-1])
            if "/console/keys" in request.url or "/console/usage" in request.url
            else None
        ),
    )
    dashboard.open(href)
    expect(page.get_by_role("heading", level=1)).to_have_text("rotated one")
    replaced_by = page.locator(".detail-item", has_text="Replaced by")
    expect(replaced_by.get_by_role("link")).to_contain_text("rotated one")
    key_id = href.rsplit("/", 1)[-1]
    assert f"/console/keys/{key_id}" in asked
    assert not [url for url in asked if re.fullmatch(r"/console/keys(\?.*)?", url)], asked
    # Its usage alone, filtered by the API: another key's traffic is neither fetched nor shown.
    expect(page.get_by_text("No requests in the last 30 days.")).to_be_visible()
    usage = [url for url in asked if url.startswith("/console/usage")]
    assert usage and all(f"key_id={key_id}" in url for url in usage), usage

    dashboard.open("/dashboard/keys/key_00000000000000000000000000")
    expect(page.get_by_role("heading", level=1)).to_have_text("Key not found")
    expect(page.get_by_text("There is no such key in this organization.")).to_be_visible()
