"""Production settings for ``gunicorn wsgi:app`` (``make serve``), read from the environment.

gunicorn loads ``./gunicorn.conf.py`` by itself; command-line flags still win over it.
The app is not preloaded: each worker builds its own database pool and Redis connections
after the fork, so no socket is ever shared between processes.
"""

import multiprocessing
import os

bind = (
    os.environ.get("BIND")
    or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Each worker builds the app after the fork: no socket, lock or thread (the usage flusher)
# is ever inherited from the master. Keep it so.
preload_app = False
# gunicorn 27's control socket runs a thread in the master, which then forks replacement
# workers while that thread may hold a lock (a replaced worker was seen hanging before its
# first request), and every master on a host binds the same default path. Loopwave needs
# neither: signals manage the master.
control_socket_disable = True
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak cannot grow without bound; jitter spreads them.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
# The app logs one structured line per request itself (core/logging.py).
accesslog = None
errorlog = "-"
# gunicorn's own lines (a malformed request it refuses is logged verbatim) lose any
# key-shaped text (core/gunicornlog.py).
logger_class = "core.gunicornlog.RedactingLogger"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Request size limits (docs/security.md): gunicorn's defaults, stated so that nobody
# loosens them by accident. The app keeps looser limits of its own as a backstop.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190


def post_worker_init(worker):
    """Once the worker has built the app: everything allocated so far (Flask, SQLAlchemy,
    pydantic, the app: ~150,000 objects) leaves the cyclic collector's generations
    (``gc.freeze``; Python's documentation describes it for a parent before it forks, to
    keep pages shared: the app is built after the fork here, so only this gain applies). Otherwise
    a full collection walks all of it: ~100-200 ms during which one request waits, soon
    after start (the app's objects are all new) and again whenever enough objects have
    outlived their requests. A tail-latency fix: throughput barely changes, as such
    collections are rare (docs/performance.md, "Fifth wave"). Frozen objects are still freed
    when their reference count drops; only a cycle among them would outlive its use."""
    import gc

    gc.collect()
    gc.freeze()


# Metrics (docs/deploy.md, "Metrics"): with METRICS_TOKEN set, every worker keeps its values
# in memory-mapped files of one directory, which any worker merges when scraped. The master
# sets it before forking (prometheus-client reads it when a worker imports it); its files are
# cleared at start, so figures restart with the master, and a dead worker's live gauges are
# dropped by ``child_exit``.
if os.environ.get("METRICS_TOKEN"):
    import shutil
    import tempfile

    metrics_dir_given = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
        prefix="loopwave-metrics-"
    )
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir

    def on_starting(server):
        os.makedirs(metrics_dir, exist_ok=True)
        for name in os.listdir(metrics_dir):
            if name.endswith(".db"):
                os.remove(os.path.join(metrics_dir, name))

    def child_exit(server, worker):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    def on_exit(server):
        if not metrics_dir_given:  # a directory of our own making
            shutil.rmtree(metrics_dir, ignore_errors=True)
