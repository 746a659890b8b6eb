"""Scale benchmark: the production path (two instances on PostgreSQL + Redis), and key-auth
latency at 1,000,000 keys.

1. Throughput and its counters. Three deployments of Loopwave on database A, each two
   gunicorn masters (2 sync workers each): "Redis" (``REDIS_URL``), "Redis + metrics"
   (``REDIS_URL`` and ``METRICS_TOKEN``) and "no Redis". Each round, for each target in turn,
   one wrk per instance runs at once (so both instances are loaded) and their requests/s are
   summed; the medians of the rounds are printed, with the ratios the goals are about, each
   the median of per-round ratios (both sides ran back to back under the same load):
   cached health with Redis against without, contacts and messages against cached health,
   and cached health with metrics against without. Then, per target, one more burst with the
   servers' own counters read before and after: PostgreSQL transactions per request
   (``pg_stat_database``) and Redis commands per request (``INFO commandstats``; a command
   run inside a script counts as one too, so this bounds the round trips from above).
   The key carries ``rate_limit_per_minute`` 1,000,000, enforced across instances, never
   reached (a refusal fails the run). ``POST /api/v1/messages`` sends a new
   ``Idempotency-Key`` with each request (``bench/unique_post.lua``): every one a write.
   Worker recycling (``GUNICORN_MAX_REQUESTS``) is off: it would charge the app's start-up
   to whichever round it fell in.
2. Key-auth latency, uncached path: ``KeyVerifier`` with its cache bypassed, i.e. the lookup
   by key hash that could grow with the store. Database A holds 1,000 keys, database B
   1,000,000; the same probe keys are looked up in both, alternating in rounds (see
   ``bench/keylookup.py``). Medians, p95 and their ratio are printed.

    make bench-scale     # or: .venv/bin/python bench/scale.py --rounds 7 --seconds 4

Environment (defaults in brackets); the public schema of both databases is DROPPED and rebuilt,
so give it databases of its own:
    BENCH_DATABASE_URL        database A [postgresql+psycopg://postgres@127.0.0.1:5432/bench_a]
    BENCH_LARGE_DATABASE_URL  database B [postgresql+psycopg://postgres@127.0.0.1:5432/bench_b]
    BENCH_REDIS_URL           [a private redis-server on a free loopback port, stopped at the
                              end]: a shared server works too (the bench uses a namespace of
                              its own and deletes only its keys), but its commandstats then
                              count other clients' commands as well

The load generator shares the machine's cores with the servers, so absolute numbers say
little; ratios measured in the same run say much.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import redis
import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import keylookup  # noqa: E402
from bench.harness import (  # noqa: E402
    Server,
    alternating_samples,
    flask_cli,
    print_table,
    wrk_rps,
)
from tooling.servers import free_port  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
KEY_RATE_LIMIT = 1_000_000  # per minute: far above what wrk sends on this machine
CONTACTS = 5
POST_SCRIPT = str(Path(__file__).with_name("unique_post.lua"))
METRICS_TOKEN = "bench-metrics-token"
HEALTH = "GET /api/v1/health (key, cached)"
HEALTH_NO_REDIS = "  the same, no Redis"
HEALTH_METRICS = "  the same, with /metrics on"
CONTACTS_PAGE = f"GET /api/v1/contacts?limit=50 ({CONTACTS})"
MESSAGES = "POST /api/v1/messages + Idempotency-Key"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="throughput rounds [7]")
    parser.add_argument("--seconds", type=int, default=4, help="seconds per wrk run [4]")
    parser.add_argument("--connections", type=int, default=4, help="per instance [4]")
    parser.add_argument("--latency-rounds", type=int, default=300, help="[300]")
    parser.add_argument("--batch", type=int, default=20, help="lookups per round and store [20]")
    parser.add_argument("--probes", type=int, default=200, help="probe keys in each store [200]")
    parser.add_argument("--small", type=int, default=1_000, help="keys in database A [1000]")
    parser.add_argument("--large", type=int, default=1_000_000, help="keys in database B")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()

    small_url = os.environ.get("BENCH_DATABASE_URL", f"{PG}/bench_a")
    large_url = os.environ.get("BENCH_LARGE_DATABASE_URL", f"{PG}/bench_b")
    redis_url = os.environ.get("BENCH_REDIS_URL")
    for url in (small_url, large_url):
        if not url.startswith("postgresql"):
            sys.exit(f"not a PostgreSQL URL: {url}")
    if small_url == large_url:
        sys.exit("the two databases must differ")
    started = time.monotonic()
    print(f"{os.cpu_count()} cores shared with the load generator; load: {_load()}")

    with _redis(redis_url) as redis_url:
        namespace = f"lwbench:{uuid.uuid4().hex[:8]}"
        env = {**_env(small_url, redis_url), "REDIS_NAMESPACE": namespace}
        try:
            tenant_id, key = _fresh_store(env)
            probes = keylookup.probe_keys(args.probes)
            spent = keylookup.fill(small_url, tenant_id, probes, args.small)
            print(f"database A: filled to {args.small:,} keys in {spent:.1f}s")
            if not args.skip_throughput:
                throughput(env, key, args)
        finally:
            _delete_keys(redis_url, namespace)
    if not args.skip_latency:
        large_tenant, _ = _fresh_store(_env(large_url, None))
        spent = keylookup.fill(large_url, large_tenant, probes, args.large)
        print(f"\ndatabase B: filled to {args.large:,} keys in {spent:.1f}s")
        latency({"A": small_url, "B": large_url}, probes, args)
    print(f"\nload at the end: {_load()}; whole run {time.monotonic() - started:.0f}s")


def _env(database_url: str, redis_url: str | None) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url or "",
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "LOG_LEVEL": "INFO",  # the deployment default: one request line per request
        "USAGE_FLUSH_SECONDS": "5",
        "GUNICORN_MAX_REQUESTS": "0",
        "METRICS_TOKEN": "",
    }


@contextmanager
def _redis(url: str | None):
    """``url``, or a private redis-server (no persistence) for the length of the run: its
    commandstats then count this bench's commands alone."""
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("bench-scale needs redis-server (or BENCH_REDIS_URL)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _delete_keys(url: str, namespace: str) -> None:
    """This run's keys only: the server may be shared."""
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        client.delete(key)


def _create_database(url: str) -> None:
    """Create the bench's database when it does not exist yet."""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def _fresh_store(env: dict[str, str]) -> tuple[str, str]:
    """Drop and rebuild the schema; one tenant and one bench key. (tenant id, full key)"""
    _create_database(env["DATABASE_URL"])
    engine = sa.create_engine(env["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    flask_cli(env, "db", "upgrade")
    tenant_id = flask_cli(env, "tenants", "create", "Bench")
    key = flask_cli(
        env,
        "keys", "create", "--tenant", tenant_id, "--name", "bench",
        "--rate-limit", str(KEY_RATE_LIMIT),
    )  # fmt: skip
    return tenant_id, key


# -- 1. throughput across two instances ------------------------------------------------------


def throughput(env: dict[str, str], key: str, args: argparse.Namespace) -> None:
    deployments = {
        "redis": env,
        "metrics": {**env, "METRICS_TOKEN": METRICS_TOKEN},
        "no redis": {**env, "REDIS_URL": ""},
    }
    servers: dict[str, list[Server]] = {}
    try:
        for name, deployment in deployments.items():
            servers[name] = [
                Server("wsgi:app", deployment, "/api/v1/health", workers=2) for _ in range(2)
            ]
        urls = {name: tuple(s.url for s in group) for name, group in servers.items()}
        auth = {"x-tenant-api-key": key}
        for n in range(CONTACTS):
            answer = requests.post(
                f"{urls['redis'][n % 2]}/api/v1/contacts",
                json={"name": f"Contact {n}", "phone": f"+1555000{n:04d}"},
                headers=auth,
                timeout=10,
            )
            answer.raise_for_status()
        # The messages' contact and chat exist before the load: concurrent first messages to
        # a new number race to insert the same contact, and the loser answers 500.
        requests.post(
            f"{urls['redis'][0]}/api/v1/messages",
            json={"to": "+14155550123", "text": "first"},
            headers=auth,
            timeout=10,
        ).raise_for_status()

        def on(deployment: str, path: str) -> tuple[str, ...]:
            return tuple(f"{url}{path}" for url in urls[deployment])

        targets = {
            HEALTH: (on("redis", "/api/v1/health"), auth),
            HEALTH_NO_REDIS: (on("no redis", "/api/v1/health"), auth),
            HEALTH_METRICS: (on("metrics", "/api/v1/health"), auth),
            CONTACTS_PAGE: (on("redis", "/api/v1/contacts?limit=50"), auth),
            MESSAGES: (on("redis", "/api/v1/messages"), auth, POST_SCRIPT),
        }
        for url, headers, *script in targets.values():  # warm every worker: caches, pools
            wrk_rps(url, headers, 1, args.connections, 1, *script)
        samples = alternating_samples(
            targets, args.rounds, args.seconds, connections=args.connections, threads=1
        )
        quota = requests.get(f"{urls['redis'][0]}/api/v1/health", headers=auth, timeout=10)
        counters = _counters_per_request(env, targets, args.connections)
        scraped = requests.get(
            f"{urls['metrics'][0]}/metrics",
            headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
            timeout=10,
        )
    finally:
        for group in servers.values():
            for server in group:
                server.stop()
    print(
        f"\n1. throughput: 2 instances x 2 sync workers per deployment, PostgreSQL + Redis;"
        f" one wrk per instance at once (1 thread x {args.connections} connections each),"
        f" requests/s summed; median of {args.rounds} alternating rounds of {args.seconds}s;"
        f" 0 non-2xx answers"
    )
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print_table(medians, HEALTH, [], samples)
    print("\nratios (median of per-round ratios)     measured  goal")
    for label, numerator, denominator, goal in (
        ("cached health: Redis / no Redis", HEALTH, HEALTH_NO_REDIS, 0.95),
        ("cached health: metrics on / off", HEALTH_METRICS, HEALTH, 0.97),
        ("contacts / cached health", CONTACTS_PAGE, HEALTH, 0.5),
        ("messages + Idempotency-Key / cached health", MESSAGES, HEALTH, None),
    ):
        ratio = statistics.median(
            a / b for a, b in zip(samples[numerator], samples[denominator], strict=True)
        )
        verdict = "" if goal is None else f">= {goal:.2f} " + ("met" if ratio >= goal else "MISSED")
        print(f"  {label:<44} {ratio:5.2f}x  {verdict}")
    print(
        "\nper request, from the servers' counters (one burst of 3 s per target, less what"
        " the same readings count with no load)"
    )
    print(f"  {'target':<44} {'SQL transactions':>16} {'Redis commands':>15}")
    for name, (transactions, commands) in counters.items():
        print(f"  {name:<44} {transactions:>16.3f} {commands:>15.3f}")
    print(
        f"rate limit across instances: X-RateLimit-Limit {quota.headers.get('X-RateLimit-Limit')},"
        f" X-RateLimit-Remaining {quota.headers.get('X-RateLimit-Remaining')} (never refused)"
    )
    print(f"GET /metrics (metrics deployment): {scraped.status_code}, {len(scraped.content)} bytes")


def _counters_per_request(
    env: dict[str, str], targets: dict[str, tuple], connections: int
) -> dict[str, tuple[float, float]]:
    """PostgreSQL transactions and Redis commands per request during one burst of each target,
    from the servers' own counters (both server-wide: the database's and the Redis server's).
    Each reading after a burst is the reading before the next."""
    engine = sa.create_engine(env["DATABASE_URL"])
    client = redis.Redis.from_url(env["REDIS_URL"])
    query = sa.text(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database"
        " WHERE datname = current_database()"
    )

    def read() -> tuple[int, int]:
        # A busy backend reports its counters at most once a second; one that goes idle
        # with counts pending reports them after PostgreSQL's idle interval (10 s).
        time.sleep(11)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            transactions = connection.scalar(query)
        stats = client.info("commandstats")
        commands = sum(value["calls"] for name, value in stats.items() if name != "cmdstat_info")
        return transactions, commands

    results = {}
    try:
        before = read()
        after = read()
        # What the readings themselves (and anything else on the servers) add, with no load.
        idle = (after[0] - before[0], after[1] - before[1])
        before = after
        for name, (url, headers, *script) in targets.items():
            seconds = 3
            sent = wrk_rps(url, headers, seconds, connections, 1, *script) * seconds
            after = read()
            results[name] = (
                (after[0] - before[0] - idle[0]) / sent,
                (after[1] - before[1] - idle[1]) / sent,
            )
            before = after
    finally:
        engine.dispose()
    return results


# -- 2. key-auth latency against the size of the store ---------------------------------------


def latency(urls: dict[str, str], probes: list[str], args: argparse.Namespace) -> None:
    print(
        f"\n2. key-auth latency, uncached path (KeyVerifier, cache bypassed, lookup by key hash):"
        f" {args.latency_rounds} rounds of {args.batch} lookups per database, alternating;"
        f" random picks among {len(probes)} probe keys present in both"
    )
    for name, url in urls.items():
        print(f"  {name}: {keylookup.describe(url)}")
    results = keylookup.measure(urls, probes, args.latency_rounds, args.batch)
    named = {f"A {args.small:,} keys": results["A"], f"B {args.large:,} keys": results["B"]}
    keylookup.report(named, *named, goal=1.10)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
