"""Models on a real database: UTC times, JSON state, optimistic locking of tasks, Flask session per request."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm.exc import StaleDataError

from ivr.config import Settings
from ivr.tasks.config import TaskConfig
from ivr.wiring import EXTENSION, Hausruf
from ivr.db import get_session, init_app, make_engine, session_factory, upgrade
from ivr.db.models import Call, CallbackTask, CallEvent


def test_times_come_back_aware_in_utc_and_state_as_json(sessions):
    berlin = datetime(2025, 3, 30, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with sessions() as session:
        call = Call(provider_call_id="CA1", from_number="+4930231250001", started_at=berlin, state={"node": "welcome"})
        call.events.append(CallEvent(kind="digits", node="main_menu", detail="1", outcome="groceries"))
        session.add(call)
        session.commit()
    with sessions() as session:
        call = session.scalars(select(Call)).one()
        assert call.started_at == datetime(2025, 3, 30, 6, 0, tzinfo=timezone.utc)
        assert call.started_at.tzinfo == timezone.utc
        assert call.state == {"node": "welcome"}
        assert call.last_update.tzinfo == timezone.utc
        assert [e.detail for e in call.events] == ["1"]


def test_naive_times_are_refused(sessions):
    with sessions() as session:
        session.add(Call(provider_call_id="CA2", started_at=datetime(2025, 3, 30, 8, 0)))
        with pytest.raises(StatementError, match="naive datetime 2025-03-30T08:00:00 given"):
            session.commit()


def test_time_comparisons_work_across_zones(sessions):
    with sessions() as session:
        session.add(Call(provider_call_id="CA3", started_at=datetime(2025, 3, 30, 6, 0, tzinfo=timezone.utc)))
        session.commit()
        later_in_berlin = datetime(2025, 3, 30, 8, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # 06:30 UTC
        assert session.scalars(select(Call.provider_call_id).where(Call.started_at < later_in_berlin)).all() == ["CA3"]


def test_callback_task_lost_update_raises(sessions):
    with sessions() as session:
        session.add(CallbackTask(number=1, topic="it_help"))
        session.commit()
    first, second = sessions(), sessions()
    task_b = second.scalars(select(CallbackTask)).one()
    second.commit()  # a worker read the task in an earlier transaction (objects stay loaded)
    task_a = first.scalars(select(CallbackTask)).one()
    task_a.state = "offered"
    first.commit()
    task_b.state = "cancelled"
    with pytest.raises(StaleDataError):
        second.commit()
    first.close()
    second.close()
    with sessions() as session:
        task = session.scalars(select(CallbackTask)).one()
        assert (task.state, task.version) == ("offered", 2)


def test_flask_session_per_request_is_closed_on_teardown(database_url):
    upgrade(database_url)
    app = Flask(__name__)
    app.extensions[EXTENSION] = Hausruf(settings=Settings.from_env(database_url=database_url), tasks=TaskConfig())
    init_app(app)
    with app.app_context():
        session = get_session()
        assert get_session() is session
        session.add(Call(provider_call_id="CA4"))
        # no commit: teardown must roll back, never commit by accident
    with app.app_context():
        assert get_session() is not session
        assert get_session().scalars(select(Call)).all() == []


def test_concurrent_read_then_write_transactions_do_not_fail(database_url):
    """Two workers reading then writing at once: on SQLite this needs BEGIN IMMEDIATE (see ivr/db/engine.py)."""
    import threading

    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    errors: list[BaseException] = []

    def worker(prefix: str) -> None:
        try:
            for i in range(25):
                with sessions() as session, session.begin():
                    session.scalars(select(Call.id)).all()
                    session.add(Call(provider_call_id=f"{prefix}{i}"))
        except BaseException as exc:  # collected and asserted below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(p,)) for p in ("A", "B", "C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with sessions() as session:
        assert len(session.scalars(select(Call.id)).all()) == 75
    engine.dispose()
