"""Pentest: a webhook receiver that never stops answering (SPEC §10).

The worker keeps the first KiB of an answer, then drained the rest so the connection could
be reused: ``drain_conn`` reads until the body ends. A tenant's endpoint answering an
endless (or many-GiB) body therefore held a delivery thread for as long as it cared to keep
streaming — and when the lease ran out, the next worker retried into the same trap, so a
single endpoint could stop webhook delivery for every tenant. Now at most a small remainder
is read; beyond it the connection is closed, not reused.
"""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tenants.outbound import Sender
from tests.events.receiver import Receiver

CHUNK = b"x" * 65536
CAP = 256 * 1024 * 1024  # the receiver gives up here, so a failing run still ends


class EndlessReceiver:
    """Answers a body of ``length`` bytes, streamed by ``stream``: here 256 MiB, as fast as read."""

    length = CAP

    def __init__(self) -> None:
        self.sent = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(200)
                self.send_header("content-length", str(receiver.length))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client hung up: what we want
                    receiver.stream(self.wfile)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stream(self, wfile) -> None:
        while self.sent < CAP:
            wfile.write(CHUNK)
            self.sent += len(CHUNK)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def test_an_endless_answer_is_cut_off_after_its_excerpt():
    receiver = EndlessReceiver()
    try:
        answer = Sender(allow_private=True).post(receiver.url, b"{}", {})
    finally:
        receiver.stop()
    assert answer.status == 200 and answer.excerpt == "x" * 1024
    # Socket buffers on loopback hold a few MiB at most; the bug read all 256 MiB.
    assert receiver.sent < 32 * 1024 * 1024, receiver.sent


def test_a_short_answer_still_reuses_the_connection():
    receiver = Receiver(answer=b"y" * 5000)
    sender = Sender(allow_private=True)
    try:
        for _ in range(2):
            answer = sender.post(receiver.url, b"{}", {})
            assert answer.status == 200 and answer.excerpt == "y" * 1024
        (pool,) = sender._pools.values()
        assert pool.num_connections == 1  # the second delivery reused the first connection
    finally:
        receiver.stop()


class DrippingReceiver(EndlessReceiver):
    """Answers a 400-byte body one byte every 50 ms: each read well inside its timeout."""

    length = 400

    def stream(self, wfile) -> None:
        for _ in range(400):
            wfile.write(b"d")
            wfile.flush()
            self.sent += 1
            time.sleep(0.05)


def test_a_dripping_answer_is_cut_off_at_the_answer_deadline():
    receiver = DrippingReceiver()
    try:
        answer = Sender(allow_private=True, answer_seconds=0.3).post(receiver.url, b"{}", {})
    finally:
        receiver.stop()
    assert answer.status == 200
    # Before: every byte was awaited (20 s here; hours for a real 1 KiB excerpt).
    assert 0 < len(answer.excerpt) < 400
