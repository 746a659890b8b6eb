"""TLS to the checked address (SPEC §10): the connection goes to the address the host name
resolved to when it was checked, while the certificate is verified against the URL's host
name (sent as SNI). A real HTTPS receiver on loopback, its certificates made here."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tenants.outbound import Sender

HOST = "hooks.example.test"  # resolves nowhere but in this test: to 127.0.0.1


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    pem_path: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _authority(directory: Path, label: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(label))
        .issuer_name(_name(label))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Authority(key, cert, path)


def _leaf(directory: Path, ca: Authority, names: list[x509.GeneralName]) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("receiver"))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    cert_path, key_path = directory / "leaf.pem", directory / "leaf.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class HttpsReceiver:
    """Answers POSTs with 200 over TLS on 127.0.0.1; records SNI names and Host headers."""

    def __init__(self, cert_path: Path, key_path: Path):
        self.sni: list[str | None] = []
        self.hosts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.hosts.append(self.headers.get("host", ""))
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        context.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def resolved(monkeypatch) -> list[str]:
    """``HOST`` resolves to 127.0.0.1; every name looked up is listed."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host == HOST:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def ca(tmp_path) -> Authority:
    return _authority(tmp_path, "test-ca")


def _serve(tmp_path, ca: Authority, names: list[x509.GeneralName]) -> Iterator[HttpsReceiver]:
    receiver = HttpsReceiver(*_leaf(tmp_path, ca, names))
    yield receiver
    receiver.stop()


def _post(sender: Sender, port: int):
    return sender.post(f"https://{HOST}:{port}/hooks", b"{}", {"content-type": "application/json"})


def test_the_certificate_is_checked_against_the_urls_host_on_the_checked_address(
    tmp_path, ca, resolved
):
    for receiver in _serve(tmp_path, ca, [x509.DNSName(HOST)]):
        answer = _post(Sender(True, ca_certs=str(ca.pem_path)), receiver.port)
        assert answer.status == 200, answer.error
        assert receiver.sni == [HOST]  # SNI names the URL's host, not the address
        assert receiver.hosts == [f"{HOST}:{receiver.port}"]
        # The name was resolved once, by the check; the connection used that address.
        assert resolved.count(HOST) == 1


def test_a_certificate_for_another_host_fails_the_attempt(tmp_path, ca, resolved):
    for receiver in _serve(tmp_path, ca, [x509.DNSName("other.example.test")]):
        answer = _post(Sender(True, ca_certs=str(ca.pem_path)), receiver.port)
        assert answer.status is None and answer.error
        assert "SSL" in answer.error or "MaxRetry" in answer.error
        assert receiver.hosts == []  # nothing was sent


def test_a_certificate_for_the_connected_address_only_fails_the_attempt(tmp_path, ca, resolved):
    """Checked against the name in the URL, not against the address connected to."""
    names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for receiver in _serve(tmp_path, ca, names):
        answer = _post(Sender(True, ca_certs=str(ca.pem_path)), receiver.port)
        assert answer.status is None and answer.error
        assert receiver.hosts == []


def test_a_certificate_from_an_untrusted_authority_fails_the_attempt(tmp_path, ca, resolved):
    for receiver in _serve(tmp_path, ca, [x509.DNSName(HOST)]):
        answer = _post(Sender(True), receiver.port)  # the public authorities only
        assert answer.status is None and answer.error
        assert receiver.hosts == []
