"""The database's change counter: the truth behind cache invalidation across instances.

Every key or license change bumps one row (``keystore_changes``) in the same transaction as
the change itself, so the counter moves exactly when a change becomes visible, and nothing can
lose it: it is committed or the change is not.

``CountedSignal`` makes that counter the generation the verified-key cache is tagged with.
Each process reads it at most every ``POLL_SECONDS`` (one primary-key read, and only while the
process serves requests), and at once when the Redis channel says that something changed or
that it has just (re)subscribed. So:

- while Redis is healthy, the announcement sits in every subscriber's socket before the
  changing request has answered, and the next request anywhere reads the new counter;
- under any Redis fault (down, stalled, reachable by some processes and not by others) a
  lost, late or never-sent announcement costs at most ``POLL_SECONDS``: a request that starts
  later than that after the commit has read the new counter.

The channel only ever makes the counter be read sooner; it never decides alone what to trust.
A process that cannot read the counter (database unreachable) keeps the last value while its
subscription is up and has announced nothing since: no change can be committed where nobody
reaches the database, and one committed elsewhere is announced. Otherwise it reports an
unknown generation, and the verifier reads the database itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select, update

from tenants import events
from tenants.audit import AUDIT
from tenants.models import KeyStoreChanges
from tenants.sessions import DbSession

log = logging.getLogger("loopwave.signal")

POLL_SECONDS = 1.0
_ROW = 1


# The bump: one statement, built once (``events.write`` caches what it is a part of by it).
_BUMP = (
    update(KeyStoreChanges)
    .where(KeyStoreChanges.id == _ROW)
    .values(generation=KeyStoreChanges.generation + 1)
)


def record_change(
    session: DbSession,
    outbox: Sequence[dict[str, Any]] = (),
    audit_entries: Sequence[dict[str, Any]] = (),
) -> None:
    """Bump the counter in the caller's transaction, as its last statement: the row lock it
    takes is then held only for the commit, and never waited for while holding another.

    The change's events (``outbox``: ``events.new_event`` rows), with their webhook
    deliveries, and its audit entries (``audit.entry`` rows) are written by the same
    statement on PostgreSQL (``events.write``): a key change pays one round trip for all of
    them rather than one each. The session's pending ORM changes are flushed before it.
    """
    beside = [(AUDIT, row) for row in audit_entries]
    bumped = events.write(session, outbox, beside=beside, then=_BUMP)
    if bumped.rowcount == 0:  # the migration seeds the row; a database restored without it
        session.execute(insert(KeyStoreChanges).values(id=_ROW, generation=1))


def read_generation(engine: Engine) -> int:
    """The counter now, on a connection of its own (never inside a request's transaction)."""
    with engine.connect() as connection:
        found = connection.scalar(
            select(KeyStoreChanges.generation).where(KeyStoreChanges.id == _ROW)
        )
    return found or 0


class Channel(Protocol):
    """What ``CountedSignal`` needs from the announcements (``tenants.redis_signal``)."""

    def heard(self) -> bool:
        """True once per announcement or (re)subscription since the last call; never blocks
        longer than a reconnect attempt's socket timeouts."""

    @property
    def listening(self) -> bool:
        """The subscription is confirmed and its connection has not failed."""

    def bump(self) -> None: ...

    def wait_announced(self, timeout: float) -> bool: ...


class CountedSignal:
    """The ``Signal`` of a deployment with Redis: the database's counter, read every
    ``poll_seconds`` and whenever the channel announces a change."""

    def __init__(
        self,
        read: Callable[[], int],
        channel: Channel,
        poll_seconds: float | None = None,
    ):
        self._read = read
        self._channel = channel
        # ``POLL_SECONDS`` as it is when the signal is made (``bench/callgrind.py`` sets it).
        self._poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self._generation: int | None = None
        self._next_poll = 0.0
        self._read_failed = False

    def current(self) -> int | None:
        heard = self._channel.heard()
        now = time.monotonic()
        if heard or now >= self._next_poll:
            self._poll(now, heard)
        if self._read_failed and not self._channel.listening:
            return None
        return self._generation

    def bump(self) -> None:
        self._channel.bump()

    def wait_announced(self, timeout: float) -> bool:
        return self._channel.wait_announced(timeout)

    def _poll(self, now: float, heard: bool) -> None:
        self._next_poll = now + self._poll_seconds
        try:
            self._generation = self._read()
        except Exception as exc:  # noqa: BLE001 - any failure: the counter is unknown now
            if not self._read_failed:
                log.warning("cannot read the key store's change counter: %s", exc)
            self._read_failed = True
            if heard:  # a change was announced that this process cannot read
                self._generation = None
            return
        if self._read_failed:
            log.warning("key store change counter readable again")
        self._read_failed = False
