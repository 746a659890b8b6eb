"""Shared set-up of the migration tests: an app and an engine on a scratch database that is
upgraded to a revision first, a step to migrate it on, and a plain row insert."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from app import create_app
from core.extensions import db

NOW = "2026-11-01 00:00:00+00:00"


def migrate(app: Flask, step: Callable[..., None], revision: str) -> None:
    """Run ``step`` (``upgrade`` or ``downgrade``) to ``revision`` and drop the app's pool."""
    with app.app_context():
        step(revision=revision)
        db.engine.dispose()


@contextmanager
def database_at(url: str, revision: str) -> Iterator[tuple[Flask, sa.Engine]]:
    """An app and an engine on ``url``, upgraded to ``revision``; the engine is disposed after."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    engine = sa.create_engine(url)
    try:
        migrate(app, upgrade, revision)
        yield app, engine
    finally:
        engine.dispose()


def insert(connection, table: str, **values) -> None:
    columns = ", ".join(values)
    connection.execute(
        sa.text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values)})"),
        values,
    )


def insert_key(connection, key_id: str, **values) -> None:
    """A key of tenant ``ten_1`` with the columns every revision has, plus ``values``."""
    row = {
        "id": key_id,
        "tenant_id": "ten_1",
        "name": "k",
        "key_hash": key_id.ljust(64, "0"),
        "display_start": "lw_live_AbCd",
        "last4": "abcd",
        "scopes": '["*"]',
        "enabled": True,
        "created_at": NOW,
    }
    insert(connection, "api_keys", **(row | values))
