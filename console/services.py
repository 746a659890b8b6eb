"""The console's per-application services as one Flask extension (``console.extensions``):
the identity providers and their token verifier, the tenant directory, the development
sign-in key. ``init_app`` also provides the dashboard's sign-in settings (``core.extensions``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from console.devkey import DevLoginKey
from console.providers import ConsoleAuth, build_console_auth, sign_in_settings
from console.tenancy import TenantDirectory
from core.extensions import sign_in
from core.services import AppService
from tenants.keys import KeyStore


@dataclass(frozen=True)
class ConsoleServices:
    auth: ConsoleAuth
    tenants: TenantDirectory
    dev_login: DevLoginKey | None


class ConsoleAuthService(AppService[ConsoleServices]):
    name = "loopwave.console"

    def init_app(self, app: Flask, store: KeyStore) -> None:
        dev_login = (
            DevLoginKey.load_or_create(app.instance_path) if app.config["DEV_LOGIN"] else None
        )
        auth = build_console_auth(app.config, dev_login.jwks if dev_login else None)
        self._install(app, ConsoleServices(auth, TenantDirectory(store), dev_login))
        sign_in.init_app(app, sign_in_settings(app.config, auth))
