"""A real identity provider for tests: JWKS (and OIDC discovery) over HTTP on loopback.

It signs Clerk-shaped session tokens with keys the test generates, counts every JWKS fetch,
rotates its keys, and can be made to fail or stop, so the console's verification is tested
against the network behaviour it will meet, not against a patched function.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AZP = "http://localhost:3000"
AUDIENCE = "loopwave-console"
DROP = object()  # a claim override that removes the claim


@lru_cache(maxsize=8)
def _rsa_key(slot: int) -> rsa.RSAPrivateKey:
    """RSA generation is slow; tests reuse a few keys under fresh ``kid``s."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


_slots = iter(range(10**9))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Any
    algorithm: str

    @classmethod
    def rsa(cls) -> SigningKey:
        return cls(f"kid_{secrets.token_hex(6)}", _rsa_key(next(_slots) % 8), "RS256")

    @classmethod
    def ec(cls) -> SigningKey:
        return cls(f"kid_{secrets.token_hex(6)}", ec.generate_private_key(ec.SECP256R1()), "ES256")

    def public_jwk(self) -> dict[str, Any]:
        algorithm = RSAAlgorithm if self.algorithm == "RS256" else ECAlgorithm
        public = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand, for attacks PyJWT refuses to produce (``alg: none``...)."""
    encoded = [b64(json.dumps(part).encode()) for part in (header, claims)]
    return ".".join([*encoded, b64(signature)])


class IdentityProvider:
    def __init__(self) -> None:
        self.signing_key = SigningKey.rsa()
        self.published: list[SigningKey] = [self.signing_key]
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self.failing = False
        # Ways to misbehave: JWKS members served after the real keys, a raw JWKS body served
        # instead of the keys, a redirect answered instead, another issuer in the discovery
        # document or a raw body instead of it, and a gate every JWKS answer waits at
        # (``held`` counts the answers that reached it).
        self.extra_members: list[Any] = []
        self.raw_jwks: bytes | None = None
        self.jwks_redirect: str | None = None
        self.discovery_issuer: str | None = None
        self.raw_discovery: bytes | None = None
        self.gate: threading.Event | None = None
        self.held = threading.Semaphore(0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.jwks_url = f"{self.issuer}/.well-known/jwks.json"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if provider.failing:
                    return self._send(503, {"error": "unavailable"})
                if self.path == "/.well-known/jwks.json":
                    return self._jwks()
                if self.path == "/.well-known/openid-configuration":
                    provider.discovery_fetches += 1
                    if provider.raw_discovery is not None:
                        return self._send(200, provider.raw_discovery)
                    issuer = provider.discovery_issuer or provider.issuer
                    return self._send(200, {"issuer": issuer, "jwks_uri": provider.jwks_url})
                return self._send(404, {"error": "not found"})

            def _jwks(self) -> None:
                provider.jwks_fetches += 1
                gate = provider.gate
                if gate is not None:
                    provider.held.release()
                    gate.wait()
                if provider.jwks_redirect is not None:
                    return self._send(302, {}, {"Location": provider.jwks_redirect})
                if provider.raw_jwks is not None:
                    return self._send(200, provider.raw_jwks)
                keys = [key.public_jwk() for key in provider.published]
                return self._send(200, {"keys": [*keys, *provider.extra_members]})

            def _send(
                self, status: int, body: dict | bytes, headers: dict[str, str] | None = None
            ) -> None:
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        return Handler

    def rotate(self, algorithm: str = "RS256", keep_old: bool = True) -> SigningKey:
        """Sign with a new key from now on; publish it (and, with ``keep_old``, the old one)."""
        self.signing_key = SigningKey.rsa() if algorithm == "RS256" else SigningKey.ec()
        self.published = [*(self.published if keep_old else []), self.signing_key]
        return self.signing_key

    def claims(
        self,
        sub: str = "user_admin",
        org_id: str | None = "org_acme",
        role: str = "admin",
        version: int = 2,
        **overrides: Any,
    ) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "azp": AZP,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + 60,
            "sid": f"sess_{secrets.token_hex(8)}",
        }
        if version == 2:
            claims.update({"v": 2, "sts": "active"})
            if org_id is not None:
                claims["o"] = {"id": org_id, "rol": role, "slg": "acme", "per": [], "fpm": ""}
        elif org_id is not None:
            claims.update(
                org_id=org_id, org_role=f"org:{role}", org_slug="acme", org_permissions=[]
            )
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not DROP}

    def token(
        self,
        signing_key: SigningKey | None = None,
        headers: dict[str, Any] | None = None,
        **claim_args: Any,
    ) -> str:
        key = signing_key or self.signing_key
        return jwt.encode(
            self.claims(**claim_args),
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, **(headers or {})},
        )

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def console_config(idp: IdentityProvider) -> dict[str, Any]:
    """The configuration that trusts ``idp`` as the console's main provider (``CONSOLE_ISSUER``),
    requiring ``azp`` to be ``AZP`` and ``aud`` to contain ``AUDIENCE``."""
    return {
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": [AZP],
        "CONSOLE_AUDIENCE": AUDIENCE,
        "CONSOLE_JWKS_MIN_REFRESH_SECONDS": 30,
    }


def further_providers_config(idp: IdentityProvider, *further: dict[str, Any]) -> dict[str, Any]:
    """``idp`` as the main provider (as ``console_config``, without its JWKS refresh floor) and
    ``further`` providers in ``CONSOLE_IDPS``."""
    return {
        "CONSOLE_ISSUER": idp.issuer,
        "CONSOLE_JWKS_URL": idp.jwks_url,
        "CONSOLE_AUTHORIZED_PARTIES": [AZP],
        "CONSOLE_AUDIENCE": AUDIENCE,
        "CONSOLE_IDPS": json.dumps(list(further)),
    }
