"""Booking: unique numbers under concurrency, one task per call and audience, spooled calls, the state machine."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ivr.calls.spool import spool_missed_call
from ivr.db.engine import make_engine, session_factory
from ivr.db.models import Call, CallbackTask
from ivr.engine.actions import BookCallback
from ivr.engine.context import CallContext, Caller
from ivr.tasks.booking import book_callback
from ivr.tasks.states import IllegalTransition, move
from tests.tasks.conftest import only_task, outbox
from tests.twilio.conftest import STAFF, WEDNESDAY_10

NOW = WEDNESDAY_10
BECKER = Caller(number="+493023125301", known=True, salutation="Frau Becker", house_id="lindenhof",
                house_name="Lindenhof")


def _book(sessions, sid: str, audience: str = "volunteers", recording: str | None = None) -> int:
    with sessions() as session:
        call = session.scalar(select(Call).where(Call.provider_call_id == sid))
        if call is None:
            call = Call(provider_call_id=sid, from_number=BECKER.number, state={})
            session.add(call)
            session.flush()
        context = CallContext(now=NOW, caller=BECKER, staff_number=STAFF)
        task = book_callback(session, call, BookCallback("it_help", audience, "Technik", recording), context, NOW)
        session.commit()
        return task.number


def test_concurrent_bookings_get_distinct_numbers(app):
    sessions = session_factory(make_engine(app.config["HAUSRUF"].database_url))
    numbers, errors = [], []
    start = threading.Barrier(8)

    def book(i: int) -> None:
        start.wait()
        try:
            numbers.append(_book(sessions, f"CA{i:032x}"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(numbers) == list(range(1, 9))


def test_one_call_books_one_task_per_audience(app, db):
    sessions = session_factory(make_engine(app.config["HAUSRUF"].database_url))
    first = _book(sessions, "CA" + "1" * 32)
    again = _book(sessions, "CA" + "1" * 32, recording="simulated:message-1")
    assert first == again
    task = only_task(db)
    assert task.recording_ref == "simulated:message-1" and len(outbox(db)) == 1
    assert _book(sessions, "CA" + "1" * 32, audience="staff") == first + 1


def test_illegal_transitions_are_refused_with_a_clear_message(app, db):
    sessions = session_factory(make_engine(app.config["HAUSRUF"].database_url))
    _book(sessions, "CA" + "2" * 32)
    task = only_task(db)
    move(task, "done", "test", "finished", NOW)
    with pytest.raises(IllegalTransition, match=r"task #1 is done; it cannot become accepted \(allowed: nothing"):
        move(task, "accepted", "test", "again", NOW)
    with pytest.raises(ValueError, match="unknown task state 'finished'"):
        move(task, "finished", "test", "", NOW)


def test_two_writers_on_the_same_task_cannot_both_win(app):
    sessions = session_factory(make_engine(app.config["HAUSRUF"].database_url))
    _book(sessions, "CA" + "3" * 32)
    first, second = sessions(), sessions()
    theirs = second.scalar(select(CallbackTask))
    assert len(theirs.transitions) == 2
    second.commit()  # keeps the loaded (soon stale) state; also releases SQLite's write lock
    mine = first.scalar(select(CallbackTask))
    move(mine, "accepted", "volunteer 1", "by SMS", NOW)
    first.commit()
    move(theirs, "cancelled", "staff", "by CLI", NOW)  # still believes the task is offered
    with pytest.raises(StaleDataError):
        second.commit()
    first.close()
    second.close()


def test_spooled_missed_calls_become_staff_tasks_once(app, db, jobs, tmp_path):
    spool_missed_call(tmp_path, "twilio", "CA" + "4" * 32, "+493023125301", "database down")
    assert jobs.import_spool(NOW) == 1
    task = only_task(db)
    assert (task.audience, task.caller_name, task.house_id) == ("staff", "Frau Becker", "lindenhof")
    assert task.topic == "Verpasster Anruf (Störung)" and outbox(db)[0].to_number == STAFF
    assert jobs.import_spool(NOW) == 0


def test_a_call_spooled_by_several_failing_webhooks_becomes_one_task(app, db, jobs, tmp_path):
    for reason in ("incoming call failed", "gather failed", "dial failed"):
        spool_missed_call(tmp_path, "twilio", "CA" + "6" * 32, "+493023125301", reason)
    assert jobs.import_spool(NOW) == 1
    assert only_task(db).callback_number == "+493023125301"


def test_a_crash_before_the_spool_was_finished_does_not_book_twice(app, db, jobs, tmp_path, config):
    from ivr.calls.spool import take_spooled
    from ivr.tasks.booking import book_spooled

    spool_missed_call(tmp_path, "twilio", "CA" + "5" * 32, "+4915199998888", "database down")
    with jobs.sessions() as session:
        book_spooled(session, take_spooled(tmp_path), datetime.now(timezone.utc), config)
        session.commit()  # ... and the worker dies before finish_spooled
    assert jobs.import_spool(NOW) == 0
    assert only_task(db).callback_number == "+4915199998888"
