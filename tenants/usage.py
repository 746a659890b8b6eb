"""Per-key request counts by day, endpoint and outcome, and ``last_used_at``, buffered in the
process (SPEC §9.4).

Counting must not cost the hot path a database write, so each process adds requests up in
memory and writes them out every ``flush_seconds``: after a response once that much time has
passed, and from a small daemon thread when the process serves nothing more. That thread
also runs the process's periodic housekeeping (``add_periodic``).
``last_used_at`` is written at most once per key per minute across all processes: the update
itself only matches rows whose value is older than that. ``last_used_ip``, the client address
of the last use a process saw, is written with it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tenants import clock, metrics
from tenants.models import ApiKey, KeyUsage

LAST_USED_RESOLUTION = timedelta(minutes=1)
SECONDS_PER_DAY = 86_400
# (tenant id, key id, day, endpoint, outcome) -> requests
Counts = Counter[tuple[str, str, date, str, str]]

# What became of a counted request (SPEC §9.4); the response model names the same type.
Outcome = Literal[
    "success",
    "client_error",
    "unauthorized",
    "forbidden",
    "rate_limited",
    "license_blocked",
    "server_error",
]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
_OUTCOME_BY_STATUS = {401: "unauthorized", 402: "license_blocked", 403: "forbidden"}
_OUTCOME_BY_STATUS[429] = "rate_limited"


def outcome_of(status: int | None) -> str:
    """The outcome of an answer's status: no answer at all is a server error."""
    if status is None or status >= 500:
        return "server_error"
    if status < 400:
        return "success"
    return _OUTCOME_BY_STATUS.get(status, "client_error")


LastUses = dict[str, tuple[datetime, str | None]]  # key id -> (used at, client address)


log = logging.getLogger("loopwave.usage")


# Decoy uses (SPEC §11) waiting for the next flush, per process. While the database is away
# they pile up; beyond this many, later uses are dropped (and counted, and logged): the first
# ones say when the tripwire was hit and from where, and memory stays bounded under a flood.
MAX_DEFERRED = 10_000


class UsageBuffer:
    def __init__(
        self,
        engine: Callable[[], Engine],
        flush_seconds: int = 5,
        max_deferred: int = MAX_DEFERRED,
    ):
        self._engine = engine
        self._flush_after = float(flush_seconds)
        self._counts: Counts = Counter()
        self._last_used: dict[str, tuple[float, str | None]] = {}  # key id -> (epoch s, ip)
        self._last_flush = clock.timestamp()
        self._today = (0.0, 0.0, date.min)  # start and end (epoch seconds) of the UTC day
        self._lock = threading.Lock()
        self._flusher_started = False
        self._periodic: list[_Periodic] = []
        self._deferred: list[Callable[[Session], object]] = []
        self._max_deferred = max_deferred
        self.dropped_deferred = 0  # writes refused since start: the queue was full

    def record(
        self,
        tenant_id: str,
        key_id: str,
        endpoint: str,
        now: float,
        status: int | None,
        client_ip: str | None = None,
        used: bool = True,
    ) -> None:
        """Count one request of ``key_id`` to ``endpoint`` (``POST /api/v1/messages``) from
        ``client_ip`` that came in at ``now`` (``clock.timestamp()``, read once per request
        by the caller) and was answered with ``status``.

        On every API request, once it has been answered: epoch seconds rather than
        datetimes, and the UTC day looked up from the last one seen.
        """
        starts, ends, day = self._today
        if not starts <= now < ends:
            day = self._enter_day(now)
        outcome = "success" if status is not None and status < 400 else outcome_of(status)
        with self._lock:
            self._counts[(tenant_id, key_id, day, endpoint, outcome)] += 1
            if used:  # not for a key refused before it could act (revoked, wrong address)
                self._last_used[key_id] = (now, client_ip)
        if not self._flusher_started:
            self._start_flusher()

    def defer(self, write: Callable[[Session], object]) -> None:
        """A database write taken off the request thread (a decoy key's use, SPEC §11): done
        by the next flush, in a transaction of its own; kept for the next one if it fails."""
        with self._lock:
            if len(self._deferred) >= self._max_deferred:
                self.dropped_deferred += 1
                dropped = self.dropped_deferred
            else:
                self._deferred.append(write)
                dropped = 0
        if dropped:
            log.warning("deferred writes queue full (%d): %d dropped", self._max_deferred, dropped)
        if not self._flusher_started:
            self._start_flusher()

    def flush_due(self, now: float) -> bool:
        """True when the buffered counts are due for a flush after this response."""
        return now - self._last_flush >= self._flush_after

    def _enter_day(self, now: float) -> date:
        starts = now - now % SECONDS_PER_DAY
        day = datetime.fromtimestamp(starts, UTC).date()
        self._today = (starts, starts + SECONDS_PER_DAY, day)
        return day

    def _start_flusher(self) -> None:
        """A daemon thread per process that writes counts a worker holds while it serves no
        further requests; busy workers flush after responses. Started on the first request:
        gunicorn builds the app in each worker after the fork (no ``preload_app``), and so
        does the single-process server, so the thread always lives in the serving process."""
        self._flusher_started = True
        interval = max(self._flush_after, 1.0)
        threading.Thread(
            target=_flush_periodically,
            args=(weakref.ref(self), interval),
            name="usage-flush",
            daemon=True,
        ).start()

    def add_periodic(self, task: Callable[[], object], every_seconds: float) -> None:
        """Run ``task`` from this process's flusher thread about every ``every_seconds``.

        Housekeeping rides on this thread because it already runs in every deployment shape
        (``flask run``, any number of gunicorn workers and instances) with nothing more to
        deploy. The first run falls at a random point of the first interval, so processes
        started together do not all run it at once.
        """
        first_due = clock.timestamp() + random.uniform(0, every_seconds)  # noqa: S311 - spread, not secrecy
        self._periodic.append(_Periodic(task, every_seconds, first_due))

    def run_due_tasks(self) -> None:
        """Run the periodic tasks that are due; a failing one is logged and tried again later."""
        now = clock.timestamp()
        for periodic in self._periodic:
            if now < periodic.due:
                continue
            periodic.due = now + periodic.every_seconds
            try:
                periodic.task()
            except Exception as exc:  # noqa: BLE001 - housekeeping must never stop the thread
                log.warning("periodic task %s failed: %s", periodic.name, exc)

    def flush(self) -> None:
        """Write the buffered counts; on failure they are kept for the next attempt."""
        counts, last_used = self._take()
        if counts:
            self._write_or_restore(counts, last_used)
        self.write_deferred()

    def write_deferred(self) -> None:
        """Run the queued writes, each in a transaction of its own; on failure the rest are
        kept for the next flush."""
        with self._lock:
            deferred, self._deferred = self._deferred, []
        for done, write in enumerate(deferred):
            try:
                with Session(self._engine()) as session, session.begin():
                    write(session)
            except Exception:
                with self._lock:
                    self._deferred[:0] = deferred[done:]
                raise

    def flush_quietly(self) -> None:
        """``flush`` after a response: a database outage is logged, never raised."""
        failed = False
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - counts are kept; the response is gone
            failed = True
            log.warning("usage flush failed, counts kept for the next attempt: %s", exc)
        metrics.usage_backlog(sum(self._counts.values()), failed)

    def _take(self) -> tuple[Counts, LastUses]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
            last_used, self._last_used = self._last_used, {}
            self._last_flush = clock.timestamp()
        return counts, {
            key_id: (datetime.fromtimestamp(at, UTC), ip) for key_id, (at, ip) in last_used.items()
        }

    def _restore(self, counts: Counts, last_used: LastUses) -> None:
        with self._lock:
            self._counts.update(counts)
            for key_id, (used_at, ip) in last_used.items():
                self._last_used.setdefault(key_id, (used_at.timestamp(), ip))

    def _write_or_restore(self, counts: Counts, last_used: LastUses) -> None:
        try:
            write_usage(self._engine(), counts, last_used)
        except Exception:
            self._restore(counts, last_used)
            raise


