"""The application factory: configuration, extensions, blueprints, error handlers, CLI."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from console.extensions import console_auth
from core.config import app_config, development_secret, read_settings
from core.database import install_connection_checks
from core.errors import register_error_handlers
from core.extensions import (
    auth_failures,
    console_writes,
    db,
    keystore,
    migrate,
    rate_limiter,
    security_headers,
    usage_buffer,
    webhooks,
)
from core.health import register_health_routes
from core.http import LoopwaveFlask, collect_public_endpoints, install_request_plumbing
from core.logging import configure_logging
from core.metrics import init_metrics


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
    keystore.init_app(app, db)
    usage_buffer.init_app(app, db)
    webhooks.init_app(app, db)
    rate_limiter.init_app(app)
    auth_failures.init_app(app)
    console_writes.init_app(app)
    console_auth.init_app(app, keystore.get(app))

    install_request_plumbing(app)
    security_headers.init_app(app)
    register_error_handlers(app)
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

    from security import bp as security_bp

    app.register_blueprint(security_bp)

    from core.docs import bp as docs_bp

    app.register_blueprint(docs_bp)
    init_metrics(app)
    collect_public_endpoints(app)

    from cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
    return app
