"""The per-application services as Flask extensions, built for an app by ``init_app`` as ``db``
is: the key store, the usage buffer, the webhook store and the sign-in settings here; the rate
limiter and the failed-authentication limit beside their code (``core.ratelimit``,
``core.authfailures``).

Each is created once, in ``core.extensions``; ``get`` returns the current app's, typed. The
state lives in ``app.extensions`` under the service's own name, so one process can hold many
apps (the tests build one per test).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import ClassVar, Generic, TypeVar

from flask import Flask, current_app
from flask.sansio.app import App
from flask_sqlalchemy import SQLAlchemy

from core.signin import SignInSettings
from tenants import idempotency
from tenants.changes import CountedSignal, read_generation
from tenants.idempotency import PURGE_EVERY_SECONDS
from tenants.keys import KeyStore
from tenants.redis_signal import RedisSignal
from tenants.redis_usage import RedisUsageBuffer
from tenants.secretbox import SecretBox
from tenants.signal import FileSignal, Signal
from tenants.usage import UsageBuffer
from tenants.webhooks import WebhookStore

Service = TypeVar("Service")


class AppService(Generic[Service]):
    """A Flask extension holding one ``Service`` per application."""

    name: ClassVar[str]

    def get(self, app: App | None = None) -> Service:
        """The service of ``app``, or of the current application."""
        service: Service = (current_app if app is None else app).extensions[self.name]
        return service

    def _install(self, app: App, service: Service) -> None:
        app.extensions[self.name] = service


class KeyStoreService(AppService[KeyStore]):
    name = "loopwave.keystore"

    def init_app(self, app: Flask, db: SQLAlchemy) -> None:
        with app.app_context():
            engine = db.engine
        store = KeyStore(
            db.session,
            _signal(app, lambda: read_generation(engine)),
            app.config["API_KEY_PREFIX"],
            app.config["MAX_ACTIVE_KEYS_PER_TENANT"],
        )
        self._install(app, store)


def _signal(app: Flask, generation: Callable[[], int]) -> Signal:
    """The database's change counter, announced through Redis, reaches every instance; the
    mmap'd file reaches every process of one machine."""
    if app.config["REDIS_URL"]:
        channel = RedisSignal(app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"])
        return CountedSignal(generation, channel)
    return FileSignal(os.path.join(app.instance_path, "keystore.generation"))


class UsageBufferService(AppService[UsageBuffer]):
    """Usage counts, buffered in the process (or Redis) and flushed to the database; the
    buffer's periodic work also purges expired idempotency records."""

    name = "loopwave.usage"

    def init_app(self, app: Flask, db: SQLAlchemy) -> None:
        with app.app_context():
            engine = db.engine
        flush_seconds = app.config["USAGE_FLUSH_SECONDS"]
        if app.config["REDIS_URL"]:
            buffer: UsageBuffer = RedisUsageBuffer(
                lambda: engine,
                app.config["REDIS_URL"],
                app.config["REDIS_NAMESPACE"],
                flush_seconds,
            )
        else:
            buffer = UsageBuffer(lambda: engine, flush_seconds)
        buffer.add_periodic(partial(idempotency.purge_expired, engine), PURGE_EVERY_SECONDS)
        self._install(app, buffer)


class WebhookStoreService(AppService[WebhookStore]):
    """Webhook endpoints and deliveries; their signing secrets sealed with ``SECRET_KEY``."""

    name = "loopwave.webhooks"

    def init_app(self, app: Flask, db: SQLAlchemy) -> None:
        store = WebhookStore(
            db.session, SecretBox(app.config["SECRET_KEY"]), app.config["WEBHOOK_ALLOW_PRIVATE"]
        )
        self._install(app, store)


class SignInService(AppService[SignInSettings]):
    """What the dashboard needs to sign people in, provided by the console's set-up
    (``console.services``), which the dashboard may not import."""

    name = "loopwave.sign_in"

    def init_app(self, app: Flask, settings: SignInSettings) -> None:
        self._install(app, settings)
