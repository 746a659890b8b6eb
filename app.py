"""The application factory: configuration, extensions, blueprints, error handlers, CLI."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from flask import Flask

from console.devlogin import EXTENSION as DEV_LOGIN_KEY
from console.devlogin import DevLoginKey
from console.providers import build_console_auth, sign_in_settings
from console.tenancy import TenantDirectory
from core.authfailures import init_auth_failure_limit
from core.config import app_config, development_secret, read_settings
from core.database import install_connection_checks
from core.errors import register_error_handlers
from core.extensions import db, migrate
from core.health import register_health_routes
from core.http import LoopwaveFlask, collect_public_endpoints, install_request_plumbing
from core.logging import configure_logging
from core.metrics import init_metrics
from core.ratelimit import init_rate_limits
from core.services import CONSOLE_AUTH, CONSOLE_TENANTS, KEYSTORE, SIGN_IN, USAGE, WEBHOOKS
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


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = read_settings(config)
    app = LoopwaveFlask(__name__, instance_path=settings.LOOPWAVE_INSTANCE_PATH)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(app_config(settings, app.instance_path, config))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = development_secret(app.instance_path)
    configure_logging(app)

    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(app.root_path, "migrations"), render_as_batch=True
    )
    with app.app_context():
        install_connection_checks(db.engine)
        app.extensions[KEYSTORE] = KeyStore(
            db.session,
            _signal(app),
            app.config["API_KEY_PREFIX"],
            app.config["MAX_ACTIVE_KEYS_PER_TENANT"],
        )
        app.extensions[USAGE] = _usage_buffer(app)
        app.extensions[WEBHOOKS] = WebhookStore(
            db.session, SecretBox(app.config["SECRET_KEY"]), app.config["WEBHOOK_ALLOW_PRIVATE"]
        )

    dev_key = DevLoginKey.load_or_create(app.instance_path) if app.config["DEV_LOGIN"] else None
    app.extensions[DEV_LOGIN_KEY] = dev_key
    console_auth = build_console_auth(app.config, dev_key.jwks if dev_key else None)
    app.extensions[CONSOLE_AUTH] = console_auth
    app.extensions[CONSOLE_TENANTS] = TenantDirectory(app.extensions[KEYSTORE])
    app.extensions[SIGN_IN] = sign_in_settings(app.config, console_auth)

    install_request_plumbing(app)
    register_error_handlers(app)
    init_rate_limits(app)
    init_auth_failure_limit(app)
    register_health_routes(app)

    from api import bp as api_bp

    app.register_blueprint(api_bp)

    from console import bp as console_bp
    from console.devlogin import bp as dev_login_bp

    app.register_blueprint(console_bp)
    if app.config["DEV_LOGIN"]:
        app.register_blueprint(dev_login_bp)

    from dashboard import bp as dashboard_bp

    app.register_blueprint(dashboard_bp)

    from core.docs import bp as docs_bp

    app.register_blueprint(docs_bp)
    init_metrics(app)
    collect_public_endpoints(app)

    from cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
    return app


def _signal(app: Flask) -> Signal:
    """The database's change counter, announced through Redis, reaches every instance; the
    mmap'd file reaches every process of one machine."""
    if app.config["REDIS_URL"]:
        engine = db.engine
        channel = RedisSignal(app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"])
        return CountedSignal(lambda: read_generation(engine), channel)
    return FileSignal(os.path.join(app.instance_path, "keystore.generation"))


def _usage_buffer(app: Flask) -> UsageBuffer:
    engine = db.engine
    flush_seconds = app.config["USAGE_FLUSH_SECONDS"]
    if app.config["REDIS_URL"]:
        buffer: UsageBuffer = RedisUsageBuffer(
            lambda: engine, app.config["REDIS_URL"], app.config["REDIS_NAMESPACE"], flush_seconds
        )
    else:
        buffer = UsageBuffer(lambda: engine, flush_seconds)
    buffer.add_periodic(partial(idempotency.purge_expired, engine), PURGE_EVERY_SECONDS)
    return buffer
