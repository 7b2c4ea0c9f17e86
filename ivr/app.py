"""The Flask app factory: every subsystem registers its blueprints, extensions and teardown here."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Flask

from ivr.config import Settings

log = logging.getLogger("hausruf")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the web app; test_config overrides Settings fields (e.g. {"database_url": ...})."""
    settings = Settings.from_env(**(test_config or {}))

    app = Flask("ivr")
    app.config["HAUSRUF"] = settings
    app.config["DATABASE_URL"] = settings.database_url
    app.config["DATABASE_TIMEOUT"] = settings.database_timeout  # a caller is waiting: never wait long
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from ivr import db
    from ivr.directory.routing import build_context
    from ivr.flows import runtime
    from ivr.tasks import web as tasks_web
    from ivr.telephony.twilio import stream, webhooks
    from ivr.web import health, prompts

    _migrate(settings)
    db.init_app(app)
    runtime.init_app(app)
    app.extensions["hausruf.context_builder"] = build_context
    # The only clock the web side reads; tests replace it to pin opening hours and escalations.
    app.extensions["hausruf.clock"] = lambda: datetime.now(timezone.utc)
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    # Subsystems that register their own routes and extensions.
    tasks_web.init_app(app)
    stream.init_app(app)
    prompts.init_app(app)
    if not (settings.twilio_auth_token and settings.public_url):
        log.warning("TWILIO_AUTH_TOKEN or HAUSRUF_PUBLIC_URL not set: every /twilio/* request gets 403")
    return app


def _migrate(settings: Settings) -> None:
    """Bring the schema up to date; a broken database must not stop the server answering calls."""
    from ivr.db import upgrade

    try:
        upgrade(settings.database_url)
    except Exception:  # noqa: BLE001 - calls still get the staff fallback; the log says why
        log.exception("database migration failed; calls will fall back to staff until it is fixed")
