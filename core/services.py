"""Typed accessors for the per-application services that ``create_app`` builds."""

from __future__ import annotations

from flask import current_app

from tenants.keys import KeyStore
from tenants.usage import UsageBuffer

KEYSTORE = "loopwave.keystore"
USAGE = "loopwave.usage"


def keystore() -> KeyStore:
    return current_app.extensions[KEYSTORE]


def usage_buffer() -> UsageBuffer:
    return current_app.extensions[USAGE]
