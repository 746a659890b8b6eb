"""Browser fixtures: the app under gunicorn with DEV_LOGIN, headless Debian Chromium, a page.

Chromium is the system one (``/usr/bin/chromium``; ``make test`` installs it). It is never
downloaded by Playwright. A test that fails saves a screenshot under
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.dashboard.pages import Dashboard
from tests.servers import ROOT, Gunicorn

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(scope="session")
def dashboard_server(server_env, migrated, tmp_path_factory) -> Iterator[Gunicorn]:
    log = tmp_path_factory.mktemp("dashboard") / "gunicorn.log"
    server = Gunicorn(
        {**server_env, "DEV_LOGIN": "1", "WEBHOOK_ALLOW_PRIVATE": "1"}, workers=2, log_path=log
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `make test` (installs it) as root")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    failed = any(
        getattr(request.node, f"report_{phase}", None) is not None
        and getattr(request.node, f"report_{phase}").failed
        for phase in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def org_id() -> str:
    """A fresh organization (tenant) per test: the server outlives the per-test database reset."""
    return f"org_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dashboard(page: Page, dashboard_server: Gunicorn, app) -> Dashboard:
    """The dashboard in the browser; depends on ``app`` so the database is clean first."""
    return Dashboard(page, dashboard_server.url)
