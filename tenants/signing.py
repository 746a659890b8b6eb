"""Standard Webhooks signatures (https://www.standardwebhooks.com): what a delivery carries.

``webhook-signature`` holds one ``v1,<base64 HMAC-SHA256>`` per valid secret, separated by
spaces: during a rotation's 24 hours the new and the old secret both sign, so a receiver
still configured with either verifies the delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from tenants.secretbox import SECRET_PREFIX


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets
        ),
        "content-type": "application/json",
        "user-agent": "Loopwave-Webhooks/1",
    }
