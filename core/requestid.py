"""Request ids: echoed from a safe ``X-Request-Id``, generated otherwise (SPEC §4)."""

from __future__ import annotations

import os
import re

from flask import request

from tenants.keyformat import looks_like_key

# Where ``core.middleware`` keeps the id of each request in the WSGI environ.
REQUEST_ID = "loopwave.request_id"
_SAFE = re.compile(r"[A-Za-z0-9._-]{1,128}")


def new_request_id() -> str:
    # Request ids correlate logs; they need to be unique, not unpredictable. 96 random bits
    # as 24 hex digits: ``bytes.hex`` of the kernel's bytes costs half of formatting
    # ``random.getrandbits(96)`` with ``:024x`` (docs/performance.md).
    return "req_" + os.urandom(12).hex()


def echoable(sent: str) -> bool:
    """A well-formed request id that is not (nearly) an API key: secrets are never echoed."""
    return _SAFE.fullmatch(sent) is not None and not looks_like_key(sent)


def request_id() -> str | None:
    """The id of the current request."""
    # The request itself, not the proxy's ``__getattr__`` fallback (``api.auth``).
    environ: dict[str, str] = request._get_current_object().environ  # type: ignore[attr-defined]
    return environ.get(REQUEST_ID)
