"""The database: models, engines and sessions, migrations, and the Flask glue (one session per request)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ivr.db.deadline import DatabaseGate, DatabaseTimeout
from ivr.db.engine import READ_ONLY, make_engine, read_only, session_factory
from ivr.db.migrate import current, upgrade

__all__ = ["DatabaseGate", "DatabaseTimeout", "get_read_session", "get_session", "init_app", "make_engine", "read_only",
           "session_factory", "upgrade", "current"]

def init_app(app: Flask) -> None:
    """The engine (every wait bounded by HAUSRUF_DB_TIMEOUT), the sessions, the webhooks' gate, and teardown."""
    from ivr.wiring import hausruf

    wiring = hausruf(app)
    settings = wiring.settings
    engine = make_engine(settings.database_url, timeout=settings.database_timeout,
                         pool_size=settings.database_pool_size)
    wiring.sessions = session_factory(engine)
    # Same pool; its transactions begin read-only (DEFERRED on SQLite: no write lock taken or awaited).
    wiring.read_sessions = session_factory(engine.execution_options(**{READ_ONLY: True}))
    wiring.database = DatabaseGate(wiring.sessions, settings.database_pool_size, settings.database_timeout)
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    from ivr.wiring import hausruf

    if "db_session" not in g:
        g.db_session = hausruf(current_app).sessions()
    return g.db_session


def get_read_session() -> Session:
    """A session of the current request for reading only (on SQLite it never waits for writers)."""
    from ivr.wiring import hausruf

    if "db_read_session" not in g:
        g.db_read_session = hausruf(current_app).read_sessions()
    return g.db_read_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the request's sessions; uncommitted work is rolled back, never committed by accident."""
    for name in ("db_session", "db_read_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def engine_of(app: Flask):
    """The app's engine (health checks, tests)."""
    from ivr.wiring import hausruf

    return hausruf(app).sessions.kw["bind"]


HEALTH_TIMEOUT = 1.5  # /healthz must answer within 2 s, even when the database is frozen


def check_database(app: Flask, timeout: float = HEALTH_TIMEOUT) -> str:
    """"ok", or what is wrong with the database, within timeout seconds whatever the database does."""
    from sqlalchemy import text

    from ivr.wiring import hausruf

    gate = hausruf(app).database
    try:
        gate.run(lambda session: session.execute(text("SELECT 1")), timeout=timeout)
    except DatabaseTimeout:
        return f"error: no answer within {timeout:g} s ({gate.stuck} requests stuck on the database)"
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a health check
        return f"error: {type(exc).__name__}"
    return "ok"
