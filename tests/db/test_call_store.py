"""The call store's raw statements agree with the ORM on both databases: types, versions, errors."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.calls.store import CallStore
from ivr.db import make_engine, upgrade
from ivr.db.models import Call, CallEvent

STARTED = datetime(2026, 3, 4, 9, 0, 12, 345678, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 4, 9, 1, tzinfo=timezone.utc)


@pytest.fixture
def engine(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _new_call(sid: str = "CA1") -> dict:
    return {"call_sid": sid, "from_number": "+493023125301", "tenant_id": None, "flow_name": "hotline",
            "flow_language": "de", "flow_revision": "r1", "status": "in-progress", "started_at": STARTED,
            "outcome": "", "version": 1, "state": {"node": "main_menu", "steps": 1, "service": "Küche"},
            "last_update": STARTED}


def test_a_stored_call_reads_back_the_same_through_the_store_and_the_orm(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
        writes.add_event(call_id, {"at": STARTED, "kind": "start", "node": "main_menu", "detail": "", "outcome": ""})
    read = store.read("CA1")
    store.close()
    assert (read.id, read.version, read.state, read.flow_revision) == (
        call_id, 1, {"node": "main_menu", "steps": 1, "service": "Küche"}, "r1")
    with Session(engine) as session:
        call = session.scalar(select(Call).where(Call.call_sid == "CA1"))
        assert call.started_at == STARTED and call.last_update == STARTED
        assert session.scalar(select(CallEvent.at).where(CallEvent.call_id == call_id)) == STARTED


def test_a_step_is_stored_only_on_the_version_it_was_decided_on(engine):
    store = CallStore(engine)
    with store.transaction() as writes:
        call_id = writes.add_call(_new_call())
    with store.transaction() as writes:
        assert writes.store_step(call_id, 1, {"state": {"node": "care_menu", "steps": 2}, "last_update": LATER,
                                              "outcome": "connected"})
    with store.transaction() as writes:
        assert not writes.store_step(call_id, 1, {"state": {"node": "meals", "steps": 2}, "last_update": LATER})
        writes.cancel()
    read = store.read("CA1")
    store.close()
    assert (read.version, read.state["node"], read.outcome) == (2, "care_menu", "connected")


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
