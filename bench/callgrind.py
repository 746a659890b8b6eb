"""Instructions per request under callgrind: in-process WSGI calls, warm caches, exact regions.

Wall-clock ratios on a shared 2-core machine swing by tens of percent from run to run;
instruction counts do not. Each configuration runs in its own ``valgrind --tool=callgrind``
process (``--collect-atstart=no``): for every route it makes warm-up requests, collects
garbage and freezes the survivors (``gc.freeze``, so a full collection of the app's
long-lived objects cannot land in one region and not the other), then runs the measured
requests inside ``sys.call_tracing``. That call is the marker: callgrind collects only
inside the C function ``sys_call_tracing`` (``--toggle-collect``) and dumps one profile part
when it returns (``--dump-after``), so each part holds exactly the requests of one route.
``sys.call_tracing`` runs its callable unchanged when no tracer is set (it only saves and
restores the tracing state), and nothing in a request calls it.

What a request is here: building the WSGI environ (a copy of a prepared dict), the WSGI call,
iterating and closing the body: what gunicorn's worker does around the app, minus sockets
and HTTP parsing, which cost the same for every route. The log line of a Loopwave request
goes through its configured handler to stderr, which the harness points at a file.

Only the measuring thread is counted. Work a request hands to another thread (a
``QueueHandler``'s listener, say) would not be; the log variants that do so are measured with
the listener's work run inside the region (``bench/callgrind_logging.py``).

    make bench                          # wall clock (bench/run.py), then this
    .venv/bin/python bench/callgrind.py --requests 200 --runs 2
    .venv/bin/python bench/callgrind.py --configurations text,pg   # and on PostgreSQL
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import ROOT, flask_cli  # noqa: E402

MARKER = "sys_call_tracing"
CONTACT_ROWS = 50
# ``make bench-scale``'s page: its store holds 5 contacts (bench/scale.py), so its
# ``?limit=50`` answers 5 rows. The pg configuration's test-mode key sees 5 contacts.
SMALL_PAGE_ROWS = 5
# Usage counts are flushed to the database every USAGE_FLUSH_SECONDS; under callgrind a
# request runs ~50x slower, so the default 5 s would put a flush (an amortised cost, once per
# thousands of requests in production) into some regions and not others.
QUIET_FLUSH = "86400"

# Configurations: (name, environment over the common one). Each is one callgrind process.
CONFIGURATIONS = {
    "text": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "text"},
    "json": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
    "warning": {"LOG_LEVEL": "WARNING", "LOG_FORMAT": "text"},
    # The default configuration plus /metrics, as gunicorn runs it: prometheus-client in
    # multiprocess mode (its values in memory-mapped files; the folder is made per run).
    "metrics": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "text", "METRICS_TOKEN": "bench-metrics"},
    # The default configuration plus ``REDIS_URL`` (the local server, under a namespace of
    # this invocation's, added by ``redis_namespace``): the invalidation signal, the leased
    # rate limit and the usage tally go through Redis (see ``quiet_redis`` for what is kept
    # out of the regions).
    "redis": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "text"},
    # The text configuration on PostgreSQL (psycopg 3), as production runs it: a database of
    # its own on ``BENCH_PG_URL``'s server, created for the invocation and dropped after it.
    # Only the client side is counted: the server's work runs in another process.
    "pg": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "text"},
}
# The PostgreSQL server of the ``pg`` configuration (the local one of ``make test-postgres``).
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Routes: (name, path, header factory name, expected status)
ROUTES = {
    "health": ("/api/v1/health", "key", 200),
    "health_broken": ("/api/v1/health", "broken", 401),
    "console_me": ("/console/me", "token", 200),
    "contacts": (f"/api/v1/contacts?limit={CONTACT_ROWS}", "key", 200),
    "contacts_small": (f"/api/v1/contacts?limit={CONTACT_ROWS}", "test_key", 200),
}
# Which routes each configuration measures (WARNING only for the comparison of health).
ROUTES_BY_CONFIGURATION = {
    "text": ["health", "health_broken", "console_me", "contacts"],
    "json": ["health", "health_broken", "console_me", "contacts"],
    "warning": ["health"],
    "metrics": ["health"],
    "redis": ["health"],
    "pg": ["health", "contacts", "contacts_small"],
}
# The Redis the ``redis`` configuration uses: a shared server is fine, the bench writes only
# under its own namespace (``lwbench:cg:<8 hex>``, a fixed length) and deletes those keys at the
# end; it never flushes a database.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="measured per route")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2, help="callgrind runs per configuration")
    parser.add_argument(
        "--configurations",
        default=",".join(name for name in CONFIGURATIONS if name != "pg"),
        help="comma-separated subset of: "
        + ", ".join(CONFIGURATIONS)
        + " [all but pg, which needs a PostgreSQL server: BENCH_PG_URL]",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="callgrind processes at once (counts do not change)"
    )
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.inner, args.instance, args.requests, args.warmup)
    else:
        outer(args)


# -- the outer process: set up a store, run callgrind, print ------------------------------------


def valgrind() -> str:
    found = shutil.which("valgrind")
    if found is None:
        sys.exit("bench needs valgrind: apt-get install valgrind")
    return found


def outer(args: argparse.Namespace) -> None:
    instance = tempfile.mkdtemp(prefix="loopwave-callgrind-")
    env = common_env(instance)
    key, broken = prepare_store(env)
    env["BENCH_KEY"], env["BENCH_BROKEN_KEY"] = key, broken
    configurations = args.configurations.split(",")
    with (
        redis_namespace("redis" in configurations) as namespace,
        pg_store(env, "pg" in configurations) as pg_env,
    ):
        measure_all(env, pg_env, instance, configurations, namespace, args)


@contextmanager
def pg_store(env: dict[str, str], wanted: bool) -> Iterator[dict[str, str] | None]:
    """The environment of the ``pg`` configuration: ``env`` on a PostgreSQL database of its
    own (like the test suite's, ``tests/conftest.py``), prepared like the SQLite store and
    dropped at the end; None when ``pg`` is not measured."""
    if not wanted:
        yield None
        return
    import sqlalchemy as sa

    server = sa.make_url(PG_SERVER)
    name = f"lwcallgrind_{os.getpid():07d}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        # A fixed length (the pid padded), like the SQLite path: the environment's size moves
        # the measured process's stack.
        url = server.set(database=name).render_as_string(hide_password=False)
        pg_env = {**env, "DATABASE_URL": url}
        key, broken = prepare_store(pg_env)
        pg_env["BENCH_KEY"], pg_env["BENCH_BROKEN_KEY"] = key, broken
        pg_env["BENCH_TEST_KEY"] = prepare_test_key(pg_env)
        yield pg_env
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def measure_all(
    env: dict[str, str],
    pg_env: dict[str, str] | None,
    instance: str,
    configurations: list[str],
    namespace: str,
    args: argparse.Namespace,
) -> None:
    jobs = [
        (
            run,
            configuration,
            ["bare"] if configuration == "bare" else ROUTES_BY_CONFIGURATION[configuration],
        )
        for run in range(args.runs)
        for configuration in ["bare", *configurations]
    ]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        measured = pool.map(
            lambda job: (
                job,
                measure(
                    pg_env if job[1] == "pg" and pg_env else env,
                    instance,
                    *job[1:],
                    namespace,
                    args,
                    job[0],
                ),
            ),
            jobs,
        )
        runs: list[dict[tuple[str, str], float]] = [{} for _ in range(args.runs)]
        for (run, configuration, _routes), values in measured:
            for route, value in values.items():
                runs[run][(configuration, route)] = value
    report(runs, args)


# What the measured process inherits: nothing of the caller's environment but these, so every
# run starts with the same environment (its size moves the stack, hence memory layout and
# instruction counts). The instance path and the keys have fixed lengths.
INHERITED = ("PATH", "HOME", "VIRTUAL_ENV")


@contextmanager
def redis_namespace(wanted: bool) -> Iterator[str]:
    """A namespace of this invocation's on ``REDIS_URL`` (checked reachable), its keys
    deleted at the end; "" when no configuration uses Redis."""
    if not wanted:
        yield ""
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        sys.exit(f"the redis configuration needs Redis at {REDIS_URL} (BENCH_REDIS_URL): {exc}")
    namespace = f"lwbench:cg:{uuid.uuid4().hex[:8]}"
    try:
        yield namespace
    finally:
        for key in client.scan_iter(match=f"{namespace}:*", count=1000):
            client.delete(key)


def common_env(instance: str) -> dict[str, str]:
    return {
        **{name: os.environ[name] for name in INHERITED if name in os.environ},
        "LANG": "C.UTF-8",
        "LOOPWAVE_INSTANCE_PATH": instance,
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "DATABASE_URL": f"sqlite:///{instance}/bench.db",
        "DEV_LOGIN": "1",
        "USAGE_FLUSH_SECONDS": QUIET_FLUSH,
        # The same string hashes, hence the same dict layouts and instruction counts, per run.
        "PYTHONHASHSEED": "0",
    }


def prepare_store(env: dict[str, str]) -> tuple[str, str]:
    """Schema, a tenant, a key allowed every scope and a high limit, and 50 contacts."""
    flask_cli(env, "db", "upgrade")
    tenant_id = flask_cli(env, "tenants", "create", "Bench")
    key = flask_cli(
        env, "keys", "create", "--tenant", tenant_id, "--name", "bench", "--rate-limit", "1000000"
    )
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    subprocess.run(
        [sys.executable, __file__, "--inner", "seed", "--instance", env["LOOPWAVE_INSTANCE_PATH"]],
        env={**env, "BENCH_KEY": key, "LOG_LEVEL": "WARNING"},
        check=True,
        cwd=ROOT,
    )
    return key, broken


def prepare_test_key(env: dict[str, str]) -> str:
    """A test-mode key of the bench tenant, whose list holds ``SMALL_PAGE_ROWS`` contacts."""
    tenant_id = flask_cli(env, "tenants", "list").split()[0]
    key = flask_cli(
        env, "keys", "create", "--tenant", tenant_id, "--name", "bench-test", "--mode", "test",
        "--rate-limit", "1000000",
    )  # fmt: skip
    subprocess.run(
        [sys.executable, __file__, "--inner", "seed", "--instance", env["LOOPWAVE_INSTANCE_PATH"]],
        env={**env, "BENCH_KEY": key, "BENCH_ROWS": str(SMALL_PAGE_ROWS), "LOG_LEVEL": "WARNING"},
        check=True,
        cwd=ROOT,
    )
    return key


def measure(
    env: dict[str, str],
    instance: str,
    configuration: str,
    routes: list[str],
    namespace: str,
    args: argparse.Namespace,
    run: int,
) -> dict[str, float]:
    """One callgrind process for ``configuration``: instructions per request of each route."""
    out = Path(instance) / f"callgrind.{configuration}.{run}"
    log_path = Path(instance) / f"requests.{configuration}.{run}.log"
    command = [
        *callgrind_command(f"{out}.%p"),
        __file__,
        "--inner",
        configuration,
        "--instance",
        instance,
        "--requests",
        str(args.requests),
        "--warmup",
        str(args.warmup),
    ]
    overrides = dict(CONFIGURATIONS.get(configuration, {}))
    if "METRICS_TOKEN" in overrides:
        metrics_dir = Path(instance) / f"prometheus.{run}"
        metrics_dir.mkdir(exist_ok=True)
        overrides["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    if configuration == "redis":
        overrides["REDIS_URL"] = REDIS_URL
        overrides["REDIS_NAMESPACE"] = namespace
    with open(log_path, "wb") as log:
        subprocess.run(
            command,
            env={**env, **overrides, "BENCH_ROUTES": ",".join(routes)},
            stderr=log,
            check=True,
            cwd=ROOT,
        )
    parts = sorted(
        Path(instance).glob(f"{out.name}.*.*"), key=lambda path: int(path.name.rsplit(".", 1)[1])
    )
    totals = [part_total(part) for part in parts]
    if len(totals) != len(routes):
        raise RuntimeError(f"{configuration}: {len(totals)} profile parts for {len(routes)} routes")
    return {route: total / args.requests for route, total in zip(routes, totals, strict=True)}


def callgrind_command(out_file: str) -> list[str]:
    """This Python under callgrind, collecting only inside ``MARKER`` (one profile part per
    call, written to ``out_file``), without address space randomisation."""
    return [
        *no_aslr(),
        valgrind(),
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--toggle-collect={MARKER}",
        f"--dump-after={MARKER}",
        f"--callgrind-out-file={out_file}",
        sys.executable,
    ]


def no_aslr() -> list[str]:
    """``setarch -R``: the measured process runs without address space randomisation, so
    its allocations land at the same addresses (and hash the same) in every run. Nothing
    when ``setarch`` is missing or refused (some containers forbid the personality call)."""
    setarch = shutil.which("setarch")
    if setarch is None:
        return []
    command = [setarch, os.uname().machine, "-R"]
    if subprocess.run([*command, "true"], capture_output=True).returncode != 0:
        return []
    return command


def part_total(path: Path) -> int:
    text = path.read_text()
    match = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no total in {path}")
    return int(match.group(1))


LABELS = {
    ("bare", "bare"): "bare Flask JSON route",
    "health": "GET /api/v1/health, cached key",
    "health_broken": "GET /api/v1/health, checksum-broken key (401)",
    "console_me": "GET /console/me, cached session JWT",
    "contacts": f"GET /api/v1/contacts?limit={CONTACT_ROWS}, {CONTACT_ROWS} rows (SQLite)",
    ("pg", "health"): "GET /api/v1/health, cached key (PostgreSQL)",
    ("pg", "contacts"): (
        f"GET /api/v1/contacts?limit={CONTACT_ROWS}, {CONTACT_ROWS} rows (PostgreSQL)"
    ),
    "contacts_small": f"  the same, {SMALL_PAGE_ROWS} rows (as bench-scale; PostgreSQL)",
}
# Configurations judged by what they add to the text configuration's cached health.
COST_OVER_TEXT = {"metrics": 0.03, "redis": 0.05}
GOALS = {
    "health": ("ratio", 0.80),
    "console_me": ("ratio", 0.75),
    "contacts": ("instructions", 2_000_000),
}


def report(runs: list[dict[tuple[str, str], float]], args: argparse.Namespace) -> None:
    print(
        f"\ncallgrind: instructions per request, {args.requests} measured after {args.warmup}"
        f" warm-up requests per route, {len(runs)} runs ({valgrind_version()})"
    )
    bare = runs[0][("bare", "bare")]
    names = [f"run {n + 1}" for n in range(len(runs))]
    print(f"{'route':<52} {'log':<8} " + " ".join(f"{n:>11}" for n in names) + "  spread  ratio")
    order = [("bare", "bare")] + [
        (configuration, route)
        for route in ROUTES
        for configuration in args.configurations.split(",")
        if route in ROUTES_BY_CONFIGURATION[configuration]
    ]
    for entry in order:
        values = [counts[entry] for counts in runs]
        spread = (max(values) - min(values)) / min(values)
        configuration, route = entry
        label = LABELS.get(entry) or LABELS[route]
        log = "" if configuration == "bare" else f"{configuration}"
        ratio = bare / values[0]
        cells = " ".join(f"{value:>11,.0f}" for value in values)
        verdict = ""
        goal = GOALS.get(route)
        if goal and configuration in ("text", "json"):
            kind, target = goal
            if kind == "ratio":
                verdict = f">= {target:.2f} " + ("met" if ratio >= target else "MISSED")
            else:
                verdict = f"<= {target:,} " + ("met" if values[0] <= target else "MISSED")
        if configuration in COST_OVER_TEXT:
            without = runs[0].get(("text", "health"))
            if without:
                extra = values[0] / without - 1
                most = COST_OVER_TEXT[configuration]
                verdict = f"{configuration} cost {extra:+.2%} of text; <= {most:.0%} " + (
                    "met" if extra <= most else "MISSED"
                )
        if configuration == "pg" and route.startswith("contacts"):
            health = runs[0][("pg", "health")]
            verdict = f"{health / values[0]:.3f}x the instructions of health on PostgreSQL"
        if route == "health_broken":
            valid = runs[0][(configuration, "health")]
            verdict = "<= valid key " + ("met" if values[0] <= valid else "MISSED")
        print(f"{label:<52} {log:<8} {cells}  {spread:6.3%}  {ratio:5.2f}  {verdict}")
    print("ratio: instructions of the bare route / instructions of the route (run 1)")


def valgrind_version() -> str:
    return subprocess.run(
        [valgrind(), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


# -- the inner process (under callgrind) ----------------------------------------------------------


def inner(configuration: str, instance: str, requests: int, warmup: int) -> None:
    if configuration == "bare":
        from bench.bare import app as bare_app

        measure_route(bare_app, wsgi_environ("/bare", {}), 200, requests, warmup)
        return
    from app import create_app

    if configuration == "metrics":
        # Counts and latencies are written once a second (``tenants.metrics``): once per
        # thousands of requests in production, but once per few requests under callgrind,
        # where a request runs ~50x slower. As with ``QUIET_FLUSH``, that write stays out of
        # the regions; docs/performance.md gives its cost per flush.
        from tenants import metrics

        metrics.FLUSH_SECONDS = float(QUIET_FLUSH)
    unchanged = None
    if configuration == "redis":
        quiet_redis()
        unchanged = leases_in_redis
    app = create_app()
    if configuration == "seed":
        seed(app)
        return
    headers = {
        "key": {"x-tenant-api-key": os.environ["BENCH_KEY"]},
        "broken": {"x-tenant-api-key": os.environ["BENCH_BROKEN_KEY"]},
        "token": {"Authorization": f"Bearer {session_token(app)}"},
        "test_key": {"x-tenant-api-key": os.environ.get("BENCH_TEST_KEY", "")},
    }
    fix_clock()
    for route in os.environ["BENCH_ROUTES"].split(","):
        path, credentials, status = ROUTES[route]
        environ = wsgi_environ(path, headers[credentials])
        measure_route(app, environ, status, requests, warmup, unchanged)


def quiet_redis() -> None:
    """Keep the invalidation signal's periodic work out of the regions, as ``QUIET_FLUSH``
    keeps the usage flush out: the database's change counter is read every
    ``changes.POLL_SECONDS`` (1 s) and a quiet subscription pinged every
    ``redis_signal.HEARTBEAT_SECONDS`` (2 s): once per thousands of requests in production,
    but once per few dozen under callgrind, and in some regions and not others. Each request
    still runs both checks (a clock read and a comparison each); the counter is read on the
    first request (the subscription's start), in the warm-up. The cost of one read of the
    counter is measured apart (``docs/performance.md``).

    The lease of the rate limit is left as it is: the bench key's limit (1,000,000 a minute)
    leases 2,000 tokens at a time, so the first warm-up request reserves enough for the
    warm-up and the region (with the default --requests/--warmup), and ``leases_in_redis``
    proves that no reservation ran inside the region."""
    from tenants import changes, redis_signal

    changes.POLL_SECONDS = float(QUIET_FLUSH)
    redis_signal.HEARTBEAT_SECONDS = float(QUIET_FLUSH)


def leases_in_redis() -> dict[str, tuple[int, int]]:
    """The rate-limit windows under the bench's namespace: counter and remaining ms. Equal
    counters and no longer TTLs after a region: no lease was reserved inside it."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        windows = {}
        for key in client.scan_iter(match=f"{os.environ['REDIS_NAMESPACE']}:ratelimit:*"):
            windows[key.decode()] = (int(client.get(key) or 0), int(client.pttl(key)))
        return windows
    finally:
        client.close()


def fix_clock() -> None:
    """Stop the store's clock (``tenants.clock``, the seam tests use) at the start of the
    measurement. Under callgrind a request runs ~50x slower than in production, so the log
    line's time string (rendered once per second) was rendered anew every few hundred
    requests, and how many of a region's requests crossed a second depended on the machine's
    load: the main source of the run-to-run spread. In production that rendering is once per
    thousands of requests. The frozen time is the real time at start, so keys and tokens stay
    valid; ``clock.stop_at`` computes its timestamp once, so reading the stopped clock costs
    no more than reading the real one; what still reads the real time is the request's duration
    (``time.perf_counter_ns``) and the rate limiter's minute window (``limits``)."""
    from datetime import UTC, datetime

    from tenants import clock

    clock.stop_at(datetime.now(UTC))


def seed(app) -> None:
    client = app.test_client()
    headers = {"x-tenant-api-key": os.environ["BENCH_KEY"]}
    for number in range(int(os.environ.get("BENCH_ROWS", CONTACT_ROWS))):
        answer = client.post(
            "/api/v1/contacts",
            headers=headers,
            json={
                "name": f"Contact {number}",
                "phone": f"+1415555{number:04d}",
                "email": f"contact{number}@example.com",
            },
        )
        if answer.status_code != 201:
            raise RuntimeError(answer.get_data(as_text=True))


def session_token(app) -> str:
    answer = app.test_client().post(
        "/dev-login/token",
        json={"user_id": "user_bench", "org_id": "org_bench", "org_slug": "bench", "role": "admin"},
    )
    return answer.get_json()["token"]


def wsgi_environ(path: str, headers: dict[str, str]) -> dict:
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(path=path, headers=headers, base_url="http://127.0.0.1:8000")
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    environ["wsgi.input"] = io.BytesIO(b"")
    return environ


def measure_route(
    app,
    environ: dict,
    status: int,
    requests: int,
    warmup: int,
    unchanged: Callable[[], dict[str, tuple[int, int]]] | None = None,
) -> None:
    answered: list[str] = []

    def start_response(status_line, headers, exc_info=None):
        answered.append(status_line)

    def one() -> None:
        body = app(dict(environ), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    def run(count: int) -> None:
        for _ in range(count):
            one()

    run(warmup)
    if not answered or int(answered[-1][:3]) != status:
        raise RuntimeError(f"{environ['PATH_INFO']}: answered {answered[-1:]}, not {status}")
    before = unchanged() if unchanged is not None else {}
    gc.collect()
    gc.freeze()
    time.sleep(0)
    sys.call_tracing(run, (requests,))
    if unchanged is not None:
        after = unchanged()
        moved = [
            window
            for window, (count, ttl) in after.items()
            if window not in before or count != before[window][0] or ttl > before[window][1]
        ]
        if moved or not after:
            raise RuntimeError(f"a rate-limit lease was reserved inside the region: {moved}")


if __name__ == "__main__":
    main()
