"""The database: models, engines and sessions, migrations, and the Flask glue (one session per request)."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ivr.db.engine import READ_ONLY, make_engine, session_factory
from ivr.db.migrate import current, upgrade

__all__ = ["get_read_session", "get_session", "init_app", "make_engine", "session_factory", "upgrade", "current"]

EXTENSION = "hausruf.db"
READ_EXTENSION = "hausruf.db.read"


def init_app(app: Flask) -> None:
    """Create the engine from DATABASE_URL (waits bounded by DATABASE_TIMEOUT) and close sessions on teardown."""
    engine = make_engine(app.config["DATABASE_URL"], timeout=app.config.get("DATABASE_TIMEOUT"))
    app.extensions[EXTENSION] = session_factory(engine)
    # Same pool; its transactions begin read-only (DEFERRED on SQLite: no write lock taken or awaited).
    app.extensions[READ_EXTENSION] = session_factory(engine.execution_options(**{READ_ONLY: True}))
    app.teardown_appcontext(close_session)


def get_session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    return g.db_session


def get_read_session() -> Session:
    """A session of the current request for reading only (it never writes, so it never waits for writers)."""
    if "db_read_session" not in g:
        g.db_read_session = current_app.extensions[READ_EXTENSION]()
    return g.db_read_session


def close_session(exc: BaseException | None = None) -> None:
    """Close the request's sessions; uncommitted work is rolled back, never committed by accident."""
    for name in ("db_session", "db_read_session"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def engine_of(app: Flask):
    """The app's engine (health checks, the call store, tests)."""
    return app.extensions[EXTENSION].kw["bind"]
