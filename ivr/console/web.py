"""The console's blueprint: the guard every request passes, sign-in and sign-out, language, shared helpers."""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError

from ivr.console import csrf, login_manager
from ivr.console.i18n import LANGUAGES, translate
from ivr.db.models import StaffAccount
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.console")
bp = Blueprint("console", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")
PUBLIC_ENDPOINTS = ("console.login", "console.static", "console.language")


class ConsoleUser(UserMixin):
    """The signed-in account, detached from any database session (pages read it after theirs closed)."""

    def __init__(self, account: StaffAccount):
        self.id = account.id
        self.email = account.email
        self.name = account.name
        self.role = account.role
        # A password change or a disabled account ends every session that was opened before it.
        self._session_id = f"{account.id}:{account.password_hash[-16:]}"

    def get_id(self) -> str:
        return self._session_id

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@login_manager.user_loader
def load_user(session_id: str) -> ConsoleUser | None:
    """The account behind a session cookie, if it still exists, is active and has the same password."""
    from ivr.db import get_read_session

    account_id, _, stamp = session_id.partition(":")
    if not account_id.isdigit():
        return None
    account = get_read_session().get(StaffAccount, int(account_id))
    if account is None or not account.active or account.password_hash[-16:] != stamp:
        return None
    return ConsoleUser(account)


@login_manager.unauthorized_handler
def unauthorized():
    """Without a session: to the sign-in page, remembering where the person wanted to go."""
    return redirect(url_for("console.login", next=_local_path(request.full_path)), 303)


@bp.before_request
def guard():
    """Every console request: sign-in required (except the sign-in page itself), CSRF token on every POST."""
    if request.endpoint not in PUBLIC_ENDPOINTS and not current_user.is_authenticated:
        return unauthorized()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


def admin_required(view):
    """Only for the admin role (accounts, flows, deleting people); others get 403."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    """A form without a valid token (an old page, or a forged request from another site)."""
    return render_template("console/error.html", title=_("Formular abgelaufen"),
                           message=_("Das Formular ist abgelaufen oder kam nicht von dieser Seite. "
                                     "Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.")), 400


@bp.errorhandler(403)
def forbidden(error):
    return render_template("console/error.html", title=_("Keine Berechtigung"),
                           message=_("Diese Seite ist nur für Administratoren.")), 403


@bp.errorhandler(404)
def not_found(error):
    return render_template("console/error.html", title=_("Nicht gefunden"),
                           message=_("Diese Seite oder diesen Eintrag gibt es nicht.")), 404


# --- sign-in and sign-out ---------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form (fields email and password) and its check, throttled per account and address."""
    from ivr.console import accounts, throttle
    from ivr.console.audit import client_address, record
    from ivr.db import get_session

    next_path = _local_path(request.values.get("next", "")) or url_for("console.overview")
    if current_user.is_authenticated:
        return redirect(next_path)
    if request.method == "GET":
        return render_template("console/login.html", title=_("Anmelden"), next=next_path)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    db = get_session()
    now = datetime.now(timezone.utc)
    address = client_address()
    wait = throttle.wait_seconds(db, email, address, now)
    if wait:
        log.warning("sign-in for %s from %s refused: too many wrong passwords (wait %s s)",
                    accounts.mask_email(email), address, wait)
        return render_template("console/login.html", title=_("Anmelden"), next=next_path, email=email,
                               error=_("Zu viele falsche Versuche. Bitte warten Sie %(minutes)s Minute(n) "
                                       "und versuchen Sie es dann noch einmal.",
                                       minutes=max(1, round(wait / 60)))), 429
    account = accounts.authenticate(db, email, password, now)
    if account is None:
        throttle.record_failure(db, email, address, now, accounts.mask_email(email))
        db.commit()
        log.warning("wrong password or unknown account %s from %s", accounts.mask_email(email), address)
        return render_template("console/login.html", title=_("Anmelden"), next=next_path, email=email,
                               error=_("E-Mail-Adresse oder Passwort stimmt nicht.")), 401
    user = ConsoleUser(account)
    session.clear()
    login_user(user)
    record(db, "login", f"staff {account.id}")
    db.commit()
    return redirect(next_path, 303)


@bp.post("/logout")
def logout():
    """Sign out (a POST with the CSRF token, so no other site can sign anyone out)."""
    from ivr.console.audit import record
    from ivr.db import get_session

    db = get_session()
    record(db, "logout", f"staff {current_user.id}")
    db.commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Sie sind abgemeldet."))
    return redirect(url_for("console.login"), 303)


@bp.get("/sprache/<lang>")
def language(lang: str):
    """Switch the console's language (German or English) and go back."""
    if lang not in LANGUAGES:
        abort(404)
    session["lang"] = lang
    return redirect(_local_path(request.args.get("next", "")) or url_for("console.overview"))


# --- helpers for templates and views ---------------------------------------------------------------

def current_language() -> str:
    """The language the console speaks in this request: the chosen one, else German."""
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    best = request.accept_languages.best_match(LANGUAGES) if request else None
    return best or "de"


def _(source: str, /, **values) -> str:
    """The console's text in the current language (German is the source)."""
    return translate(source, current_language(), **values)


def local_time(value: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    """A UTC time in the cooperative's time zone, as staff read clocks."""
    if value is None:
        return "–"
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(current_app.config["HAUSRUF"].timezone)).strftime(fmt)


def now_utc() -> datetime:
    """The app's clock (tests pin it)."""
    clock = hausruf(current_app).clock
    return clock() if clock else datetime.now(timezone.utc)


def _local_path(target: str) -> str:
    """Only paths on this site are followed after sign-in (no open redirect)."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not (parts.path or "").startswith("/") or target.startswith("//"):
        return ""
    return target.rstrip("?")


def register(app: Flask) -> None:
    """Import the page modules (they add their routes to bp) and register the blueprint."""
    from ivr.console import calls, directory, flows, housing, overview, simulator, staff, tasks  # noqa: F401

    @app.context_processor
    def console_helpers():
        return {"_": _, "lang": current_language(), "local_time": local_time, "current_user": current_user}

    app.register_blueprint(bp)


def db_read():
    """The request's read-only database session."""
    from ivr.db import get_read_session

    return get_read_session()


def db_write():
    """The request's database session for changes (commit it)."""
    from ivr.db import get_session

    return get_session()


__all__ = ["admin_required", "bp", "db_read", "db_write", "g", "local_time", "now_utc", "_"]
