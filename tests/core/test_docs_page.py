"""``/docs``: served from our own origin only, and it really renders both documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Gunicorn

CHROMIUM = "/usr/bin/chromium"
ASSETS = ["/docs", "/docs/docs.js", "/docs/docs.css"]


@pytest.mark.parametrize("path", ASSETS)
def test_docs_assets_are_served_under_a_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("path", ASSETS)
def test_docs_reference_nothing_outside_our_origin(client, path):
    text = client.get(path).get_data(as_text=True)
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
    assert "<script>" not in text  # no inline script: the CSP would block it anyway


def test_unknown_docs_asset_is_a_404_envelope(client):
    response = client.get("/docs/../app.py")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


@pytest.fixture
def live(app, server_env, tmp_path) -> Iterator[Gunicorn]:
    server = Gunicorn(server_env, workers=1, log_path=tmp_path / "gunicorn.log")
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.server
def test_docs_page_renders_both_documents_offline(live, tmp_path: Path):
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{live.url}/docs")
            page.wait_for_selector("#content[data-loaded='/api/v1/openapi.json']")
            assert page.locator("section.operation").count() >= 10
            assert "messages:write" in page.inner_text("#content")
            page.click("button[data-document='/console/openapi.json']")
            page.wait_for_selector("#content[data-loaded='/console/openapi.json']")
            assert "/console/keys/{key_id}/rotate" in page.inner_text("#content")
            assert errors == []
        except Exception:
            page.screenshot(path=str(tmp_path / "docs-failure.png"))
            raise
        finally:
            browser.close()
    assert requested and all(url.startswith(live.url) for url in requested), requested
