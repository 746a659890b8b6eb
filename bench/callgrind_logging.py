"""Instructions for one request log line, each way of writing it, under callgrind.

The numbers behind ``core/logging.py`` (docs/performance.md): the same seven fields written
through a handler to a file, 2,000 lines per variant, each variant delimited like the routes
of ``bench/callgrind.py`` (``sys.call_tracing`` as the marker, one profile part each).

- ``Logger.info`` + ``logging.Formatter`` / ``json.dumps``: what the app did before;
- ``RequestRecord`` + ``Logger.handle`` + our formatters: the path a line takes when the
  logging configuration is not ours (a ``dictConfig``, an extra handler);
- the direct path ``log_request`` takes when it is: the formatter's ``request_line`` and
  ``LogHandler.write_line``;
- a ``QueueHandler`` in front of the handler: the request thread's share, and the whole cost
  (the ``QueueListener``'s handling run inside the region, where a thread would run it);
- structlog, natively (its own loggers, not ``logging``), when installed
  (``pip install structlog==26.1.0``; not a dependency of the project).

    .venv/bin/python bench/callgrind_logging.py
"""

from __future__ import annotations

import gc
import io
import json
import logging
import logging.handlers
import os
import queue
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.callgrind import callgrind_command, part_total  # noqa: E402

LINES = 2_000
FIELDS = {
    "request_id": "req_c494852b2333bcff731b44e7",
    "method": "GET",
    "path": "/api/v1/health",
    "status": 200,
    "duration_ms": 0.421,
    "tenant_id": "ten_01M8P38KFZX65KA23QEE2S9985",
    "key_id": "key_01M8P38MS0HJZX676GX2366J2S",
}
# The same, as ``core.logging.RequestFields`` (the duration in microseconds).
FIELDS_US = (*list(FIELDS.values())[:4], 421, FIELDS["tenant_id"], FIELDS["key_id"])


def main() -> None:
    out = Path(tempfile.mkdtemp(prefix="loopwave-logline-"))
    result = subprocess.run(
        [*callgrind_command(f"{out}/cg.%p"), __file__, "--inner", str(out / "lines.log")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    names = [
        line.split("\t", 1)[1]
        for line in result.stdout.splitlines()
        if line.startswith("variant\t")
    ]
    parts = sorted(out.glob("cg.*.*"), key=lambda path: int(path.name.rsplit(".", 1)[1]))
    print(f"instructions per request log line ({LINES:,} lines per variant, callgrind)")
    for name, part in zip(names, parts, strict=True):
        print(f"  {name:<66} {part_total(part) / LINES:>9,.0f}")


# -- inside callgrind ------------------------------------------------------------------------


def inner(log_path: str) -> None:
    import core.logging as ours

    # Like ``sys.stderr`` redirected to a file (as under gunicorn): line-buffered UTF-8 text.
    stream = io.TextIOWrapper(
        open(log_path, "ab"),  # noqa: SIM115 - open for the whole measurement
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    logger = logging.getLogger("bench.request")
    logger.propagate = False
    logger.setLevel(logging.INFO)

    def use(handler: logging.Handler) -> None:
        for old in list(logger.handlers):
            logger.removeHandler(old)
        logger.addHandler(handler)

    def stream_handler(formatter: logging.Formatter) -> logging.StreamHandler:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        return handler

    def info_line() -> None:
        logger.info(
            "%s %s %s %.1fms",
            FIELDS["method"], FIELDS["path"], FIELDS["status"], FIELDS["duration_ms"],
            extra=FIELDS,
        )  # fmt: skip

    def record_line() -> None:
        logger.handle(ours.RequestRecord(time.time(), FIELDS_US))

    variants = []

    def variant(name, setup, line):
        variants.append((name, setup, line))

    variant(
        "before: Logger.info, logging.Formatter (text)",
        lambda: use(stream_handler(logging.Formatter(ours.TEXT_FORMAT))),
        info_line,
    )
    variant(
        "before: Logger.info, json.dumps formatter (JSON)",
        lambda: use(stream_handler(_StdlibJsonFormatter())),
        info_line,
    )
    variant(
        "RequestRecord, Logger.handle, LineFormatter (text)",
        lambda: use(stream_handler(ours.LineFormatter())),
        record_line,
    )
    variant(
        "RequestRecord, Logger.handle, JsonFormatter with orjson (JSON)",
        lambda: use(stream_handler(ours.JsonFormatter())),
        record_line,
    )
    direct = {}

    def direct_setup(formatter):
        handler = ours.LogHandler(stream)
        handler.setFormatter(formatter)
        direct["handler"] = handler

    def direct_line() -> None:
        handler = direct["handler"]
        handler.write_bytes(handler.formatter.request_bytes(time.time(), FIELDS_US))

    variant(
        "kept: request_bytes + LogHandler.write_bytes (text)",
        lambda: direct_setup(ours.LineFormatter()),
        direct_line,
    )
    variant(
        "kept: request_bytes + LogHandler.write_bytes (JSON, orjson)",
        lambda: direct_setup(ours.JsonFormatter()),
        direct_line,
    )
    listener_queue: queue.SimpleQueue = queue.SimpleQueue()
    target = stream_handler(ours.LineFormatter())
    listener = logging.handlers.QueueListener(listener_queue, target)

    def drain() -> None:
        while not listener_queue.empty():
            listener.handle(listener_queue.get_nowait())

    variant(
        "QueueHandler + RequestRecord: the request thread's share (text)",
        lambda: use(logging.handlers.QueueHandler(listener_queue)),
        lambda: (record_line(), listener_queue.get_nowait()),
    )
    variant(
        "QueueHandler + RequestRecord: with the listener's work (text)",
        lambda: use(logging.handlers.QueueHandler(listener_queue)),
        lambda: (record_line(), drain()),
    )
    _structlog_variants(stream, variant)

    for name, setup, line in variants:
        setup()
        for _ in range(200):
            line()
        gc.collect()
        gc.freeze()
        print(f"variant\t{name}", flush=True)
        sys.call_tracing(_repeat, (line, LINES))
    stream.close()


def _structlog_variants(stream, variant) -> None:
    try:
        import structlog
    except ImportError:
        print("structlog is not installed: not measured", file=sys.stderr)
        return
    for name, renderer in (
        ("structlog (native), KeyValueRenderer (text)", structlog.processors.KeyValueRenderer()),
        ("structlog (native), JSONRenderer (JSON)", structlog.processors.JSONRenderer()),
    ):
        bound = structlog.wrap_logger(
            structlog.WriteLogger(stream),
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                renderer,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        )
        variant(name, lambda: None, lambda bound=bound: bound.info("request", **FIELDS))


def _repeat(line, count: int) -> None:
    for _ in range(count):
        line()


class _StdlibJsonFormatter(logging.Formatter):
    """The JSON formatter the app had before (``json.dumps``, a ``datetime`` per record)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in FIELDS})
        return json.dumps(entry, default=str)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        inner(sys.argv[2])
    else:
        main()
