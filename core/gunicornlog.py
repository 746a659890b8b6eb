"""gunicorn's own log lines, cleaned of key-shaped text (SPEC §5: no log line holds a key).

gunicorn writes some requests it refuses into its error log verbatim: a header line without
its colon (``x-tenant-api-key lw_live_…``), a request line with a control character and a key
in its query string, the URI of a request whose handling raised. Those lines never reach the
app, so its own redaction never sees them (docs/security.md, pentest F2).

``RedactingLogger`` is gunicorn's logger (``logger_class`` in ``gunicorn.conf.py``, its
documented extension point) with a filter on its error log that redacts every record's
message, arguments included, and its traceback text. This module imports only
``tenants.keyformat`` of the app: gunicorn's master loads it. gunicorn's statsd logger is
not used (``statsd_host`` would need it as the logger class): metrics are ``/metrics``.
"""

from __future__ import annotations

import logging
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # no stubs

from tenants.keyformat import redact_keys


class RedactKeys(logging.Filter):
    """Rewrite a record whose message or traceback holds key-shaped text; pass every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed call: its parts, redacted, not a raise
            message = f"{record.msg!r} {record.args!r}"
        redacted = redact_keys(message)
        if redacted != message or message is not record.msg:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_keys(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_keys(record.stack_info)
        return True


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """gunicorn's logger with ``RedactKeys`` on its error log (and its access log, if on)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(each, RedactKeys) for each in log.filters):
                log.addFilter(RedactKeys())
