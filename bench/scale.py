"""Scale benchmark: two instances on PostgreSQL + Redis, and key-auth latency at 1,000,000 keys.

1. Throughput. Two gunicorn masters (2 sync workers each) serve Loopwave on database A and
   Redis; two more serve the bare Flask route of ``bench/bare.py`` with the same settings.
   Each round, for each target in turn, one wrk per instance runs at once (so both instances
   are loaded) and their requests/s are summed; the medians of the rounds are printed with
   their ratios to the bare route. The key carries ``rate_limit_per_minute`` 1,000,000: the
   limiter counts every request in Redis but never refuses one (a refusal fails the run).
   Worker recycling (``GUNICORN_MAX_REQUESTS``) is off for all four masters: it would charge
   the app's start-up to whichever round it fell in.
2. Key-auth latency, uncached path: ``KeyVerifier`` with its cache bypassed, i.e. the lookup
   by key hash that could grow with the store. Database A holds 1,000 keys, database B
   1,000,000; the same probe keys are looked up in both, alternating in rounds (see
   ``bench/keylookup.py``). Medians, p95 and their ratio are printed.

    make bench-scale     # or: .venv/bin/python bench/scale.py --rounds 7 --seconds 4

Environment (defaults in brackets); the public schema of both databases is DROPPED and rebuilt,
so give it databases of its own:
    BENCH_DATABASE_URL        database A [postgresql+psycopg://postgres@127.0.0.1:5432/bench_a]
    BENCH_LARGE_DATABASE_URL  database B [postgresql+psycopg://postgres@127.0.0.1:5432/bench_b]
    BENCH_REDIS_URL           Redis, its DB is FLUSHED [redis://127.0.0.1:6379/4]

The load generator shares the machine's cores with the servers, so absolute numbers say
little; ratios measured in the same run say much. The default run takes about 2-3 minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import redis
import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import keylookup  # noqa: E402
from bench.harness import Server, alternating_samples, flask_cli, print_table, wrk_rps  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
KEY_RATE_LIMIT = 1_000_000  # per minute: far above what wrk sends on this machine
CONTACTS = 5
BARE = "bare Flask route"


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
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    for url in (small_url, large_url):
        if not url.startswith("postgresql"):
            sys.exit(f"not a PostgreSQL URL: {url}")
    if small_url == large_url:
        sys.exit("the two databases must differ")
    started = time.monotonic()
    print(f"{os.cpu_count()} cores shared with the load generator; load: {_load()}")

    redis.Redis.from_url(redis_url).flushdb()
    env = _env(small_url, redis_url)
    tenant_id, key = _fresh_store(env)
    probes = keylookup.probe_keys(args.probes)
    spent = keylookup.fill(small_url, tenant_id, probes, args.small)
    print(f"database A: filled to {args.small:,} keys in {spent:.1f}s")

    if not args.skip_throughput:
        throughput(env, key, args)
    if not args.skip_latency:
        large_tenant, _ = _fresh_store(_env(large_url, redis_url))
        spent = keylookup.fill(large_url, large_tenant, probes, args.large)
        print(f"\ndatabase B: filled to {args.large:,} keys in {spent:.1f}s")
        latency({"A": small_url, "B": large_url}, probes, args)
    print(f"\nload at the end: {_load()}; whole run {time.monotonic() - started:.0f}s")


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "LOG_LEVEL": "INFO",  # the deployment default: one request line per request
        "USAGE_FLUSH_SECONDS": "5",
        "GUNICORN_MAX_REQUESTS": "0",
    }


def _fresh_store(env: dict[str, str]) -> tuple[str, str]:
    """Drop and rebuild the schema; one tenant and one bench key. (tenant id, full key)"""
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
    servers: list[Server] = []
    try:
        for _ in range(2):
            servers.append(Server("bench.bare:app", env, "/bare", workers=2))
            servers.append(Server("wsgi:app", env, "/api/v1/health", workers=2))
        bare = tuple(f"{s.url}/bare" for s in servers[0::2])
        apps = [s.url for s in servers[1::2]]
        auth = {"x-tenant-api-key": key}
        for n in range(CONTACTS):
            answer = requests.post(
                f"{apps[n % 2]}/api/v1/contacts",
                json={"name": f"Contact {n}", "phone": f"+1555000{n:04d}"},
                headers=auth,
                timeout=10,
            )
            answer.raise_for_status()
        targets = {
            BARE: (bare, {}),
            "GET /api/v1/health (key)": (tuple(f"{u}/api/v1/health" for u in apps), auth),
            f"GET /api/v1/contacts (key, {CONTACTS} contacts)": (
                tuple(f"{u}/api/v1/contacts" for u in apps),
                auth,
            ),
        }
        for url, headers in targets.values():  # warm every worker: caches, pools, imports
            wrk_rps(url, headers, 1, args.connections, 1)
        samples = alternating_samples(
            targets, args.rounds, args.seconds, connections=args.connections, threads=1
        )
        quota = requests.get(f"{apps[0]}/api/v1/health", headers=auth, timeout=10).headers
        per_request = {
            name: _transactions_per_request(env["DATABASE_URL"], url, headers, args.connections)
            for name, (url, headers) in targets.items()
            if name != BARE
        }
    finally:
        for server in servers:
            server.stop()
    print(
        f"\n1. throughput: 2 instances x 2 sync workers, PostgreSQL + Redis; one wrk per"
        f" instance at once (1 thread x {args.connections} connections each), requests/s summed;"
        f" median of {args.rounds} alternating rounds of {args.seconds}s; 0 non-2xx answers"
    )
    medians = {name: statistics.median(values) for name, values in samples.items()}
    print_table(medians, BARE, [], samples)
    print(
        f"rate limiter counted, never refused: X-RateLimit-Limit {quota.get('X-RateLimit-Limit')},"
        f" X-RateLimit-Remaining {quota.get('X-RateLimit-Remaining')} in the current minute"
    )
    for name, count in per_request.items():
        print(f"PostgreSQL transactions per request, {name}: {count:.2f}")


def _transactions_per_request(
    database_url: str, url: tuple[str, ...], headers: dict[str, str], connections: int
) -> float:
    """Database work per request, from the server's own counters: shows the key cache at work."""
    engine = sa.create_engine(database_url)
    query = sa.text(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database"
        " WHERE datname = current_database()"
    )

    def transactions() -> int:
        time.sleep(1)  # backends report their counters at most once a second when busy
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            return connection.scalar(query)

    try:
        before = transactions()
        seconds = 2
        sent = wrk_rps(url, headers, seconds, connections, 1) * seconds
        after = transactions()
    finally:
        engine.dispose()
    return (after - before - 2) / sent  # less this probe's own two transactions


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
