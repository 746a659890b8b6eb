"""Pentest on a real gunicorn: chunked request bodies (SPEC §4).

* an invalid chunk size (``0x10``) raises gunicorn's ``InvalidChunkSize`` inside the view's
  body read: a 500 instead of a 400;
* a chunked body over 1 MiB to a route that ignores its body (revoke) is not refused: the
  middleware checks only a declared ``Content-Length``, so the key is revoked (200) where the
  answer must be a 413 with nothing changed.
"""

from __future__ import annotations

import socket

import pytest
import requests

from tests.console.idp import AUDIENCE, AZP, bearer
from tests.servers import Gunicorn


@pytest.fixture
def server(server_env, idp, tmp_path):
    env = {
        **server_env,
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": AZP,
        "CONSOLE_AUDIENCE": AUDIENCE,
    }
    running = Gunicorn(env, workers=1, log_path=tmp_path / "gunicorn.log")
    yield running
    running.stop()


def _exchange(server, head: bytes, chunks: list[bytes]) -> bytes:
    """Send ``head`` and ``chunks`` on one connection; the status line and headers answered."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:  # the server may answer (and close) before reading everything
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    return answer


def _head(method: str, path: str, token: str, extra: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"{extra}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()


@pytest.mark.server
def test_an_invalid_chunk_size_is_a_400(server, admin_token):
    head = _head("POST", "/console/keys", admin_token, "Content-Type: application/json\r\n")
    answer = _exchange(server, head, [b'0x10\r\n{"name":"abcdefgh"}\r\n0\r\n\r\n'])
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


@pytest.mark.server
def test_a_chunked_body_over_1_mib_to_revoke_is_a_413_and_revokes_nothing(server, admin_token):
    created = requests.post(
        f"{server.url}/console/keys", json={"name": "victim"}, headers=bearer(admin_token)
    ).json()
    block = b"a" * 65536
    chunks = [b"10000\r\n" + block + b"\r\n"] * 20 + [b"0\r\n\r\n"]  # 1.25 MiB
    answer = _exchange(
        server, _head("POST", f"/console/keys/{created['id']}/revoke", admin_token), chunks
    )
    health = requests.get(
        f"{server.url}/api/v1/health", headers={"x-tenant-api-key": created["key"]}
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert health.status_code == 200, "the key was revoked by a refused request"
