"""Column types that behave the same on SQLite and PostgreSQL."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out, also on SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use tenants.clock.now()")
        return value.astimezone(UTC)

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """On SQLite, one parse straight to an aware datetime per value.

        SQLite keeps the text SQLAlchemy wrote, ``2026-11-30 12:00:00.123456`` (UTC, the offset
        dropped: ``process_bind_param`` converted to UTC first). ``TypeDecorator``'s own
        processor would parse that naive and then call ``process_result_value`` to attach
        UTC: two Python calls per value, which on a page of rows costs more than the rest of
        the row. Appending the offset lets ``datetime.fromisoformat`` do it in one call, to
        the same value. Other databases return aware datetimes: ``process_result_value``.
        """
        if dialect.name != "sqlite":
            return self._aware_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")
            except ValueError:  # text with its own offset, written by other code (old rows)
                return self.process_result_value(parse(value), dialect)

        return process

    def _aware_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """Other databases return aware datetimes: ``process_result_value`` in one call per
        value. ``TypeDecorator``'s own processor is two Python calls (its wrapper, then the
        method); and a value already in ``UTC`` (PostgreSQL sessions are, ``core.database
        .utc_session``) is returned as it is, as ``astimezone(UTC)`` would return it."""
        impl = self.impl_instance.dialect_impl(dialect).result_processor(dialect, coltype)
        if impl is not None:  # a driver whose values need the impl's own processing first
            return super().result_processor(dialect, coltype)
        utc = UTC

        def process(value: datetime | None) -> datetime | None:
            if value is None:
                return None
            zone = value.tzinfo
            if zone is utc:
                return value
            if zone is None:
                return value.replace(tzinfo=utc)
            return value.astimezone(utc)

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
