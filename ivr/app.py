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
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from ivr import db
    from ivr.calls.contexts import CachedContexts
    from ivr.directory.routing import build_context
    from ivr.flows import runtime
    from ivr.telephony.twilio import webhooks
    from ivr.web import health

    _migrate(settings)
    db.init_app(app)
    runtime.init_app(app)
    app.extensions["hausruf.context_builder"] = CachedContexts(build_context)
    # The only clock the web side reads; tests replace it to pin opening hours and escalations.
    app.extensions["hausruf.clock"] = lambda: datetime.now(timezone.utc)
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    _init_optional(app)
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


def _init_optional(app: Flask) -> None:
    """Subsystems that register themselves: tasks and SMS, media streams, prompt audio."""
    for name in ("ivr.tasks.web", "ivr.telephony.twilio.stream", "ivr.web.prompts"):
        try:
            module = __import__(name, fromlist=["init_app"])
        except ModuleNotFoundError as exc:
            if not name.startswith(exc.name or "?"):
                raise
            continue
        module.init_app(app)
