"""A real webhook receiver on loopback: records every request; can fail the first N."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self, fail_first: int = 0, status: int = 200, answer: bytes = b"ok"):
        self.received: list[Received] = []
        # ``hold_first``: the first request waits for ``release`` before it is answered.
        self.hold_first = False
        self.hold_all = False  # every request waits for ``release`` (a receiver that hangs)
        self.holding = 0  # requests waiting for ``release`` now
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        self.fail_first = fail_first
        self.status = status
        self.answer = answer
        self.echo = False  # answer with the request's body, as some receivers do
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    failing = len(receiver.received) <= receiver.fail_first
                    held = receiver.hold_all or (
                        receiver.hold_first and len(receiver.received) == 1
                    )
                    receiver.holding += held
                if held:
                    receiver.first_arrived.set()
                    receiver.release.wait(300 if receiver.hold_all else 30)
                    with receiver._lock:
                        receiver.holding -= 1
                status = 500 if failing else receiver.status
                answer = b"failing on purpose" if failing else receiver.answer
                if receiver.echo:
                    answer = body
                self.send_response(status)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        """True once ``count`` requests have arrived (polls; the bound is for a stuck run)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.received) >= count

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
