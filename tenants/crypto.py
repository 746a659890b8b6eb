"""Hashing and constant-time comparison: the only place the store touches secret material.

API keys carry 154 random bits, so a single SHA-256 is the right hash: a password hash
(scrypt, bcrypt) guards low-entropy secrets and would cost every request dearly for nothing.
"""

import hashlib
import hmac


def key_hash(full_key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(full_key.encode("ascii")).hexdigest()


def idempotency_key_digest(idempotency_key: str) -> str:
    """The SHA-256 hex digest under which an ``Idempotency-Key`` is stored and looked up.

    The header is free text a client may fill with anything, an API key included, so only a
    digest is kept: retries match on it exactly as on the text. The label keeps it apart from
    ``key_hash``: a key sent as an idempotency key is not stored under its own lookup hash.
    """
    return hashlib.sha256(b"Idempotency-Key\x00" + idempotency_key.encode()).hexdigest()


def cache_digest(presented: str) -> bytes:
    """The BLAKE2s digest under which a worker remembers a presented key it has verified.

    Never stored or logged: it only names entries of the in-process cache, so that the raw
    key is not kept there. BLAKE2s is as collision-resistant as SHA-256 and is built into
    Python, whereas each SHA-256 here goes through OpenSSL 3's per-call digest set-up, several
    times dearer on the gunicorn hot path (docs/performance.md).
    """
    return hashlib.blake2s(presented.encode("utf-8", "surrogatepass")).digest()


def constant_time_equals(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def body_fingerprint(*parts: bytes) -> str:
    """A digest of a request (method, path, body) used to match idempotent retries."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
