"""The call store's raw statements agree with the ORM on both databases: types, versions, errors."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.calls.store import CallStore
from ivr.db import make_engine, upgrade
from ivr.db.models import Call, CallEvent
from ivr.db.writers import WriterLockTimeout

STARTED = datetime(2026, 3, 4, 9, 0, 12, 345678, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 4, 9, 1, tzinfo=timezone.utc)


def _migrated_engine(url: str):
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url):
    yield from _migrated_engine(database_url)


@pytest.fixture
def sqlite_engine(sqlite_url):
    yield from _migrated_engine(sqlite_url)


def _new_call(sid: str = "CA1") -> dict:
    return {"call_sid": sid, "from_number": "+493023125301", "tenant_id": None, "flow_name": "hotline",
            "flow_language": "de", "flow_revision": "r1", "status": "in-progress", "started_at": STARTED,
            "outcome": "", "version": 1, "state": {"node": "main_menu", "steps": 1, "service": "Küche"},
            "last_update": STARTED, **_event("start", "main_menu")}


def _event(kind: str, node: str, detail: str = "", outcome: str = "") -> dict:
    return {"last_event_kind": kind, "last_event_node": node, "last_event_detail": detail,
            "last_event_outcome": outcome}


def _events(engine, call_id: int) -> list[tuple]:
    with Session(engine) as session:
        return [(e.at, e.kind, e.node, e.detail, e.outcome) for e in session.scalars(
            select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id))]


def test_a_stored_call_reads_back_the_same_through_the_store_and_the_orm(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    read = store.read("CA1")
    store.close()
    assert (read.id, read.version, read.state, read.flow_revision) == (
        call_id, 1, {"node": "main_menu", "steps": 1, "service": "Küche"}, "r1")
    with Session(engine) as session:
        call = session.scalar(select(Call).where(Call.call_sid == "CA1"))
        assert call.started_at == STARTED and call.last_update == STARTED
    assert _events(engine, call_id) == [(STARTED, "start", "main_menu", "", "")]  # written by the trigger


def test_a_step_is_stored_only_on_the_version_it_was_decided_on(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    assert store.store_step(call_id, 1, {"state": {"node": "care_menu", "steps": 2}, "last_update": LATER,
                                         "outcome": "connected", **_event("digits", "main_menu", "3", "connected")})
    assert not store.store_step(call_id, 1, {"state": {"node": "meals", "steps": 2}, "last_update": LATER,
                                             **_event("speech", "main_menu", "essen")})
    read = store.read("CA1")
    store.close()
    assert (read.version, read.state["node"], read.outcome) == (2, "care_menu", "connected")
    # The stored step's event is in the audit trail, the refused one's is not.
    assert _events(engine, call_id) == [(STARTED, "start", "main_menu", "", ""),
                                        (LATER, "digits", "main_menu", "3", "connected")]


def test_a_step_inside_a_transaction_is_logged_with_it_or_not_at_all(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    with pytest.raises(RuntimeError):
        with store.transaction() as writes:
            assert writes.store_step(call_id, 1, {"last_update": LATER, **_event("digits", "main_menu", "1")})
            raise RuntimeError("the booking failed")
    with store.transaction() as writes:
        assert not writes.store_step(call_id, 7, {"last_update": LATER, **_event("digits", "main_menu", "2")})
        writes.cancel()
    store.close()
    assert [e[1] for e in _events(engine, call_id)] == ["start"]


def test_a_duplicate_call_is_sqlalchemys_integrity_error_and_nothing_is_left_half_written(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        writes.add_call(_new_call())
    with pytest.raises(IntegrityError):
        with store.transaction() as writes:
            writes.add_call(_new_call("CA2"))
            writes.add_call(_new_call())
    assert store.read("CA2") is None  # rolled back with the failed insert
    store.close()


def test_the_connection_goes_back_to_the_pool_ready_for_transactions(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    assert store.read("CA1").id == call_id
    assert store.store_step(call_id, 1, {"last_update": LATER, **_event("digits", "main_menu", "1")})
    store.close()
    # The ORM gets the same pooled connection next, and its transactions must be real ones.
    with Session(engine) as session:
        session.execute(update(Call).where(Call.id == call_id).values(outcome="changed"))
        session.rollback()
        assert session.scalar(select(Call.outcome).where(Call.id == call_id)) == ""


def test_a_step_without_its_audit_event_is_refused_before_it_reaches_the_database(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    with pytest.raises(ValueError, match="must carry its audit event"):
        store.store_step(call_id, 1, {"last_update": LATER, "outcome": "x"})
    assert store.read("CA1").version == 1
    store.close()


def test_on_sqlite_each_thread_keeps_its_own_connection_across_webhooks(sqlite_engine):
    engine = sqlite_engine
    seen = []

    def one_webhook():
        store = CallStore(engine)
        store.read("CA1")
        seen.append((threading.get_ident(), store._raw))
        store.close()

    one_webhook()
    one_webhook()
    worker = threading.Thread(target=one_webhook)
    worker.start()
    worker.join()
    (first_thread, first), (_, again), (other_thread, other) = seen
    assert again is first  # kept, not borrowed from the pool and given back
    assert other_thread != first_thread and other is not first
    assert engine.pool.checkedout() == 0  # detached: the pool does not count it as borrowed


def test_a_thread_connection_left_in_a_transaction_is_rolled_back_before_the_next_webhook(sqlite_engine):
    engine = sqlite_engine
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    connection = store._connection()
    connection.execute("BEGIN IMMEDIATE")  # as if a rollback had failed after an error
    connection.execute("UPDATE calls SET outcome = 'half written' WHERE id = ?", (call_id,))
    store.close()
    store = CallStore(engine)
    assert store.read("CA1").outcome == ""
    assert not store._connection().in_transaction
    store.close()


def _lock_held_by_another_connection(url: str, release_after: float | None):
    """Another writer (as another server process would be) holding SQLite's write lock; released after a while."""
    other = sqlite3.connect(make_url(url).database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    if release_after is not None:
        threading.Timer(release_after, other.commit).start()
    return other


def _store_with_a_call(url: str, timeout: float):
    """A migrated SQLite database with call CA1, its engine (waits bounded by timeout) and a store on it."""
    upgrade(url)
    engine = make_engine(url, timeout=timeout)
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    return engine, store, call_id


def test_a_step_that_meets_another_writer_waits_for_it_in_short_pauses_not_the_busy_handler(sqlite_url):
    engine, store, call_id = _store_with_a_call(sqlite_url, timeout=5)
    assert store._connection().execute("PRAGMA busy_timeout").fetchone()[0] == 0  # our pauses, not SQLite's
    other = _lock_held_by_another_connection(sqlite_url, release_after=0.05)
    started = time.monotonic()
    assert store.store_step(call_id, 1, {"last_update": LATER, **_event("digits", "main_menu", "1")})
    assert 0.05 <= time.monotonic() - started < 2  # waited for the other writer, not for the 5 s timeout
    with store.transaction() as writes:  # a new call's transaction waits the same way
        writes.add_call(_new_call("CA2"))
    assert store.read("CA2") is not None
    store.close()
    other.close()
    engine.dispose()


def test_a_writer_that_never_lets_go_costs_a_step_the_engine_timeout_then_an_error(sqlite_url):
    engine, store, call_id = _store_with_a_call(sqlite_url, timeout=0.3)
    other = _lock_held_by_another_connection(sqlite_url, release_after=None)
    started = time.monotonic()
    with pytest.raises(WriterLockTimeout):
        store.store_step(call_id, 1, {"last_update": LATER, **_event("digits", "main_menu", "1")})
    assert 0.3 <= time.monotonic() - started < 3
    with pytest.raises(WriterLockTimeout):
        with store.transaction():
            pass
    other.rollback()
    assert store.read("CA1").version == 1  # nothing was stored
    store.close()
    other.close()
    engine.dispose()


def test_only_a_locked_database_is_waited_out(sqlite_url):
    engine, store, call_id = _store_with_a_call(sqlite_url, timeout=5)
    started = time.monotonic()
    with pytest.raises(IntegrityError, match="NOT NULL"):
        store.store_step(call_id, 1, {"status": None, **_event("digits", "main_menu", "1")})
    assert time.monotonic() - started < 1  # raised at once, not retried until the 5 s timeout
    store.close()
    engine.dispose()
