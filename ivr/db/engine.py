"""Engines and sessions: SQLite with WAL and a busy timeout, PostgreSQL with every wait bounded."""

from __future__ import annotations

import functools
import math
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ivr.db.turns import TurnTakingConnection, WriteTurn

SQLITE_BUSY_MS = 5000
# Execution option for a transaction that only reads: on SQLite it begins DEFERRED, so it neither
# takes nor waits for the write lock (WAL readers see the last commit). See read_only() below.
READ_ONLY = "hausruf_read_only"
DEFAULT_POOL_SIZE = 10
# Connections beyond the pool for work outside the webhooks' slots (health check, flow revisions,
# media streams); see ivr.db.deadline and README, "Connection budget".
POOL_OVERFLOW = 4


def normalise_url(url: str) -> str:
    """Use the installed psycopg 3 driver for plain postgresql:// URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, timeout: float | None = None, pool_size: int | None = None, **kwargs) -> Engine:
    """An engine for url: SQLite with WAL, foreign keys and a busy timeout; PostgreSQL with bounded waits.

    timeout (seconds) bounds each wait the database can impose: for a lock (SQLite's busy timeout,
    PostgreSQL's lock_timeout), for a statement (statement_timeout), for connecting and for a free
    pooled connection. A frozen PostgreSQL server enforces none of its own timeouts, so the web app
    also runs its database work under one deadline (ivr.db.deadline). Without timeout SQLite waits
    SQLITE_BUSY_MS for a lock and PostgreSQL as long as it takes (migrations, the worker).
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
        if pool_size:
            kwargs.setdefault("pool_size", pool_size)
            kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        # The pre-ping finds connections a restarted server dropped; in the web app it runs inside
        # the webhook's deadline, so a frozen server cannot hold a caller with it.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    busy_ms = int(timeout * 1000) if timeout else SQLITE_BUSY_MS
    engine = create_engine(url, connect_args={"timeout": busy_ms / 1000, "factory": TurnTakingConnection}, **kwargs)
    turn = WriteTurn(Path(parsed.database), busy_ms / 1000) if parsed.database and parsed.database != ":memory:" else None
    event.listen(engine, "connect", functools.partial(_sqlite_on_connect, busy_ms=busy_ms, turn=turn))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, connection_record, busy_ms: int = SQLITE_BUSY_MS,
                       turn: WriteTurn | None = None) -> None:
    dbapi_connection.turn = turn
    # Let SQLAlchemy, not pysqlite, decide where transactions begin (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the one writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut loses at most the last commit
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.close()


def _sqlite_on_begin(connection) -> None:
    # IMMEDIATE takes the write lock up front. A deferred transaction that read first and writes
    # after another connection committed fails at once with SQLITE_BUSY_SNAPSHOT ("database is
    # locked"), which busy_timeout cannot wait out (sqlite.org/isolation.html, "WAL mode").
    # Transactions marked READ_ONLY never write, so they begin DEFERRED beside the one writer.
    # Writers first take their turn (ivr.db.turns): SQLite's own busy handler sleeps too long.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    raw = connection.connection.dbapi_connection
    try:
        raw.take_turn()
    except sqlite3.OperationalError as exc:  # as SQLite's own "database is locked" reaches callers
        raise OperationalError("BEGIN IMMEDIATE", None, exc) from None
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        raw.give_back_turn()
        raise


def read_only(session: Session) -> Session:
    """Begin the session's next transaction for reading only (DEFERRED on SQLite); call before its first query."""
    session.connection(execution_options={READ_ONLY: True})
    return session


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to engine; objects stay readable after commit (expire_on_commit=False)."""
    return sessionmaker(engine, expire_on_commit=False)
