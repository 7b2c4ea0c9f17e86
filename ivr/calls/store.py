"""The call rows webhooks read and write: a call by CallSid, a new call, a stored step.

These run on every webhook, so they go straight to one pooled DBAPI connection with statements
compiled once (ivr.db.prepared); everything else talks to the database through SQLAlchemy. A
step is one UPDATE: it carries its audit event in the call's last_event_* columns and a database
trigger writes the call_events row (migration 0004), atomically with the update. A step that
also writes ORM objects (a booked callback) runs its statements in the ORM session's transaction
instead, so the task, its SMS and the step commit together.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
import weakref
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ivr.db.models import Call
from ivr.db.prepared import Prepared, PreparedSet, begin_writing
from ivr.db.writers import is_busy, retry_while_busy

_calls = Call.__table__
_READ_CALL = select(_calls.c.id, _calls.c.from_number, _calls.c.flow_name, _calls.c.flow_language,
                    _calls.c.flow_revision, _calls.c.state, _calls.c.status, _calls.c.outcome,
                    _calls.c.version).where(_calls.c.call_sid == bindparam("sid"))
# Only if nobody stored a step since we read the call; version + 1 tells later readers it moved on.
_STORE_STEP = (update(_calls)
               .where(_calls.c.id == bindparam("call_id"), _calls.c.version == bindparam("read_version"))
               .values(version=_calls.c.version + 1))
_ADD_CALL = insert(_calls).returning(_calls.c.id)


@dataclass(frozen=True)
class StoredCall:
    """The columns of a call a step needs; id is None for a call not stored yet."""

    id: int | None
    call_sid: str
    from_number: str | None
    flow_name: str
    flow_language: str
    flow_revision: str
    state: dict
    status: str = "in-progress"
    outcome: str = ""
    version: int = 0
    tenant_id: int | None = None


class _Statements:
    """The store's statements, prepared for one engine's dialect."""

    def __init__(self, engine: Engine):
        self.dialect = engine.dialect
        self.read = Prepared(_READ_CALL, engine.dialect)
        self.store_step = PreparedSet(_STORE_STEP, engine.dialect)  # SET columns vary with the step's changes
        self.add_call = PreparedSet(_ADD_CALL, engine.dialect)


@functools.lru_cache(maxsize=8)
def _statements(engine: Engine) -> _Statements:
    return _Statements(engine)


class _ThreadConnections:
    """SQLite: each server thread keeps one connection of its own instead of borrowing one per webhook.

    A SQLite connection holds nothing on a server, so keeping one per thread is free, while checking
    one out of SQLAlchemy's pool and back cost more than the webhook's SELECT. Each is made by the
    engine (its connect hooks set WAL and the busy timeout), detached from the pool, and closed when
    its thread or the engine goes away. Its busy timeout is then set to 0: the store waits out a
    locked database itself, in shorter pauses than SQLite's (ivr.db.writers.retry_while_busy), for
    as long as the engine's busy timeout said (`patience`, seconds).
    """

    def __init__(self):
        self._local = threading.local()  # no reference to the engine: _held must let it go
        self.patience = 0.0

    def get(self, engine: Engine):
        """This thread's connection to engine's database, in autocommit mode and outside any transaction."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            pooled = engine.raw_connection()
            connection = pooled.driver_connection  # read before detach() clears it
            pooled.detach()
            self.patience = connection.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
            connection.execute("PRAGMA busy_timeout = 0")
            self._local.connection = connection
        elif connection.in_transaction:  # a rollback that failed: never carry it into another webhook
            try:
                connection.rollback()
            except Exception:  # noqa: BLE001 - start over with a fresh connection
                self._local.connection = None
                connection.close()
                return self.get(engine)
        return connection


_held: "weakref.WeakKeyDictionary[Engine, _ThreadConnections]" = weakref.WeakKeyDictionary()
_held_guard = threading.Lock()


def _thread_connections(engine: Engine) -> _ThreadConnections:
    held = _held.get(engine)
    if held is None:
        with _held_guard:
            held = _held.setdefault(engine, _ThreadConnections())
    return held


def _store_step(statements: _Statements, connection, call_id: int, read_version: int, changes: dict) -> bool:
    if "last_event_kind" not in changes:
        # The trigger logs the new version with whatever last_event_* the row holds: without its own
        # event, a step would repeat the previous one in the audit trail.
        raise ValueError("a stored step must carry its audit event (the last_event_* columns)")
    values = {"call_id": call_id, "read_version": read_version, **changes}
    cursor = statements.store_step(values).run(connection, values)
    stored = cursor.rowcount == 1
    cursor.close()
    return stored


