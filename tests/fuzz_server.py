"""A live server to fuzz, for ``make fuzz``: a fresh SQLite database, a tenant, a key, gunicorn."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask_migrate import upgrade

from app import create_app
from core.extensions import db
from core.services import keystore
from tests.conftest import TEST_ACTOR
from tests.fuzz import Target
from tests.servers import Gunicorn

FUZZ_ENV = {
    "LOOPWAVE_IGNORE_DOTENV": "1",
    "APP_ENV": "development",
    "SECRET_KEY": "fuzz-secret-key",
    "RATE_LIMIT_PER_MINUTE": "0",
    "USAGE_FLUSH_SECONDS": "1",
}


def fuzz_env(workdir: Path) -> dict[str, str]:
    return {
        **FUZZ_ENV,
        "DATABASE_URL": f"sqlite:///{workdir / 'fuzz.db'}",
        "LOOPWAVE_INSTANCE_PATH": str(workdir / "instance"),
    }


def seed_tenant_key() -> str:
    """A tenant and a key holding every scope, in the database of the current app."""
    store = keystore()
    tenant = store.create_tenant("Fuzz", external_id="org_fuzz")
    return store.create_key(tenant.id, "fuzz", TEST_ACTOR, ["*"]).full_key


def api_target(base_url: str, key: str) -> Target:
    return Target(base_url, "/api/v1/openapi.json", {"tenantApiKey": {"api_key": key}})


@contextmanager
def live_targets(workdir: Path) -> Iterator[list[Target]]:
    env = fuzz_env(workdir)
    os.environ.update(env)
    app = create_app()
    with app.app_context():
        upgrade()
        key = seed_tenant_key()
        db.engine.dispose()
    server = Gunicorn(env, workers=2, log_path=workdir / "gunicorn.log")
    try:
        yield [api_target(server.url, key)]
    finally:
        server.stop()
