"""A demo app wired to the Twilio stand-in, a movable clock, and the worker's jobs run in-process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.support.apps import migrated_app
from ivr.db import engine_of
from ivr.db.engine import normalise_url
from ivr.db.models import CallbackTask, SmsMessage
from ivr.tasks.config import TaskConfig
from ivr.app import worker_jobs
from tests.support.call_simulator import CallSimulator
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn
from tests.twilio.conftest import HOTLINE, PUBLIC_URL, WEDNESDAY_10, app_config, load_demo_directory
from ivr.wiring import hausruf

JONAS = "+493023125201"  # Lindenhof, quiet hours 21:00-08:00
PETRA = "+493023125202"  # Lindenhof, no quiet hours
STRANGER = "+4915112345678"


@dataclass
class Clock:
    """The one clock of a test: the app, the worker jobs and the stand-in read it."""

    now: datetime

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def standin():
    server = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def clock(standin):
    clock = Clock(WEDNESDAY_10)
    standin.clock = lambda: clock.now
    return clock


def task_app_config(database_url: str, tmp_path, standin: TwilioStandIn) -> dict:
    """app_config plus the Twilio account, the stand-in as API base, and a queue in tmp_path."""
    return app_config(database_url, tmp_path, twilio_account_sid=ACCOUNT_SID, twilio_api_base=standin.base_url,
                      queue_url=f"sqlite:///{tmp_path / 'huey.sqlite3'}")


@pytest.fixture
def app(database_url, tmp_path, standin, clock):
    app = migrated_app(task_app_config(database_url, tmp_path, standin))
    hausruf(app).clock = lambda: clock.now
    load_demo_directory(app)
    yield app
    engine_of(app).dispose()


@pytest.fixture
def twilio(app):
    return CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)


@pytest.fixture
def config(app) -> TaskConfig:
    return TaskConfig.for_settings(app.config["HAUSRUF"])


@pytest.fixture
def jobs(app, config):
    """The worker's jobs on the app's database, sending to the stand-in."""
    jobs = worker_jobs(app.config["HAUSRUF"], config)
    yield jobs
    if jobs._sessions is not None:
        jobs._sessions.kw["bind"].dispose()


@pytest.fixture
def db(app):
    """A read-mostly session for assertions on its own plain engine.

    The app's SQLite engine begins every transaction IMMEDIATE (a write lock); a test session holding
    one would block the webhooks and the worker it watches. pysqlite's own default begins
    transactions only before writes, so these reads never lock anything.
    """
    engine = create_engine(normalise_url(app.config["HAUSRUF"].database_url))
    session = Session(engine, expire_on_commit=False)
    yield session
    session.close()
    engine.dispose()


def sms(twilio, from_number: str, body: str, sid: str | None = None):
    """A signed incoming SMS, as Twilio posts it."""
    import uuid

    return twilio.post("/twilio/sms", {"MessageSid": sid or f"SM{uuid.uuid4().hex}", "AccountSid": ACCOUNT_SID,
                                       "From": from_number, "To": HOTLINE, "Body": body, "NumSegments": "1"})


def only_task(session) -> CallbackTask:
    session.expire_all()
    tasks = session.scalars(select(CallbackTask)).all()
    assert len(tasks) == 1, tasks
    return tasks[0]


def outbox(session, to: str | None = None) -> list[SmsMessage]:
    session.expire_all()
    query = select(SmsMessage).where(SmsMessage.direction == "outbound").order_by(SmsMessage.id)
    if to:
        query = query.where(SmsMessage.to_number == to)
    return list(session.scalars(query))
