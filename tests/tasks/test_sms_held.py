"""Without Twilio credentials SMS are held (said once, no retry every second); recordings come from their RecordingUrl."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from tests.support.apps import migrated_app
from ivr.config import Settings
from ivr.db import engine_of, make_engine, session_factory, upgrade
from ivr.db.models import CallbackTask, SmsMessage
from ivr.tasks.worker import build_queue
from tests.support.call_simulator import CallSimulator
from tests.tasks.conftest import task_app_config
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, load_demo_directory
from ivr.wiring import hausruf

RECORDING = "RE" + "7" * 32
SUBACCOUNT = "AC" + "5" * 32


def test_without_credentials_the_worker_says_once_that_sms_are_held_and_does_not_retry(sqlite_url, tmp_path, caplog):
    settings = Settings.from_env(database_url=sqlite_url, data_dir=tmp_path, twilio_account_sid=None,
                                 twilio_auth_token=None, queue_url=f"sqlite:///{tmp_path / 'huey.sqlite3'}")
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with session_factory(engine).begin() as session:
        now = datetime.now(timezone.utc)
        session.add(SmsMessage(to_number="+4917612345678", body="Aufgabe 1", status="queued", next_attempt_at=now))
    queue = build_queue(settings)
    queue.huey.immediate = True  # run the worker's task right here
    with caplog.at_level(logging.WARNING, logger="hausruf.worker"):
        for _ in range(3):
            queue.send_outbox()
    held = [r for r in caplog.records if "SMS are held in the outbox" in r.getMessage()]
    assert len(held) == 1
    assert queue.huey.scheduled() == []  # not tried again every second
    with session_factory(engine)() as session:
        assert session.query(SmsMessage).one().status == "queued"  # kept for when the credentials come
    engine.dispose()


def test_a_recording_job_fetches_the_recording_url_it_was_given(sqlite_url, tmp_path, standin):
    app = migrated_app(task_app_config(sqlite_url, tmp_path, standin))
    try:
        load_demo_directory(app)
        call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
        call.press("5")
        call.record(recording_sid=RECORDING, seconds=3)
        standin.recordings[RECORDING] = b"RIFF" + b"\0" * 2000
        hausruf(app).outbox_kick.queue.huey.immediate = True
        # The recording lives under a subaccount: only the RecordingUrl Twilio gives says so.
        given = f"{standin.base_url}/2010-04-01/Accounts/{SUBACCOUNT}/Recordings/{RECORDING}"
        reply = call.sim.post("/twilio/voice/recording-status", {"CallSid": call.sid, "RecordingSid": RECORDING,
                                                                 "RecordingUrl": given, "RecordingStatus": "completed"})
        assert reply.status == 204
        fetched = [r.path for r in standin.requests if r.method == "GET" and RECORDING in r.path]
        assert fetched == [f"/2010-04-01/Accounts/{SUBACCOUNT}/Recordings/{RECORDING}.wav"]
        with app.app_context():
            from ivr.db import get_session

            assert get_session().query(CallbackTask).one().transcript == ""  # looked at (no model for de)
    finally:
        engine_of(app).dispose()
