"""The database: models, engines and sessions, migrations, and the Flask glue (one session per request)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ivr.db.deadline import DatabaseGate, DatabaseTimeout
from ivr.db.engine import READ_ONLY, make_engine, read_only, session_factory
from ivr.db.migrate import current, upgrade

__all__ = ["DatabaseGate", "DatabaseTimeout", "get_session", "init_app", "make_engine", "read_only",
           "session_factory", "upgrade", "current"]

EXTENSION = "hausruf.db"
READ_EXTENSION = "hausruf.db.read"
GATE_EXTENSION = "hausruf.db.gate"


def init_app(app: Flask) -> None:
    """The engine (every wait bounded by DATABASE_TIMEOUT), the sessions, the webhooks' gate, and teardown."""
    settings = app.config["HAUSRUF"]
    engine = make_engine(settings.database_url, timeout=settings.database_timeout,
                         pool_size=settings.database_pool_size)
    sessions = session_factory(engine)
    app.extensions[EXTENSION] = sessions
    # Same pool; its transactions begin read-only (DEFERRED on SQLite: no write lock taken or awaited).
    app.extensions[READ_EXTENSION] = session_factory(engine.execution_options(**{READ_ONLY: True}))
    app.extensions[GATE_EXTENSION] = DatabaseGate(sessions, settings.database_pool_size, settings.database_timeout)
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    return g.db_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the request's session; uncommitted work is rolled back, never committed by accident."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def engine_of(app: Flask):
    """The app's engine (health checks, tests)."""
    return app.extensions[EXTENSION].kw["bind"]


HEALTH_TIMEOUT = 1.5  # /healthz must answer within 2 s, even when the database is frozen


def check_database(app: Flask, timeout: float = HEALTH_TIMEOUT) -> str:
    """"ok", or what is wrong with the database, within timeout seconds whatever the database does."""
    from sqlalchemy import text

    gate = app.extensions[GATE_EXTENSION]
    try:
        gate.run(lambda session: session.execute(text("SELECT 1")), timeout=timeout)
    except DatabaseTimeout:
        return f"error: no answer within {timeout:g} s ({gate.stuck} requests stuck on the database)"
    except Exception as exc:  # noqa: BLE001 - report, never raise, from a health check
        return f"error: {type(exc).__name__}"
    return "ok"
