"""The one seam through which the store reads the time. Tests move it instead of sleeping."""

import time
from collections.abc import Callable
from datetime import UTC, datetime

# ``None``: the real clock. Tests install a callable returning timezone-aware datetimes.
_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC) if _source is None else _source()


def timestamp() -> float:
    """The current time in seconds since the epoch: ``now()`` without building a datetime,
    for the per-request hot path."""
    return time.time() if _source is None else _source().timestamp()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (``None`` restores the real clock)."""
    global _source
    _source = source


def iso(value: datetime | None) -> str | None:
    """ISO 8601 for JSON, ``None`` stays ``None``."""
    return value.isoformat() if value else None
