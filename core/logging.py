"""Logging: plain text by default, one JSON object per line with ``LOG_FORMAT=json``.

Every request ends with one ``loopwave.request`` line: request id, method, path, status,
duration, and the tenant and key ids when a key authenticated. The line is built from named
fields only, never from headers or bodies, so a secret cannot leak into it (the query string
is left out for the same reason).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

from flask import Flask, g, request

_HANDLER_MARK = "_loopwave_handler"
_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "tenant_id", "key_id")
request_log = logging.getLogger("loopwave.request")


class JsonFormatter(logging.Formatter):
    """One JSON object per record; request lines carry their fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in _FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(app: Flask) -> None:
    """Install one root handler (replacing ours from an earlier app) and the request line."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    setattr(handler, _HANDLER_MARK, True)
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])

    @app.before_request
    def start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        started = g.get("request_started", time.perf_counter())
        api_key = g.get("api_key")
        fields = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "tenant_id": api_key.tenant_id if api_key else None,
            "key_id": api_key.key_id if api_key else None,
        }
        request_log.info(
            "%s %s %s %.1fms",
            request.method,
            request.path,
            response.status_code,
            fields["duration_ms"],
            extra=fields,
        )
        return response