@dataclass
class _Periodic:
    task: Callable[[], object]
    every_seconds: float
    due: float  # clock.timestamp() of the next run

    @property
    def name(self) -> str:
        return getattr(getattr(self.task, "func", self.task), "__qualname__", repr(self.task))


def _flush_periodically(buffer_ref: weakref.ref[UsageBuffer], interval: float) -> None:
    """Flush every ``interval`` seconds until the buffer (its app) is gone."""
    while True:
        time.sleep(interval)
        buffer = buffer_ref()
        if buffer is None:
            return
        if buffer._counts or buffer._deferred:
            buffer.flush_quietly()
        buffer.run_due_tasks()
        del buffer


def write_usage(engine: Engine, counts: Counts, last_used: LastUses) -> None:
    """Add ``counts`` to the daily rows and move ``last_used_at`` (and ``last_used_ip``)
    forward, in one transaction."""
    with Session(engine) as session, session.begin():
        _add_counts(session, counts)
        _touch_last_used(session, last_used)


def _add_counts(session: Session, counts: Counts) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Counts of a key deleted since they were taken (its tenant removed, a test database
    # reset) are dropped: kept, they would fail every later flush on the foreign key, and
    # every usage report with it, since a report flushes first.
    key_ids = {key_id for _, key_id, *_ in counts}
    present = set(session.scalars(select(ApiKey.id).where(ApiKey.id.in_(key_ids))))
    if present != key_ids:
        log.warning("usage of %d deleted key(s) dropped", len(key_ids - present))
    for (tenant_id, key_id, day, endpoint, outcome), requests in sorted(counts.items()):
        if key_id not in present:
            continue
        statement = insert(KeyUsage).values(
            tenant_id=tenant_id,
            key_id=key_id,
            day=day,
            endpoint=endpoint,
            outcome=outcome,
            requests=requests,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[KeyUsage.key_id, KeyUsage.day, KeyUsage.endpoint, KeyUsage.outcome],
                set_={"requests": KeyUsage.requests + statement.excluded.requests},
            )
        )


def _touch_last_used(session: Session, last_used: LastUses) -> None:
    for key_id, (used_at, client_ip) in sorted(last_used.items()):
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where(
                or_(
                    ApiKey.last_used_at.is_(None),
                    ApiKey.last_used_at <= used_at - LAST_USED_RESOLUTION,
                )
            )
            .values(last_used_at=used_at, last_used_ip=client_ip)
        )
