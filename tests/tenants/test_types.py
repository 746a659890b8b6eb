"""``UTCDateTime`` reads back exactly the instant written, as an aware UTC datetime, on
SQLite (which keeps text without an offset) and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.extensions import db
from tenants.messaging import create_contact
from tenants.records import Contact

WRITTEN = [
    datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC),  # no microseconds: shorter text on SQLite
    datetime(2026, 11, 30, 14, 30, 5, 7, tzinfo=timezone(timedelta(hours=2))),
]


def test_datetimes_read_back_as_the_same_instant_in_utc(app, tenant, clock):
    for number, instant in enumerate(WRITTEN):
        clock.now = instant
        create_contact(db.session, tenant.id, True, f"C{number}", f"+1415555000{number}", None)
    db.session.expire_all()
    column = Contact.__table__.c.created_at
    read_core = db.session.execute(sa.select(column).order_by(Contact.__table__.c.name)).scalars()
    read_orm = db.session.execute(sa.select(Contact).order_by(Contact.name)).scalars()
    for read in (list(read_core), [contact.created_at for contact in read_orm]):
        assert read == WRITTEN
        assert [value.utcoffset() for value in read] == [timedelta(0)] * len(WRITTEN)
        assert [value.tzinfo for value in read] == [UTC] * len(WRITTEN)


def test_postgresql_sessions_run_in_utc_and_read_utc_values_as_they_come(app, tenant, clock):
    """The app's PostgreSQL connections set their session time zone to ``UTC``
    (``core.database.utc_session``): psycopg then builds every ``timestamptz`` with
    ``datetime.UTC`` itself, which the column's processor passes through (under a zone like
    the server default ``Etc/UTC`` each value was converted, docs/performance.md)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL session setting")
    clock.now = WRITTEN[2]
    create_contact(db.session, tenant.id, True, "C", "+14155550000", None)
    db.session.commit()
    column = Contact.__table__.c.created_at
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
        driver = connection.connection.driver_connection
        assert driver.execute("SELECT created_at FROM contacts").fetchone()[0].tzinfo is UTC
        assert connection.execute(sa.select(column)).scalar() == WRITTEN[2]
        # A session in another zone (set by other code, say) still reads UTC values.
        connection.exec_driver_sql("SET TIME ZONE 'Europe/Berlin'")
        assert driver.execute("SELECT created_at FROM contacts").fetchone()[0].tzinfo is not UTC
        value = connection.execute(sa.select(column)).scalar()
        assert value == WRITTEN[2] and value.tzinfo is UTC
        connection.rollback()
