"""A page object for the dashboard: what a tenant admin does, in the words of the UI."""

from __future__ import annotations

import re

import requests
import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from core.extensions import db
from tenants.models import ApiKey, KeyUsage


class Dashboard:
    def __init__(self, page: Page, base_url: str):
        self.page = page
        self.base_url = base_url

    def health(self, key: str) -> requests.Response:
        """``GET /api/v1/health`` with ``key``, as a tenant server would call it."""
        return requests.get(
            f"{self.base_url}/api/v1/health", headers={"x-tenant-api-key": key}, timeout=10
        )

    def wait_for_usage(self, key: str, requests: int, attempts: int = 100) -> None:
        """Wait until ``requests`` requests made with ``key`` are in the database. The serving
        process writes its usage counts once the response has gone (``call_on_close``), so a
        page opened right after the call may be answered before they are there: a usage chart
        loaded then would miss them. Read through a connection of its own (no stale snapshot)."""
        counted = (
            sa.select(sa.func.coalesce(sa.func.sum(KeyUsage.requests), 0))
            .join(ApiKey, ApiKey.id == KeyUsage.key_id)
            .where(ApiKey.last4 == key[-4:])
        )
        for _ in range(attempts):
            with db.engine.connect() as connection:
                written = connection.scalar(counted)
            if written >= requests:
                break
            self.page.wait_for_timeout(50)
        assert written == requests, f"{written} requests counted for …{key[-4:]}, not {requests}"

    def open(self, path: str = "/") -> None:
        self.page.goto(f"{self.base_url}{path}")

    def sign_in(
        self,
        org_id: str,
        role: str = "admin",
        user_id: str = "user_alice",
        org_slug: str = "",
        permissions: tuple[str, ...] = (),
    ) -> None:
        self.open("/")
        form = self.page.locator("#dev-sign-in")
        form.get_by_label("User id").fill(user_id)
        form.get_by_label("Organization id").fill(org_id)
        form.get_by_label("Organization slug").fill(org_slug)
        form.get_by_label("Role").select_option(role)
        if role != "admin":
            for box in form.locator("input[name=permissions]").all():
                box.set_checked(box.get_attribute("value") in permissions)
        form.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#identity-role")).to_have_text(role.capitalize())

    def sign_out(self) -> None:
        """Sign out through the account menu of the top bar."""
        self.page.get_by_role("button", name=re.compile(r"^Account: ")).click()
        self.page.get_by_role("menuitem", name="Sign out").click()
        expect(self.page.locator("#dev-sign-in")).to_be_visible()

    def open_until_alerts(self, path: str, count: int, attempts: int = 30) -> Locator:
        """Open ``path`` until ``count`` alerts show: a decoy's use is written by the serving
        process's usage flush, off the request thread (within USAGE_FLUSH_SECONDS, at least a
        second), so the first page loaded after the use may not have its event yet."""
        alerts = self.page.locator("#alerts .alert")
        for _ in range(attempts):
            self.open(path)
            expect(self.page.locator("#alerts[data-loaded]")).to_have_count(1)
            if alerts.count() == count:
                break
            self.page.wait_for_timeout(300)
        expect(alerts).to_have_count(count)
        return alerts

    def row(self, name: str) -> Locator:
        return self.page.locator("#keys-table tbody tr").filter(
            has=self.page.locator(".key-name", has_text=name)
        )

    def open_create_dialog(self, name: str, scopes: list[str] | None = None) -> Locator:
        self.page.get_by_role("button", name="Create key").click()
        dialog = self.page.get_by_role("dialog", name=re.compile(r"^Create an? (test )?API key$"))
        dialog.get_by_label("Name").fill(name)
        if scopes:
            dialog.get_by_label("All scopes").uncheck()
            for scope in scopes:
                dialog.get_by_label(scope, exact=True).check()
        return dialog

    def create_key(self, name: str, scopes: list[str] | None = None) -> str:
        """Create a key through the dialog; return the secret read from the show-once dialog."""
        self.open_create_dialog(name, scopes).get_by_role("button", name="Create key").click()
        secret = self.read_and_close_secret()
        expect(self.row(name).first).to_be_visible()  # the list has been refreshed
        return secret

    def read_and_close_secret(self) -> str:
        secret_dialog = self.page.locator("dialog.dialog-secret")
        secret = secret_dialog.get_by_test_id("new-key").input_value()
        secret_dialog.get_by_role("button", name="Done, I have stored it").click()
        expect(self.page.locator("dialog")).to_have_count(0)
        # Closing starts the list's refresh in the same task: wait for it to be drawn.
        expect(self.page.locator("[aria-busy=true]")).to_have_count(0)
        return secret

    def menu_button(self, name: str) -> Locator:
        return self.row(name).get_by_role("button", name=f"Actions for {name}")

    def action(self, name: str, label: str) -> None:
        self.menu_button(name).click()
        self.row(name).get_by_role("menuitem", name=label).click()

    def confirm(self, label: str) -> None:
        self.page.get_by_role("dialog").get_by_role("button", name=label).click()
        expect(self.page.locator("dialog")).to_have_count(0)
