"""Pentest F2: gunicorn logged requests it refused verbatim, full keys included (SPEC §5: no
log line holds a key). Its lines now go through ``core.gunicornlog.RedactKeys``."""

from __future__ import annotations

import logging
import socket
import sys

import pytest

from core.gunicornlog import RedactKeys
from tenants.keyformat import REDACTED
from tests.servers import Gunicorn

pytestmark = pytest.mark.server


def _send_raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


MALFORMED = [
    # A header line without its colon.
    b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nx-tenant-api-key %s\r\n\r\n",
    # A control character in a request line that carries a key in its query string.
    b"GET /api/v1/contacts?api_key=%s&q=\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
]


def test_gunicorn_never_logs_a_key_from_a_request_it_refuses(
    migrated, server_env, tmp_path, api_key
):
    key = api_key()
    log_path = tmp_path / "gunicorn.log"
    server = Gunicorn({**server_env, "LOG_LEVEL": "info"}, workers=1, log_path=log_path)
    try:
        for template in MALFORMED:
            answer = _send_raw(server.port, template % key.encode())
            assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    finally:
        server.stop()
    logged = log_path.read_text()
    assert "Invalid request from ip=" in logged  # gunicorn did log the refusals
    assert key not in logged and key[:20] not in logged
    assert logged.count(REDACTED) >= len(MALFORMED)


def test_the_filter_cleans_arguments_and_tracebacks():
    key = "lw_live_" + "A" * 40
    try:
        raise ValueError(f"bad {key}")
    except ValueError:
        record = logging.LogRecord(
            "gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s",
            (f"/x?k={key}",), sys.exc_info(),
        )  # fmt: skip
    assert RedactKeys().filter(record)
    text = logging.Formatter().format(record)
    assert key not in text
    assert text.count(REDACTED) == 2
