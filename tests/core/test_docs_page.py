"""``/docs``: served from our own origin only, and it really renders both documents."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Gunicorn

CHROMIUM = "/usr/bin/chromium"
ASSETS = ["/docs", "/docs/docs.css"]


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


def test_docs_are_rendered_markdown_with_an_anchor_curl_and_answer_per_operation(client):
    from core.docs import operation_anchor

    html = client.get("/docs").get_data(as_text=True)
    assert "`" not in re.sub(r"<pre>.*?</pre>", "", html, flags=re.S), "literal backticks"
    assert '<nav id="docs-toc"' in html and '<a href="#authentication">' in html
    # Authentication comes first, then the errors, then the resources.
    order = [html.index(f'id="{anchor}"') for anchor in ("authentication", "errors", "tenant-api")]
    assert order == sorted(order)
    assert "<td><code>AUTH_INSUFFICIENT_SCOPE</code></td>" in html
    for document in ("/api/v1/openapi.json", "/console/openapi.json"):
        for path, methods in client.get(document).get_json()["paths"].items():
            for method in methods:
                anchor = operation_anchor(method.upper(), path)
                start = html.index(f'<h4 id="{anchor}">')
                section = html[start : html.find("<h4", start + 1)]
                assert '<code class="language-bash">curl' in section, anchor
                assert '<code class="language-json">' in section, anchor


def test_docs_markdown_never_passes_html_through():
    from core.docs import _markdown

    rendered = _markdown().render("# <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>", {})
    assert "<script>" not in rendered and "<img" not in rendered
    assert "&lt;script&gt;" in rendered


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("width", [1280, 360])
def test_docs_page_reads_offline_and_fits_the_screen(live, tmp_path: Path, width):
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.on("request", lambda request: requested.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{live.url}/docs#post-api-v1-contacts")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.locator("#post-api-v1-contacts").is_visible()
            assert page.evaluate("window.scrollY") > 0, "the operation's link lands on it"
            page.get_by_role("link", name="Errors").first.click()
            assert page.url.endswith("#errors")
            assert "messages:write" in page.inner_text("#content")
            assert errors == []
        except Exception:
            page.screenshot(path=str(tmp_path / "docs-failure.png"))
            raise
        finally:
            browser.close()
    assert requested and all(url.startswith(live.url) for url in requested), requested
