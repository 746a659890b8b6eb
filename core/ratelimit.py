"""Per-key rate limits through Flask-Limiter: Redis storage with ``REDIS_URL``, memory without.

Flask-Limiter checks its limits in an app-level ``before_request``, which runs before the
tenant API's authentication, when the key is not yet known. So the per-key limit is declared
on a small callable instead, which the authentication hook calls once the key is verified
(Flask-Limiter's documented way of limiting any callable, not only views). Its storage
window is moving, so a burst cannot double up across a window boundary.

Redis unreachable: Flask-Limiter falls back to per-process in-memory windows (a warning is
logged) and returns to Redis when it answers again. Limits then hold per worker process
rather than per key across the fleet; requests are never refused because Redis is down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g
from flask_limiter import Limiter

RATE_LIMIT = "loopwave.rate_limit"


@dataclass(frozen=True, slots=True)
class _Subject:
    key_id: str
    per_minute: int


def init_rate_limits(app: Flask) -> None:
    """Build this app's limiter and store the check that ``enforce_rate_limit`` runs."""
    redis_url = app.config["REDIS_URL"]
    limiter = Limiter(
        key_func=_subject_key,
        storage_uri=redis_url or "memory://",
        storage_options={"socket_connect_timeout": 0.25, "socket_timeout": 0.5}
        if redis_url
        else {},
        strategy="moving-window",
        key_prefix="loopwave",
        headers_enabled=True,
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )
    limiter.init_app(app)

    @limiter.limit(_limit_value, key_func=_subject_key, exempt_when=_unlimited, scope="api-key")
    def check() -> None:
        """The limit is counted by the decorator; the body has nothing left to do."""

    app.extensions[RATE_LIMIT] = check


def enforce_rate_limit(key_id: str, own_limit: int | None) -> None:
    """Count one request for ``key_id``; 429 ``RATE_LIMITED`` (raised by Flask-Limiter, shaped
    by the error handlers, headers added by Flask-Limiter) once its per-minute limit is used.

    ``own_limit`` is the key's ``rate_limit_per_minute``; ``None`` means the configured
    default, ``0`` means unlimited.
    """
    per_minute = current_app.config["RATE_LIMIT_PER_MINUTE"] if own_limit is None else own_limit
    g.rate_limit_subject = _Subject(key_id, per_minute)
    check: Callable[[], None] = current_app.extensions[RATE_LIMIT]
    check()


def _subject() -> _Subject:
    subject = g.get("rate_limit_subject")
    if subject is None:
        raise RuntimeError("enforce_rate_limit must run after authentication")
    return subject


def _subject_key() -> str:
    return _subject().key_id


def _limit_value() -> str:
    """Also read (not applied) by Flask-Limiter's own before_request, which remembers that
    this endpoint calls a limited function: there, before authentication, no subject exists
    yet, and raising would make Flask-Limiter give up on Redis for in-memory windows."""
    subject = g.get("rate_limit_subject")
    per_minute = subject.per_minute if subject else current_app.config["RATE_LIMIT_PER_MINUTE"]
    return f"{max(per_minute, 1)} per minute"


def _unlimited() -> bool:
    return _subject().per_minute <= 0
