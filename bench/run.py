"""Throughput of key-authenticated requests against a bare Flask route, in one run.

Starts gunicorn (2 sync workers) on loopback for a bare Flask app and for Loopwave (SQLite in
a temporary instance folder) twice: with the default logging (``LOG_LEVEL=INFO``, text: one
request line per request) and with ``LOG_FORMAT=json``. The request lines go to a file
through the configured handler, as in a deployment that keeps its logs. Drives every target
with wrk in alternating rounds and prints requests/s and ratios, both configurations side by
side. Ends by checking that a revoke is refused on the next request by every worker.

    make bench                    # or: .venv/bin/python bench/run.py --rounds 10 --seconds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    Server,
    alternating_samples,
    flask_cli,
    load_average,
    print_table,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=3)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="loopwave-bench-")
    env = {
        "LOOPWAVE_INSTANCE_PATH": instance,
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "DATABASE_URL": f"sqlite:///{instance}/bench.db",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
        # gunicorn.conf.py recycles workers every ~10,000 requests; at these rates that is a
        # restart every few seconds, which would charge an app start-up to one round.
        "GUNICORN_MAX_REQUESTS": "0",
    }
    flask_cli(env, "db", "upgrade")
    tenant_id = flask_cli(env, "tenants", "create", "Bench")
    # A limit far above what wrk sends: the limiter counts every request but never refuses.
    key = flask_cli(
        env, "keys", "create", "--tenant", tenant_id, "--name", "bench", "--rate-limit", "1000000"
    )
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")

    bare = Server("bench.bare:app", env, "/bare", log_path=f"{instance}/bare.log")
    apps = {
        log_format: Server(
            "wsgi:app",
            {**env, "DEV_LOGIN": "1", "LOG_FORMAT": log_format},
            "/api/v1/health",
            log_path=f"{instance}/loopwave-{log_format}.log",
        )
        for log_format in ("text", "json")
    }
    try:
        targets: dict = {"bare Flask route": (f"{bare.url}/bare", {})}
        for log_format, app in apps.items():
            # A development sign-in token: verified by the same code path as any provider's
            # (RS256 against a JWKS), valid 10 minutes, which covers every round.
            token = requests.post(
                f"{app.url}/dev-login/token",
                timeout=5,
                json={
                    "user_id": "user_bench",
                    "org_id": "org_bench",
                    "org_slug": "bench",
                    "role": "admin",
                },
            ).json()["token"]
            targets[f"GET /api/v1/health (valid key) [{log_format}]"] = (
                f"{app.url}/api/v1/health",
                {"x-tenant-api-key": key},
            )
            targets[f"GET /console/me (session JWT) [{log_format}]"] = (
                f"{app.url}/console/me",
                {"Authorization": f"Bearer {token}"},
            )
            targets[f"GET /api/v1/health (checksum-broken key) [{log_format}]"] = (
                f"{app.url}/api/v1/health",
                {"x-tenant-api-key": broken, "X-Bench": "expect_errors"},
            )
        load_before = load_average()
        samples = alternating_samples(targets, rounds=args.rounds, seconds=args.seconds)
        print(f"before the rounds: {load_before}; after: {load_average()}")
        print(
            f"gunicorn 2 sync workers, wrk 2 threads x 8 connections, {args.rounds} alternating"
            f" rounds of {args.seconds}s, {os.cpu_count()} cores; request log on (INFO)"
        )
        print_table(
            {name: statistics.median(values) for name, values in samples.items()},
            "bare Flask route",
            [(f"GET /api/v1/health (valid key) [{log_format}]", 0.90) for log_format in apps]
            + [(f"GET /console/me (session JWT) [{log_format}]", 0.80) for log_format in apps],
            samples,
        )
        for log_format in apps:
            with open(f"{instance}/loopwave-{log_format}.log", "rb") as log:
                lines = sum(1 for line in log if b"loopwave.request" in line)
            print(f"request log lines written ({log_format}): {lines:,}")
        app = apps["text"]
        flask_cli(env, "keys", "revoke", _key_id(app.url, key))
        statuses = {
            requests.get(
                f"{app.url}/api/v1/health", headers={"x-tenant-api-key": key}, timeout=5
            ).status_code
            for _ in range(20)
        }
        print(f"after revoke, 20 requests across both workers answered: {sorted(statuses)}")
        if statuses != {401}:
            sys.exit("revoked key still accepted")
    finally:
        bare.stop()
        for app in apps.values():
            app.stop()


def _key_id(url: str, key: str) -> str:
    return requests.get(
        f"{url}/api/v1/health", headers={"x-tenant-api-key": key}, timeout=5
    ).json()["key"]["id"]


if __name__ == "__main__":
    main()
