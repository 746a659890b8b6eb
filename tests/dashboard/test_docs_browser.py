"""``/docs`` in Chromium: it reads offline, fits a phone, and every operation has a link."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 360])
def test_docs_page_reads_offline_and_fits_the_screen(browser: Browser, dashboard_server, width):
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{dashboard_server.url}/docs#post-api-v1-contacts")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        heading = page.locator("#post-api-v1-contacts")
        assert heading.inner_text() == "Create a contact"
        assert page.evaluate("window.scrollY") > 0, "the operation's link lands on it"
        page.locator("#docs-toc").get_by_role("link", name="Errors", exact=True).click()
        assert page.url.endswith("#errors")
        literal = "els => els.filter(e => e.textContent.includes('`')).length"
        assert page.eval_on_selector_all("#content :is(p, li, td, h2, h3, h4)", literal) == 0
        assert errors == []
    finally:
        context.close()
    assert requested and all(url.startswith(dashboard_server.url) for url in requested), requested
