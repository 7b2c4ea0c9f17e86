"""Engines and sessions: SQLite tuned for a small server with several workers, PostgreSQL with a healthy pool."""

from __future__ import annotations

import functools
import math
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_MS = 5000
# Pages the WAL may hold before a commit copies them back into the database file (SQLite's
# default is 1000, about 4 MB). Every step writes three pages, so the default checkpointed every
# ~330 steps, in the thread of the step that crossed the line; at 10000 (about 40 MB of WAL) the
# checkpoints come ten times rarer and copy much the same hot pages once (bench/webhooks.py
# --against: 1.09 times the steps per second, p99 10.8 against 12.1 ms).
SQLITE_CHECKPOINT_PAGES = 10000
# Execution option for a transaction that only reads: on SQLite it begins DEFERRED, so it neither
# takes nor waits for the write lock (WAL readers see the last commit). See
# ivr.db.get_read_session(); write transactions on raw connections use begin_sqlite too
# (ivr.db.prepared.begin_writing).
READ_ONLY = "hausruf_read_only"


def normalise_url(url: str) -> str:
    """Use the installed psycopg 3 driver for plain postgresql:// URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, timeout: float | None = None, **kwargs) -> Engine:
    """An engine for url: SQLite with WAL, foreign keys and a busy timeout; PostgreSQL with pool_pre_ping.

    timeout (seconds) bounds every wait: for a lock, for a free pooled connection and, on PostgreSQL,
    for connecting and for each statement. The web app sets it, because a caller is waiting; without
    it SQLite waits SQLITE_BUSY_MS for a lock and PostgreSQL as long as it takes (migrations, jobs).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs.setdefault("hide_parameters", True)  # a logged database error must not carry a caller's number
    if timeout:
        kwargs.setdefault("pool_timeout", timeout)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {}
        if timeout:
            wait_ms = int(timeout * 1000)
            connect_args = {"connect_timeout": max(2, math.ceil(timeout)),  # libpq's minimum is 2 s
                            "options": f"-c statement_timeout={wait_ms} -c lock_timeout={wait_ms}"}
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    busy_ms = int(timeout * 1000) if timeout else SQLITE_BUSY_MS
    engine = create_engine(url, connect_args={"timeout": busy_ms / 1000}, **kwargs)
    event.listen(engine, "connect", functools.partial(_sqlite_on_connect, busy_ms=busy_ms))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, connection_record, busy_ms: int = SQLITE_BUSY_MS) -> None:
    # Let SQLAlchemy, not pysqlite, decide where transactions begin (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the one writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut loses at most the last commit
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that read first and writes
    # after another worker committed fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked"),
    # which busy_timeout cannot wait out (sqlite.org/isolation.html, "WAL mode"). Transactions
    # marked READ_ONLY never write, so they begin DEFERRED and run beside the one writer.
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    begin_sqlite(connection.connection.driver_connection, read_only)


def begin_sqlite(driver_connection, read_only: bool) -> None:
    """Begin a transaction on a pysqlite connection: DEFERRED to read, IMMEDIATE to write."""
    # Straight to the driver: this runs for every transaction, and a full SQLAlchemy execution of
    # BEGIN cost as much as the statements of a webhook's read (bench/webhooks.py).
    driver_connection.execute("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to engine; objects stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(engine, expire_on_commit=False)
