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
    """Install one root handler (replacing ours from an earlier app).

    The request line itself is written by ``log_request``, from ``core.http``'s one
    after-request hook.
    """
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


def log_request(response) -> None:
    """The one ``loopwave.request`` line of a request (skipped cheaply below INFO)."""
    if not request_log.isEnabledFor(logging.INFO):
        return
    context = g._get_current_object()
    started = context.get("request_started", time.perf_counter())
    api_key = context.get("api_key")
    fields = {
        "request_id": context.get("request_id"),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "tenant_id": api_key.tenant_id if api_key else None,
        "key_id": api_key.key_id if api_key else None,
    }
    request_log.info(
        "%s %s %s %.1fms",
        fields["method"],
        fields["path"],
        fields["status"],
        fields["duration_ms"],
        extra=fields,
    )
