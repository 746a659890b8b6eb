"""Webhook bench (issue 15): deliveries per second with 2 worker processes to a local
receiver, and what the outbox write adds to a key change.

    make bench-webhooks                     # PostgreSQL at BENCH_DATABASE_URL (default: local)
    .venv/bin/python bench/webhooks.py --outbox-only    # only the key-change cost

A fresh PostgreSQL database is made for the run and dropped after. The receiver is an
asyncio HTTP/1.1 server in this process (keep-alive, 200 for every POST), so the workers, not
it, are what is measured. Goals: >= 500 deliveries/s; <= 1 ms added per key change.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tooling.servers import ROOT as APP_ROOT  # noqa: E402

FLASK = str(Path(sys.executable).with_name("flask"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "6000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))  # pairs of rounds, with and without
PER_ROUND = int(os.environ.get("BENCH_PER_ROUND", "20"))  # key changes in one round
# More options for the two workers, e.g. "--per-tenant 32" (the bench's one tenant, unshared).
WORKER_ARGS = os.environ.get("BENCH_WORKER_ARGS", "").split()


class Receiver:
    """Counts POSTs; answers each with an empty 200 on a kept-alive connection."""

    def __init__(self) -> None:
        self.count = 0
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.port = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    await reader.readexactly(length)
                    self.count += 1
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        async def serve():
            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
            self.port = server.sockets[0].getsockname()[1]
            started.set()
            await server.serve_forever()

        threading.Thread(target=lambda: self.loop.run_until_complete(serve()), daemon=True).start()
        started.wait()


def database() -> tuple[str, sa.Engine, str]:
    base = sa.engine.make_url(
        os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    name = f"lwbench_hooks_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), admin, name


def main() -> None:
    url, admin, name = database()
    only_outbox = "--outbox-only" in sys.argv
    instance = Path(f"/tmp/{name}")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "LOOPWAVE_INSTANCE_PATH": str(instance),
        "APP_ENV": "development",
        "SECRET_KEY": "bench-secret",
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    try:
        subprocess.run([FLASK, "--app", "app", "db", "upgrade"], cwd=APP_ROOT, env=env, check=True)
        outbox = outbox_cost()
        rate = None if only_outbox else delivery_rate(env)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"outbox write per key change (median difference): {outbox * 1000:.3f} ms (goal <= 1 ms)")
    if rate is not None:
        print(f"deliveries/s with 2 workers: {rate:.0f} (goal >= 500)")


@contextmanager
def key_with_a_webhook() -> Iterator[tuple[Any, str, str, Any]]:
    """An app context with a tenant holding one key and one endpoint subscribed to every
    event, as the outbox benches need: (key store, tenant id, key id, actor)."""
    from app import create_app
    from core.extensions import keystore, webhooks
    from tenants.audit import Actor

    app = create_app()
    actor = Actor(sub="bench")
    with app.app_context():
        store = keystore.get()
        tenant = store.create_tenant("bench")
        webhooks.get().create(tenant.id, actor, "http://127.0.0.1:9/", ["*"])
        yield store, tenant.id, store.create_key(tenant.id, "k", actor).record.id, actor


def without_events(real: Callable[..., None]) -> Callable[..., None]:
    """``record_change`` (``tenants.keys``' own name for it) writing no event: the change,
    its audit entry and its counter's bump as always, no event and no delivery row."""

    def record_change(session: Any, outbox: Any = (), audit_entries: Any = ()) -> None:
        real(session, (), audit_entries)

    return record_change


def outbox_cost() -> float:
    """Extra seconds a rename costs with its event (and one endpoint's delivery row) written,
    against the same rename writing no event (``without_events``).

    ``ROUNDS`` pairs of rounds, the two halves of a pair run back to back in alternating order
    (so drift in the machine's load, and which half goes first, fall on both alike); the
    figure is the median of the per-pair differences, given with its interquartile range, so
    one disturbed round moves neither. A shared machine still widens the spread: read it.

    Beside the wall clock, the CPU time each half spent (this process's, plus that of the
    PostgreSQL backends serving the bench's database, read from ``/proc``: same machine),
    summed over all rounds: time spent waiting for a core on a loaded machine is not in it,
    so it moves far less with the load than the wall clock does."""
    from core.extensions import db
    from tenants import keys as keys_module

    with key_with_a_webhook() as (store, tenant_id, key_id, actor):
        real_record = keys_module.record_change
        skipping = without_events(real_record)

        cpu_spent = {True: 0.0, False: 0.0}

        def one_round(emitting: bool, label: str) -> float:
            keys_module.record_change = real_record if emitting else skipping
            cpu = cpu_seconds(backends)
            started = time.perf_counter()
            for number in range(PER_ROUND):
                store.update_key(tenant_id, key_id, actor, name=f"k{label}{number}")
            spent = (time.perf_counter() - started) / PER_ROUND
            cpu_spent[emitting] += cpu_seconds(backends) - cpu
            return spent

        backends = database_backends()
        one_round(True, "warm")  # first-use costs (statement caches) fall on no measured round
        one_round(False, "warm")
        backends = database_backends()
        cpu_spent = {True: 0.0, False: 0.0}
        with_event, without, differences = [], [], []
        try:
            for pair in range(ROUNDS):
                order = (True, False) if pair % 2 == 0 else (False, True)
                spent = {emitting: one_round(emitting, f"{pair}{emitting}") for emitting in order}
                with_event.append(spent[True])
                without.append(spent[False])
                differences.append(spent[True] - spent[False])
            trips = {
                emitting: round_trips(partial(one_round, emitting, f"trace{emitting}"))
                for emitting in (True, False)
            }
        finally:
            keys_module.record_change = real_record
        if database_backends() != backends:
            print("  (the bench's PostgreSQL connections changed: the CPU figure is incomplete)")
        db.session.execute(sa.text("DELETE FROM webhook_deliveries"))
        db.session.commit()
        db.engine.dispose()

    def ms(values: list[float]) -> str:
        q1, median, q3 = statistics.quantiles(values, n=4)
        return f"median {median * 1000:.3f} ms (IQR {q1 * 1000:.3f}–{q3 * 1000:.3f})"

    print(f"{ROUNDS} alternating pairs of {PER_ROUND} renames each:")
    print(f"  key change with its event:    {ms(with_event)}")
    print(f"  key change without the event: {ms(without)}")
    print(f"  difference per pair:          {ms(differences)}")
    renames = ROUNDS * PER_ROUND
    with_cpu, without_cpu = (cpu_spent[flag] / renames * 1000 for flag in (True, False))
    print(
        f"  CPU per key change (bench process + PostgreSQL): {with_cpu:.3f} ms with the event,"
        f" {without_cpu:.3f} ms without: the outbox adds {with_cpu - without_cpu:.3f} ms"
    )
    print(
        f"  SQL round trips per key change (libpq's trace): {trips[True] / PER_ROUND:g} with"
        f" the event, {trips[False] / PER_ROUND:g} without"
    )
    return statistics.median(differences)


def round_trips(work: Callable[[], object]) -> int:
    """The round trips ``work`` makes on the connections it checks out of the pool: the
    answers it waited for (``ReadyForQuery``, one per query or ``Sync``), counted in libpq's
    own protocol trace."""
    from core.extensions import db

    traced: dict[int, Any] = {}

    def trace(dbapi_connection: Any, *_: object) -> None:
        if id(dbapi_connection) not in traced:
            traced[id(dbapi_connection)] = dbapi_connection.pgconn
            dbapi_connection.pgconn.trace(file.fileno())

    db.session.commit()  # every connection in the pool: ``work`` checks its own out
    with tempfile.TemporaryFile("w+") as file:
        sa.event.listen(db.engine, "checkout", trace)
        try:
            work()
        finally:
            sa.event.remove(db.engine, "checkout", trace)
            for pgconn in traced.values():
                pgconn.untrace()  # writes out what libpq buffered
        file.seek(0)
        return sum("\tB\t" in line and "ReadyForQuery" in line for line in file)


def database_backends() -> list[int]:
    """The process ids of the PostgreSQL backends connected to the bench's database."""
    from core.extensions import db

    statement = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    # A connection of its own (not the pool's, which is the one the renames use).
    engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        own = connection.scalar(sa.text("SELECT pg_backend_pid()"))
        pids = connection.scalars(sa.text(statement)).all()
    engine.dispose()
    return sorted(pid for pid in pids if pid != own)


def cpu_seconds(backends: list[int]) -> float:
    """CPU seconds (user + system) of this process and of ``backends`` (``/proc``: clock
    ticks, 10 ms each; summed over every round, so the ticks' coarseness averages out)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    for pid in backends:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def delivery_rate(env: dict[str, str]) -> float:
    from app import create_app
    from core.extensions import db, keystore, webhooks
    from tenants import events
    from tenants.audit import Actor

    receiver = Receiver()
    app = create_app()
    with app.app_context():
        tenant = keystore.get().create_tenant("bench receiver")
        webhooks.get().create(
            tenant.id, Actor(sub="bench"), f"http://127.0.0.1:{receiver.port}/", ["*"]
        )
        for number in range(DELIVERIES):
            events.emit(db.session, tenant.id, "webhook.disabled", {"object": {"n": number}})
            if number % 500 == 499:
                db.session.commit()
        db.session.commit()
        db.engine.dispose()
    workers = [
        subprocess.Popen(
            [FLASK, "--app", "app", "worker", "--concurrency", "32", *WORKER_ARGS],
            cwd=APP_ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        while receiver.count == 0:
            time.sleep(0.01)
        started, first = time.perf_counter(), receiver.count
        while receiver.count < DELIVERIES:
            time.sleep(0.01)
        return (receiver.count - first) / (time.perf_counter() - started)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(30)


if __name__ == "__main__":
    main()
