"""The database path of a request: no pre-ping, dead connections caught without a round trip,
and list reads outside any transaction.

``pool_pre_ping`` costs a round trip (and, on PostgreSQL, a transaction: ``BEGIN``,
``SELECT 1``, ``ROLLBACK``) on every checkout, i.e. on every request that touches the
database; it used to be half of all transactions. Two cheaper mechanisms replace it:

- ``drop_dead_connections`` (a pool ``checkout`` listener, PostgreSQL): an idle connection
  has nothing to read. When its socket is readable, the server has spoken (a terminated
  backend sends its FATAL error and closes) or hung up, and the connection is discarded with
  ``DisconnectionError``, on which SQLAlchemy's pool connects afresh. One non-blocking
  ``select`` per checkout, no round trip. A cut between requests (database restart,
  ``pg_terminate_backend``, a proxy closing idle connections) is thus never seen by a
  request.
- ``read_only`` (list reads): a connection that dies during a request raises a disconnect
  error; SQLAlchemy then invalidates it and every older connection of the pool (its
  ``is_disconnect`` handling), and a read, being idempotent, is run once more on a fresh one.

``read_only`` also runs a read that starts the session's work in autocommit mode: one
statement, one round trip, no ``BEGIN``/``ROLLBACK`` around it. Writes keep their single
transaction (``api.idempotent``): they never go through here. Not on SQLite: its driver
opens no transaction for a ``SELECT``, so there is no round trip to save, and the switch back
to the default level when the connection returns to the pool expired the connection's
prepared statements, which SQLite then parsed anew on every request.
"""

from __future__ import annotations

import select
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from psycopg import pq
from sqlalchemy import Engine, Executable, Row, event
from sqlalchemy.exc import DBAPIError, DisconnectionError

from core.extensions import db

T = TypeVar("T")


def install_connection_checks(engine: Engine) -> None:
    if engine.dialect.name == "postgresql" and not event.contains(
        engine, "checkout", drop_dead_connections
    ):
        event.listen(engine, "checkout", drop_dead_connections)
        event.listen(engine, "connect", utc_session)


def utc_session(dbapi_connection: Any, record: Any) -> None:
    """Pool ``connect``: the new PostgreSQL session's time zone is ``UTC``, once per
    connection (SQLAlchemy's documented pattern for session settings).

    Every timestamp of ours is stored and answered in UTC (``tenants.types.UTCDateTime``).
    psycopg builds each ``timestamptz`` it reads in the session's time zone: under a server
    default like ``Etc/UTC`` that is a ``ZoneInfo``, which each value then converts to
    ``datetime.UTC`` (``astimezone`` asks the zone its offset) and orjson asks again when it
    writes the value. Under ``UTC`` psycopg uses ``datetime.UTC`` itself: the conversion is
    the identity and orjson writes the offset directly. Same instants, same answers; about
    5,700 instructions per row of a list (docs/performance.md, fifth wave). The setting is a
    reported parameter, so a pooler that tracks ``TimeZone`` (PgBouncer) keeps it too.
    """
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
    finally:
        dbapi_connection.autocommit = autocommit


def drop_dead_connections(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pool ``checkout``: discard a psycopg connection the server has spoken on meanwhile.

    An idle connection of ours expects nothing (it never ``LISTEN``s): readable means the
    server ended it (a terminated backend sends its FATAL error, then closes) or, rarely,
    sent a notice; either way a fresh connection is the safe answer, and costs a connect.
    """
    readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    if readable or dbapi_connection.pgconn.status != pq.ConnStatus.OK:
        raise DisconnectionError("the server closed or spoke on an idle connection")


def read_only(query: Callable[[], T]) -> T:
    """Run ``query``, which only reads through ``db.session``: outside any transaction when
    the session has none open yet, and once more on a fresh connection if its connection
    dies under it."""
    try:
        return _autocommit(query)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        db.session.rollback()  # gives the dead connection back; the pool drops it
        return _autocommit(query)


def read_rows(statement: Executable, parameters: dict[str, Any]) -> Sequence[Row[Any]]:
    """All rows of ``statement``, a Core ``SELECT`` (a list read straight into its answer),
    as ``read_only`` reads them, but on a connection of its own when the request holds no
    transaction: no ORM ``Session`` is built, begun and closed around a read that uses none
    of it (no identity map, no instance events; ~70,000 instructions of a contacts page,
    docs/performance.md). In a request that has begun a transaction, on the session's
    connection, so the read sees the request's own writes."""
    registry = db.session.registry
    if registry.has() and registry().in_transaction():
        return db.session.connection().execute(statement, parameters).all()
    try:
        return _own_connection_rows(statement, parameters)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        # The pool has dropped the dead connection (and its older ones): a fresh one.
        return _own_connection_rows(statement, parameters)


def _own_connection_rows(statement: Executable, parameters: dict[str, Any]) -> Sequence[Row[Any]]:
    engine = db.engine
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":  # see ``_autocommit``
            connection.execution_options(isolation_level="AUTOCOMMIT")
        return connection.execute(statement, parameters).all()


def _autocommit(query: Callable[[], T]) -> T:
    session = db.session()
    if not session.in_transaction() and db.engine.dialect.name != "sqlite":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return query()
