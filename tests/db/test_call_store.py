"""The call store on both databases: a step and its audit event commit together; a race is refused, not lost."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ivr.calls.store import find_call, record_step
from ivr.db import make_engine, read_only, session_factory, upgrade
from ivr.db.models import Call, CallEvent

STARTED = datetime(2026, 3, 4, 9, 0, 12, 345678, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 4, 9, 1, tzinfo=timezone.utc)


@pytest.fixture
def sessions(database_url):
    upgrade(database_url)
    engine = make_engine(database_url, timeout=2)
    yield session_factory(engine)
    engine.dispose()


def _start(sessions, call_id: str = "CA1", caller: str = "+493023125301") -> None:
    with sessions() as session:
        call = Call(provider="twilio", provider_call_id=call_id, from_number=caller, flow_name="hotline",
                    flow_language="de", flow_revision="r1", status="active", started_at=STARTED, outcome="", state={})
        record_step(session, call, STARTED, "start", "welcome", "", "", {"state": {"node": "main_menu", "steps": 1}})
        session.commit()


def test_a_step_stores_state_version_and_its_event_together(sessions):
    _start(sessions)
    with sessions() as session:
        call = find_call(session, "twilio", "CA1")
        record_step(session, call, LATER, "digits", "main_menu", "4", "connect care", {"state": {"steps": 2}})
        session.commit()
    with sessions() as session:
        call = find_call(session, "twilio", "CA1")
        assert (call.version, call.state, call.last_update, call.started_at) == (2, {"steps": 2}, LATER, STARTED)
        events = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id)).all()
        assert [(e.kind, e.node, e.detail, e.outcome, e.at) for e in events] == [
            ("start", "welcome", "", "", STARTED), ("digits", "main_menu", "4", "connect care", LATER)]


def test_a_step_on_a_call_that_changed_since_it_was_read_is_refused_with_nothing_written(sessions):
    _start(sessions)
    with sessions() as first, sessions() as second:
        read_only(first)
        mine = find_call(first, "twilio", "CA1")
        first.commit()  # the read is over; the call stays in hand with the version it had
        theirs = find_call(second, "twilio", "CA1")
        record_step(second, theirs, LATER, "speech", "main_menu", "technik", "", {"state": {"steps": 2}})
        second.commit()
        record_step(first, mine, LATER, "digits", "main_menu", "4", "", {"state": {"steps": 2}})
        with pytest.raises(StaleDataError):
            first.commit()
        first.rollback()
    with sessions() as session:
        call = find_call(session, "twilio", "CA1")
        kinds = session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call.id).order_by(CallEvent.id))
        assert (call.version, list(kinds)) == (2, ["start", "speech"])


def test_a_sip_address_fits_as_the_caller_and_calls_are_unique_per_provider(sessions):
    sip = "sip:+493023125301@pbx.example.org;transport=tls"
    _start(sessions, "same-id", caller=sip)
    with sessions() as session:
        call = Call(provider="sip", provider_call_id="same-id", from_number="client:anna", flow_name="hotline",
                    flow_language="de", flow_revision="r1", status="active", started_at=STARTED, outcome="", state={})
        record_step(session, call, STARTED, "start", "welcome", "", "", {})
        session.commit()
    with sessions() as session:
        assert find_call(session, "twilio", "same-id").from_number == sip
        assert find_call(session, "sip", "same-id").from_number == "client:anna"
