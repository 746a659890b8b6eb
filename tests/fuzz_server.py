"""Live servers to fuzz: a tenant, a key with every scope, an admin session token, gunicorn.

The session token comes from the development sign-in (``DEV_LOGIN=1``, ``POST /dev-login/token``),
which mints tokens verified by the same code path as any identity provider's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from flask_migrate import upgrade

from app import create_app
from console.devlogin import DEV_ISSUER
from core.extensions import db, keystore
from tests.conftest import TEST_ACTOR
from tests.fuzz import Target
from tests.servers import Gunicorn

FUZZ_ENV = {
    "LOOPWAVE_IGNORE_DOTENV": "1",
    "APP_ENV": "development",
    "SECRET_KEY": "fuzz-secret-key",
    "RATE_LIMIT_PER_MINUTE": "0",
    "USAGE_FLUSH_SECONDS": "1",
    "DEV_LOGIN": "1",
}
ORG_ID = "org_fuzz"


def fuzz_env(workdir: Path) -> dict[str, str]:
    return {
        **FUZZ_ENV,
        "DATABASE_URL": f"sqlite:///{workdir / 'fuzz.db'}",
        "LOOPWAVE_INSTANCE_PATH": str(workdir / "instance"),
    }


def seed_tenant_key() -> str:
    """A tenant and a key holding every scope, in the database of the current app."""
    store = keystore.get()
    tenant = store.create_tenant("Fuzz", external_id=ORG_ID, issuer=DEV_ISSUER)
    return store.create_key(tenant.id, "fuzz", TEST_ACTOR, ["*"]).full_key


def api_target(base_url: str, key: str) -> Target:
    return Target(base_url, "/api/v1/openapi.json", {"tenantApiKey": {"api_key": key}})


def console_target(base_url: str, org_id: str) -> Target:
    """The console document, with an admin session token of ``org_id`` from dev sign-in."""
    minted = requests.post(
        f"{base_url}/dev-login/token",
        json={"user_id": "user_fuzz", "org_id": org_id, "role": "admin"},
        timeout=10,
    )
    minted.raise_for_status()
    token = minted.json()["token"]
    return Target(base_url, "/console/openapi.json", {"consoleSession": {"bearer": token}})


@contextmanager
def live_targets(workdir: Path) -> Iterator[list[Callable[[], Target]]]:
    env = fuzz_env(workdir)
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        upgrade()
        key = seed_tenant_key()
        db.engine.dispose()
    server = Gunicorn(env, workers=2, log_path=workdir / "gunicorn.log")
    try:
        # Factories: each target is made when its run starts (session tokens expire).
        yield [lambda: api_target(server.url, key), lambda: console_target(server.url, ORG_ID)]
    finally:
        server.stop()
