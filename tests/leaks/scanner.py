"""A secret scanner of our own on loopback: publishes its P-256 public key as GitHub does
(``{"public_keys": [{"key_identifier", "key", "is_current"}]}``) and signs reports."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


class Scanner:
    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.identifier = "test-key-" + base64.b16encode(os_random(4)).decode()
        self.fetches = 0
        self.available = True
        scanner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                scanner.fetches += 1
                if not scanner.available:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"public_keys": [scanner.published()]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/meta/public_keys"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def published(self) -> dict:
        pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"key_identifier": self.identifier, "key": pem.decode(), "is_current": True}

    def sign(self, body: bytes, key: ec.EllipticCurvePrivateKey | None = None) -> dict:
        signature = (key or self.private_key).sign(body, ec.ECDSA(hashes.SHA256()))
        return {
            "Github-Public-Key-Identifier": self.identifier,
            "Github-Public-Key-Signature": base64.b64encode(signature).decode(),
            "Content-Type": "application/json",
        }

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def os_random(size: int) -> bytes:
    import os

    return os.urandom(size)
