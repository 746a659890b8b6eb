"""The one seam through which the store reads the time. Tests move it instead of sleeping."""

import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime

# ``None``: the real clock. Tests install a callable returning timezone-aware datetimes.
_source: Callable[[], datetime] | None = None
# What ``timestamp`` returns: the real clock's, the source's, or a stopped clock's constant.
_timestamp: Callable[[], float] = time.time


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC) if _source is None else _source()


def timestamp() -> float:
    """The current time in seconds since the epoch: ``now()`` without building a datetime,
    for the per-request hot path."""
    return _timestamp()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Replace the time source (``None`` restores the real clock)."""
    global _source, _timestamp
    _source = source
    _timestamp = time.time if source is None else (lambda: source().timestamp())


def stop_at(moment: datetime) -> None:
    """Stop the clock at ``moment`` (timezone-aware): ``now()`` returns it and ``timestamp()``
    its seconds, computed once here, so a stopped clock costs a request no more than the real
    one (``bench/callgrind.py``: a region's count must not include the frozen source's own
    work)."""
    global _timestamp
    set_source(lambda: moment)
    # A C-level callable returning the same float forever: no Python frame per call.
    _timestamp = itertools.repeat(moment.timestamp()).__next__


def iso(value: datetime | None) -> str | None:
    """ISO 8601 for JSON, ``None`` stays ``None``."""
    return value.isoformat() if value else None
