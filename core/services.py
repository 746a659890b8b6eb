"""Typed accessors for the per-application services that ``create_app`` builds."""

from __future__ import annotations

from flask import current_app

from core.signin import SignInSettings
from tenants.keys import KeyStore
from tenants.usage import UsageBuffer
from tenants.webhooks import WebhookStore

KEYSTORE = "loopwave.keystore"
USAGE = "loopwave.usage"
CONSOLE_AUTH = "loopwave.console_auth"
CONSOLE_TENANTS = "loopwave.console_tenants"
SIGN_IN = "loopwave.sign_in"
WEBHOOKS = "loopwave.webhooks"


def keystore() -> KeyStore:
    store: KeyStore = current_app.extensions[KEYSTORE]
    return store


def usage_buffer() -> UsageBuffer:
    buffer: UsageBuffer = current_app.extensions[USAGE]
    return buffer


def webhooks() -> WebhookStore:
    store: WebhookStore = current_app.extensions[WEBHOOKS]
    return store


def sign_in_settings() -> SignInSettings:
    """What the dashboard needs to sign people in (dev sign-in on? Clerk publishable key?)."""
    settings: SignInSettings = current_app.extensions[SIGN_IN]
    return settings
