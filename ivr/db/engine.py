"""Engines and sessions: SQLite tuned for a small server with several workers, PostgreSQL with a healthy pool."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 5000
# Execution option for a transaction that only reads: on SQLite it begins DEFERRED, so it neither
# takes nor waits for the write lock (WAL readers see the last commit). See
# ivr.db.get_read_session() and ivr.db.prepared.begin().
READ_ONLY = "hausruf_read_only"


def normalise_url(url: str) -> str:
    """Use the installed psycopg 3 driver for plain postgresql:// URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for url: SQLite with WAL, foreign keys and a busy timeout; PostgreSQL with pool_pre_ping."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000}, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    # Let SQLAlchemy, not pysqlite, decide where transactions begin (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the one writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut loses at most the last commit
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that read first and writes
    # after another worker committed fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked"),
    # which busy_timeout cannot wait out (sqlite.org/isolation.html, "WAL mode"). Transactions
    # marked read_only() never write, so they begin DEFERRED and run beside the one writer.
    # Straight to the driver: this runs for every transaction, and a full SQLAlchemy execution of
    # BEGIN cost as much as the statements of a webhook's read (bench/webhooks.py).
    mode = "DEFERRED" if connection.get_execution_options().get(READ_ONLY) else "IMMEDIATE"
    connection.connection.driver_connection.execute(f"BEGIN {mode}")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to engine; objects stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(engine, expire_on_commit=False)
