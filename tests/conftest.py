"""Fixtures: an app per test on a clean database, tenants, keys, a controllable clock.

The database is SQLite by default; ``TEST_DATABASE_URL`` (CI: the local PostgreSQL) runs the
same suite against another one. The schema is built by the Alembic migrations, never by
``create_all``, so every run exercises them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from app import create_app
from core.extensions import db, keystore
from tenants import clock as clock_module
from tenants.audit import Actor
from tenants.models import Base, KeyStoreChanges, Tenant
from tests.redis_service import RUN_NAMESPACE

TEST_ACTOR = Actor(sub="user_test_admin", request_id="req_test", source_ip="127.0.0.1")


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


@contextmanager
def new_database(sqlite_file: Path) -> Iterator[str]:
    """An empty database of its own, of the run's kind: the SQLite file, or with
    ``TEST_DATABASE_URL`` a new PostgreSQL database beside that one, dropped at the end."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{sqlite_file}"
        return
    server = sa.engine.make_url(url)
    name = f"lwtest_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:  # fails loudly when PostgreSQL is unreachable
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(instance_path: Path) -> Iterator[str]:
    """The run's database: two runs on one machine never share tables."""
    with new_database(instance_path / "test.db") as url:
        yield url


@pytest.fixture
def scratch_database_url(migrated, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test alone (migration tests build it revision by revision)."""
    with new_database(tmp_path / "scratch.db") as url:
        yield url


@pytest.fixture(scope="session")
def server_env(database_url: str, instance_path: Path) -> dict[str, str]:
    """The environment of every app the tests build, in process or under gunicorn."""
    env = {
        "DATABASE_URL": database_url,
        "LOOPWAVE_INSTANCE_PATH": str(instance_path),
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "APP_ENV": "development",
        "SECRET_KEY": "test-secret-key",
        "USAGE_FLUSH_SECONDS": "0",
        "REDIS_NAMESPACE": RUN_NAMESPACE,
    }
    for name in (
        "REDIS_URL",
        "DEV_LOGIN",
        "CONSOLE_ISSUER",
        "CONSOLE_JWKS_URL",
        "CONSOLE_AUTHORIZED_PARTIES",
        "CONSOLE_AUDIENCE",
        "CONSOLE_IDPS",
        "LOG_FORMAT",
    ):
        os.environ.pop(name, None)
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def migrated(server_env: dict[str, str]) -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture
def app_config() -> dict:
    """Config over the environment's for the ``app`` fixture; test packages override it."""
    return {}


@pytest.fixture
def app(migrated, server_env, app_config) -> Iterator[Flask]:
    app = create_app({"TESTING": True, **app_config})
    reset_auth_failure_counts(Path(app.instance_path))
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


def reset_auth_failure_counts(instance_path: Path) -> None:
    """Forget the failed authentications counted on this machine (``core.authfailures``): the
    counts outlive an app, and every test of a run shares the instance folder."""
    counts = instance_path / "authfailures.counts"
    if counts.exists():
        with open(counts, "r+b") as handle:
            handle.write(bytes(counts.stat().st_size))


def _empty_tables() -> None:
    """Every table but the change counter, whose one row the migration seeds: a counter that
    went back could repeat a value a running instance cached an entry under."""
    tables = [
        table
        for table in reversed(Base.metadata.sorted_tables)
        if table.name != KeyStoreChanges.__tablename__
    ]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        # A live server of an earlier test (its usage flush, a worker) may still be writing:
        # TRUNCATE then takes its table locks against that writer's, and PostgreSQL may abort
        # it as a deadlock victim. The writer finishes in milliseconds; try again.
        for attempt in range(5):
            try:
                db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
                break
            except sa.exc.OperationalError as error:
                db.session.rollback()
                if attempt == 4 or getattr(error.orig, "sqlstate", None) != "40P01":  # deadlock
                    raise
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app):
    return keystore.get()


@pytest.fixture
def tenant(store) -> Tenant:
    return store.create_tenant("Acme")


@pytest.fixture
def other_tenant(store) -> Tenant:
    return store.create_tenant("Globex")


@pytest.fixture
def api_key(store, tenant) -> Callable[..., str]:
    """``api_key(scopes=[...], tenant=..., **fields)`` issues a key and returns the full secret."""

    def issue(
        scopes: list[str] | None = None, tenant: Tenant = tenant, name: str = "test key", **fields
    ) -> str:
        return store.create_key(tenant.id, name, TEST_ACTOR, scopes, **fields).full_key

    return issue


class Clock:
    """A clock the test moves by hand: ``clock.advance(seconds=90)``."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    clock_module.set_source(fake)
    yield fake
    clock_module.set_source(None)
