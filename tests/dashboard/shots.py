"""Pictures of a page state, as test_audit_browser.py takes them: into docs/screenshots/ with
REFRESH_SCREENSHOTS=1, else test-artifacts/. Each test names only the states it adds."""

from __future__ import annotations

import os

from playwright.sync_api import Page

from tests.servers import ROOT

SHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("REFRESH_SCREENSHOTS") == "1"
    else ROOT / "test-artifacts" / "readme-screenshots"
)
WIDTHS = {"desktop": (1280, 800), "mobile": (360, 740)}


def use_width(page: Page, width: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))


def shoot(page: Page, name: str, width: str) -> None:
    """``docs/screenshots/<name>-<width>.png``: the whole page, or the screen with a dialog."""
    if page.locator("#toasts").count():
        page.locator("#toasts").evaluate("el => el.replaceChildren()")
    SHOTS.mkdir(parents=True, exist_ok=True)
    full = not page.locator("dialog[open]").count()
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=full)


def sideways_scroll(page: Page) -> int:
    """How far the page is wider than the viewport (0: no horizontal scroll)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
