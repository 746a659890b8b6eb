"""``UTCDateTime`` reads back exactly the instant written, as an aware UTC datetime, on
SQLite (which keeps text without an offset) and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta, timezone

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
