"""The staff console: server-rendered pages for the cooperative's office (German first, English second).

Every page and action needs a signed-in staff member (ivr.console.web.guard); forms carry a CSRF
token (Flask-WTF, field `csrf_token`); staff actions go to the audit log (ivr.console.audit).
Works without JavaScript; every asset is served from ivr/console/static.
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

log = logging.getLogger("hausruf.console")
csrf = CSRFProtect()
login_manager = LoginManager()


class SecretKeyMissing(RuntimeError):
    """HAUSRUF_SECRET_KEY is not set where the console runs for real."""


SECRET_KEY_HELP = ("HAUSRUF_SECRET_KEY is not set: the staff console signs its login cookies with it. "
                   "Set it to a long random value in the environment or in .env, e.g. "
                   "HAUSRUF_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))'); "
                   "`make demo` writes one into .env for you.")


def require_secret_key(settings) -> None:
    """Stop a server start with a clear message when no secret key is configured (`hausruf serve`)."""
    if not settings.secret_key:
        raise SecretKeyMissing(SECRET_KEY_HELP)


def init_app(app: Flask) -> None:
    """Register the console's blueprint, sessions, CSRF protection and cookie settings."""
    settings = app.config["HAUSRUF"]
    if settings.secret_key:
        app.secret_key = settings.secret_key
    else:
        # In-process apps (tests, scripts) get a key of their own; `hausruf serve` refuses to start
        # without one (require_secret_key), since each server process would otherwise sign differently.
        app.secret_key = secrets.token_urlsafe(32)
        log.warning("HAUSRUF_SECRET_KEY is not set: staff sessions end when this process stops")
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_NAME="hausruf_session",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_SECURE=secure,
        # CSRF is checked by the console's own guard, so the Twilio webhooks (signed instead) stay untouched.
        WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "console.login"
    login_manager.session_protection = "strong"

    from ivr.console import web

    web.register(app)
