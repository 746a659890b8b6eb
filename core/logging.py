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
from typing import Any

from flask import Flask

from core.requestid import REQUEST_ID

# Where the authenticated caller (anything with ``tenant_id`` and ``key_id``) is noted in the
# WSGI environ for the log line.
CALLER = "loopwave.caller"

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

    The request line itself is written by ``log_request``, from ``core.middleware``.
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


def log_request(environ: dict[str, Any], answered: list[str], started: float) -> None:
    """The one ``loopwave.request`` line of a request (skipped cheaply below INFO).

    ``answered``: the status line the application answered with, if it did.
    """
    if not request_log.isEnabledFor(logging.INFO):
        return
    status = int(answered[0][:3]) if answered else None
    caller = environ.get(CALLER)
    fields = {
        "request_id": environ.get(REQUEST_ID),
        "method": environ.get("REQUEST_METHOD"),
        # WSGI carries the path as latin-1 text; Werkzeug decodes it as UTF-8 the same way.
        "path": environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace"),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "tenant_id": getattr(caller, "tenant_id", None),
        "key_id": getattr(caller, "key_id", None),
    }
    request_log.info(
        "%s %s %s %.1fms",
        fields["method"],
        fields["path"],
        fields["status"],
        fields["duration_ms"],
        extra=fields,
    )
