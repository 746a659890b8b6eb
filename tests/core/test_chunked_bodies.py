"""Chunked request bodies against real gunicorn, over raw sockets (no client library would
send a broken chunk): the 1 MiB limit and the JSON envelopes hold for them too, before any
view runs, also on a route that ignores its body.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.servers import Gunicorn

pytestmark = pytest.mark.server

MIB = 1024 * 1024


@pytest.fixture
def live(app, server_env, tmp_path) -> Iterator[Gunicorn]:
    server = Gunicorn({**server_env, "DEV_LOGIN": "1"}, workers=2, log_path=tmp_path / "g.log")
    yield server
    server.stop()


class Admin:
    """A console admin of a fresh organization (its tenant made just in time) and one key."""

    def __init__(self, url: str) -> None:
        minted = requests.post(
            f"{url}/dev-login/token",
            json={"user_id": "user_chunks", "org_id": "org_chunks", "role": "admin"},
            timeout=10,
        )
        self.console = {"Authorization": f"Bearer {minted.json()['token']}"}
        created = requests.post(
            f"{url}/console/keys", json={"name": "k"}, headers=self.console, timeout=10
        )
        assert created.status_code == 201, created.text
        self.url = url
        self.key_id = created.json()["id"]
        self.key = created.json()["key"]

    def key_works(self, key: str | None = None) -> bool:
        answer = requests.get(
            f"{self.url}/api/v1/health", headers={"x-tenant-api-key": key or self.key}, timeout=10
        )
        return answer.status_code == 200

    def contacts(self) -> list:
        listed = requests.get(
            f"{self.url}/api/v1/contacts", headers={"x-tenant-api-key": self.key}, timeout=10
        )
        return listed.json()["data"]


@pytest.fixture
def admin(live) -> Admin:
    return Admin(live.url)


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def send_raw(port: int, method: str, path: str, headers: dict[str, str], body: bytes):
    """One request with ``Transfer-Encoding: chunked`` and ``body`` as the chunked bytes;
    the status and the decoded JSON answer. The body is sent from a thread: the server may
    answer (and close) before it has read everything."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    head += "Content-Type: application/json\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:

        def send() -> None:
            # The server may answer and close first: its answer is still read below.
            with contextlib.suppress(OSError):
                sock.sendall(head.encode() + body)

        sender = threading.Thread(target=send)
        sender.start()
        received = bytearray()
        with contextlib.suppress(ConnectionResetError):
            while data := sock.recv(65536):
                received += data
        sender.join()
    head_bytes, _, payload = bytes(received).partition(b"\r\n\r\n")
    status = int(head_bytes.split(b" ", 2)[1])
    return status, json.loads(payload)


BROKEN_CHUNKS = {
    "hex prefix": b"0x10\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n",
    "negative size": b"-1\r\nx\r\n0\r\n\r\n",
    "not hex": b"zz\r\nx\r\n0\r\n\r\n",
    "missing terminator": b"5\r\nhelloXX0\r\n\r\n",
}


@pytest.mark.parametrize("body", BROKEN_CHUNKS.values(), ids=BROKEN_CHUNKS.keys())
def test_an_undecodable_chunked_body_is_a_400_envelope_and_changes_nothing(live, admin, body):
    api = {"x-tenant-api-key": admin.key}
    status, answer = send_raw(live.port, "POST", "/api/v1/contacts", api, body)
    assert status == 400, answer
    assert answer["error"]["code"] == "VALIDATION_ERROR"
    status, answer = send_raw(
        live.port, "POST", f"/console/keys/{admin.key_id}/revoke", admin.console, body
    )
    assert status == 400, answer
    assert admin.contacts() == [] and admin.key_works()


def test_a_chunked_body_over_one_mebibyte_is_a_413_even_where_the_body_is_ignored(live, admin):
    body = chunked(*[b"x" * (64 * 1024)] * 16, b"y")  # 1 MiB and one byte
    path = f"/console/keys/{admin.key_id}/revoke"
    status, answer = send_raw(live.port, "POST", path, admin.console, body)
    assert status == 413, answer
    assert answer["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert answer["request_id"]
    assert admin.key_works(), "a refused request must change nothing"


def test_a_chunked_body_of_exactly_one_mebibyte_is_read(live, admin):
    text = "a" * (MIB - 100)
    document = json.dumps({"name": "Ada", "phone": "+14155550100", "email": text}).encode()
    padding = b" " * (MIB - len(document))
    status, answer = send_raw(
        live.port,
        "POST",
        "/api/v1/contacts",
        {"x-tenant-api-key": admin.key},
        chunked(document[:1000], document[1000:] + padding),
    )
    assert status == 400, answer  # read whole: the email is refused as too long, not a 413
    assert answer["error"]["code"] == "VALIDATION_ERROR"
    assert answer["error"]["details"]["fields"][0]["field"] == "email"


def test_a_valid_chunked_body_is_used_like_any_other(live, admin):
    document = json.dumps({"name": "Ada", "phone": "+14155550100"}).encode()
    status, answer = send_raw(
        live.port,
        "POST",
        "/api/v1/contacts",
        {"x-tenant-api-key": admin.key},
        chunked(document[:7], document[7:]),
    )
    assert status == 201, answer
    assert [contact["name"] for contact in admin.contacts()] == ["Ada"]
    # rotate reads an optional body: a chunked one carries its grace period too
    status, answer = send_raw(
        live.port,
        "POST",
        f"/console/keys/{admin.key_id}/rotate",
        admin.console,
        chunked(b'{"grace_seconds": 3600}'),
    )
    assert status == 201, answer
    assert admin.key_works(answer["key"])
    assert admin.key_works(), "the old key keeps its grace period"
