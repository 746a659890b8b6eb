"""The one seam through which the store reads the time. Tests move it instead of sleeping."""

from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (``None`` restores the real clock)."""
    global _source
    _source = source or (lambda: datetime.now(UTC))


def iso(value: datetime | None) -> str | None:
    """ISO 8601 for JSON, ``None`` stays ``None``."""
    return value.isoformat() if value else None
