"""Scale benchmark: throughput on PostgreSQL + Redis with two instances, and key-auth latency
with 1,000,000 keys in the store against 1,000.

    BENCH_DATABASE_URL=postgresql+psycopg://... [REDIS_URL=redis://...] python bench/scale.py

The database's public schema is DROPPED and rebuilt: point it at a database of its own.
Throughput is printed as ratios to the bare ``/healthz`` route measured in the same run (the
load generator shares the machine, so absolute numbers say little and ratios say much).
Key-auth latency is the uncached path (database lookup by key hash), the one that could
grow with the number of keys; the cached path does not touch the database at all.
"""

from __future__ import annotations

import io
import os
import random
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from core.extensions import db  # noqa: E402
from core.services import keystore  # noqa: E402
from tenants.audit import Actor  # noqa: E402
from tenants.verify import KeyVerifier  # noqa: E402
from tests.servers import Gunicorn  # noqa: E402

SECONDS_PER_ROUTE = float(os.environ.get("BENCH_SECONDS", "5"))
CLIENT_THREADS = 4
ACTOR = Actor(sub="bench")


def main() -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        sys.exit("set BENCH_DATABASE_URL to a PostgreSQL database of its own")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2")
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "RATE_LIMIT_PER_MINUTE": "0",
        "USAGE_FLUSH_SECONDS": "5",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    _reset(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    app = create_app()
    with app.app_context():
        upgrade()
        store = keystore()
        tenant = store.create_tenant("Bench")
        key = store.create_key(tenant.id, "bench", ACTOR).full_key
        throughput(env, key)
        key_auth_latency(store, tenant.id)
        db.engine.dispose()


def _reset(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


# -- throughput across two instances -------------------------------------------------------


def throughput(env: dict[str, str], key: str) -> None:
    instances = [Gunicorn(env, workers=2), Gunicorn(env, workers=2)]
    try:
        routes = {
            "bare /healthz": ("/healthz", {}),
            "GET /api/v1/health (key)": ("/api/v1/health", {"x-tenant-api-key": key}),
            "GET /api/v1/contacts (key)": ("/api/v1/contacts", {"x-tenant-api-key": key}),
        }
        rates = {name: _rate(instances, path, headers) for name, (path, headers) in routes.items()}
    finally:
        for instance in instances:
            instance.stop()
    bare = rates["bare /healthz"]
    print(f"throughput, 2 instances x 2 workers, {CLIENT_THREADS} client threads:")
    for name, rate in rates.items():
        print(f"  {name:28s} {rate:8.0f} req/s   ratio to bare {rate / bare:5.2f}")


def _rate(instances: list[Gunicorn], path: str, headers: dict[str, str]) -> float:
    for instance in instances:  # warm every worker's cache and connections
        for _ in range(10):
            requests.get(instance.url + path, headers=headers, timeout=10)
    counts = [0] * CLIENT_THREADS
    stop_at = time.monotonic() + SECONDS_PER_ROUTE

    def run(slot: int) -> None:
        session = requests.Session()
        session.headers.update(headers)
        while time.monotonic() < stop_at:
            answer = session.get(instances[counts[slot] % 2].url + path, timeout=10)
            if answer.status_code != 200:
                raise RuntimeError(f"{path}: {answer.status_code}")
            counts[slot] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / SECONDS_PER_ROUTE


# -- key-auth latency against the size of the store -----------------------------------------


class _NoCache:
    """A signal that never knows the generation: every verification reads the database."""

    def current(self) -> None:
        return None

    def bump(self) -> None:
        return None


def key_auth_latency(store, tenant_id: str) -> None:
    probes = [store.create_key(tenant_id, f"probe {n}", ACTOR).full_key for n in range(200)]
    verifier = KeyVerifier(lambda: db.session, _NoCache(), store.prefix)
    results = {}
    for total in (1_000, 1_000_000):
        existing = db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("api_keys")))
        started = time.monotonic()
        _bulk_insert_keys(tenant_id, total - existing)
        print(f"  store filled to {total:,} keys in {time.monotonic() - started:.1f} s")
        results[total] = _verify_latency(verifier, probes)
    small, large = results[1_000], results[1_000_000]
    print("key-auth latency, uncached path (database lookup), median of 5 rounds:")
    print(f"  1,000 keys      {small * 1e6:7.1f} us")
    print(f"  1,000,000 keys  {large * 1e6:7.1f} us   ratio {large / small:4.2f} (goal <= 1.10)")


def _verify_latency(verifier: KeyVerifier, probes: list[str]) -> float:
    for key in probes:  # warm the connection and the plan
        verifier.verify(key)
    rounds = []
    for _ in range(5):
        sample = random.sample(probes, len(probes))
        started = time.perf_counter()
        for key in sample:
            verifier.verify(key)
            db.session.rollback()
        rounds.append((time.perf_counter() - started) / len(sample))
    return statistics.median(rounds)


def _bulk_insert_keys(tenant_id: str, count: int) -> None:
    """Filler keys straight into the table with COPY: random hashes nobody holds."""
    if count <= 0:
        return
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        batch = 100_000
        for start in range(0, count, batch):
            rows = io.StringIO()
            for _ in range(start, min(start + batch, count)):
                rows.write(
                    f"key_fill{secrets.token_hex(13)}\t{tenant_id}\tfiller\t{secrets.token_hex(32)}\t"
                    f'lw_live_fill\tfill\t["*"]\ttrue\t2026-01-01 00:00:00+00\n'
                )
            columns = (
                "id, tenant_id, name, key_hash, display_start, last4, scopes, enabled, created_at"
            )
            with cursor.copy(f"COPY api_keys ({columns}) FROM STDIN") as copy:
                copy.write(rows.getvalue())
        connection.commit()
        cursor.execute("ANALYZE api_keys")
        connection.commit()
    finally:
        connection.close()


if __name__ == "__main__":
    main()