class StoreTransaction:
    """The writes of one step, on one DBAPI connection inside a transaction."""

    def __init__(self, statements: _Statements, connection):
        self._statements = statements
        self._connection = connection
        self.cancelled = False

    def add_call(self, values: dict) -> int:
        """Insert a call (every column given, its first event in last_event_*); its id."""
        return self._statements.add_call(values).first(self._connection, values)[0]

    def store_step(self, call_id: int, read_version: int, changes: dict) -> bool:
        """Update the call if it is still at read_version; False (and nothing written) if it moved on."""
        return _store_step(self._statements, self._connection, call_id, read_version, changes)

    def cancel(self) -> None:
        """Roll back instead of committing at the end of the block."""
        self.cancelled = True


class CallStore:
    """Calls for one request on one pooled connection; close() gives the connection back.

    The connection runs in autocommit mode (pysqlite is set up so for SQLAlchemy; a PostgreSQL
    connection is switched while the store holds it): a read is one SELECT and a step one UPDATE,
    each its own transaction, with no BEGIN, ROLLBACK or COMMIT round trips around them. Only
    transaction() groups statements. On SQLite the connection is the thread's own
    (_ThreadConnections); on PostgreSQL it comes from the pool, which bounds the server's sessions.
    """

    def __init__(self, engine: Engine):
        self._engine = engine
        self._statements = _statements(engine)
        sqlite = engine.dialect.name == "sqlite"
        self._switches_autocommit = not sqlite
        # An in-memory database is one per connection: there the pool's single connection must serve.
        in_file = sqlite and engine.url.database not in (None, "", ":memory:")
        self._thread_connections = _thread_connections(engine) if in_file else None
        self._raw = None

    def _connection(self):
        if self._raw is None:
            if self._thread_connections is not None:
                self._raw = self._thread_connections.get(self._engine)
                return self._raw
            raw = self._engine.raw_connection()
            if self._switches_autocommit:
                raw.driver_connection.autocommit = True
            self._raw = raw
        return self._raw

    def read(self, call_sid: str) -> StoredCall | None:
        """The call as it is now: one SELECT, its own read transaction (no write lock taken or awaited)."""
        row = self._patiently(self._statements.read.first, self._connection(), {"sid": call_sid})
        if row is None:
            return None
        id_, from_number, flow_name, flow_language, flow_revision, state, status, outcome, version = row
        return StoredCall(id_, call_sid, from_number, flow_name, flow_language, flow_revision, state or {},
                          status, outcome or "", version)

    def store_step(self, call_id: int, read_version: int, changes: dict) -> bool:
        """Store a step as one statement of its own (see the module's docstring); False if the call moved on.

        changes carry the step's last_event_* columns: the trigger logs them with the update.
        """
        return self._patiently(_store_step, self._statements, self._connection(), call_id, read_version, changes)

    @contextlib.contextmanager
    def transaction(self, session: Session | None = None):
        """A write transaction, committed at the end of the block unless cancelled or failed.

        With a session, the statements join the session's transaction and its commit (which also
        wakes the SMS worker for booked tasks) ends it.
        """
        if session is not None:
            connection = session.connection().connection
            commit, rollback = session.commit, session.rollback
        else:
            connection = self._connection()
            if self._switches_autocommit:
                connection.driver_connection.autocommit = False  # the driver begins with the first statement
            self._patiently(begin_writing, connection, self._statements.dialect)
            commit, rollback = connection.commit, connection.rollback
        transaction = StoreTransaction(self._statements, connection)
        try:
            try:
                yield transaction
            except BaseException:
                rollback()  # before the caller lets go of its write lock: SQLite holds its lock until now
                raise
            if transaction.cancelled:
                rollback()
            else:
                commit()
        finally:
            if session is None and self._switches_autocommit:
                connection.driver_connection.autocommit = True

    def _patiently(self, run, *args):
        """run(*args); on a thread's SQLite connection, tried again while another connection holds the lock."""
        try:
            return run(*args)
        except (DBAPIError, sqlite3.OperationalError) as error:  # begin_writing runs on the driver itself
            if self._thread_connections is None or not is_busy(error):
                raise
            return retry_while_busy(lambda: run(*args), self._thread_connections.patience)

    def close(self) -> None:
        """Give a pooled connection back, as the pool's other users expect it: not in autocommit."""
        if self._raw is None:
            return
        raw, self._raw = self._raw, None
        if self._thread_connections is not None:
            return  # the thread keeps it for its next webhook
        if self._switches_autocommit:
            try:
                raw.driver_connection.autocommit = False
            except Exception:  # noqa: BLE001 - a connection we cannot reset must not go back to the pool
                raw.invalidate()
        raw.close()
