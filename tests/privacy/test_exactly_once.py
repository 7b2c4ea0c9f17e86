"""Exactly once under crashes and races, and malformed provider fields that must not break a call or its XML."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select, update

from ivr.calls.spool import spool_missed_call, spool_path
from ivr.db.models import Call, CallbackTask, SmsMessage
from ivr.tasks.jobs import Jobs
from ivr.tasks.sending import _claim
from tests.tasks.conftest import (JONAS, app, clock, config, db, jobs, only_task, outbox, standin,  # noqa: F401
                                  twilio)
from tests.tasks.test_acceptance import book_it_help
from tests.twilio.conftest import ERIKA, STAFF

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_twenty_spooled_missed_calls_become_exactly_twenty_tasks_with_two_sweeps_at_once(app, config, db):
    settings = app.config["HAUSRUF"]
    for n in range(20):
        spool_missed_call(settings.data_dir, "twilio", f"CA{n:032d}", f"+4930231253{n:02d}", "database down")
    # Two sweeps at the same moment, as a worker start runs them (each with its own engine, like two processes).
    sweepers = [Jobs(settings, config) for _ in range(2)]
    start = threading.Barrier(2)
    booked: list[int] = []

    def sweep(jobs_of_one):
        start.wait()
        booked.append(jobs_of_one.import_spool())

    threads = [threading.Thread(target=sweep, args=(s,)) for s in sweepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for sweeper in sweepers:
        sweeper.sessions.kw["bind"].dispose()
    assert sorted(booked) == [0, 20]
    assert db.scalar(select(func.count()).select_from(CallbackTask)) == 20
    assert db.scalar(select(func.count(func.distinct(CallbackTask.callback_number)))) == 20
    assert not spool_path(settings.data_dir).exists() and not spool_path(settings.data_dir).with_suffix(".claimed").exists()


@SQLITE_ONLY
def test_a_sweep_that_died_after_booking_books_nothing_twice(app, config, db, jobs):
    settings = app.config["HAUSRUF"]
    spool_missed_call(settings.data_dir, "twilio", "CA" + "7" * 32, ERIKA, "database down")
    assert jobs.import_spool() == 1
    # The crash: booked and committed, but the claimed file was not removed.
    spool_path(settings.data_dir).with_suffix(".claimed").write_text(
        '{"at": "2026-03-04T09:00:00+00:00", "provider": "twilio", "call_id": "CA' + "7" * 32 + '", "from": "' + ERIKA + '"}\n')
    assert jobs.import_spool() == 0
    assert db.scalar(select(func.count()).select_from(CallbackTask)) == 1


@SQLITE_ONLY
def test_after_a_burst_of_sixty_sms_the_one_lost_in_flight_is_found_not_sent_twice(twilio, db, jobs, standin, clock,
                                                                                    config):
    book_it_help(twilio)
    [offer] = outbox(db)
    with jobs.sessions() as session:
        assert _claim(session, offer.id, jobs.channel.sender, clock.now, config) == "queued"
    jobs.channel.sms.client.send_sms(JONAS, offer.body)  # Twilio took it; the worker died before recording the SID
    for n in range(60):  # then a burst to the same number (other rows, already recorded)
        clock.advance(seconds=1)
        jobs.channel.sms.client.send_sms(JONAS, f"Hausruf: Nachricht {n}")
    report = jobs.send_outbox(clock.advance(seconds=121))
    assert (report.recovered, report.sent) == (1, 0)
    assert len([m for m in standin.messages_to(JONAS) if m["body"] == offer.body]) == 1
    assert outbox(db)[0].status == "sent"


@SQLITE_ONLY
@pytest.mark.parametrize("duration", ["²", str(2 ** 63), "-5", "4.5", "٣"])
def test_a_status_callback_with_a_malformed_duration_still_closes_the_call(twilio, db, duration):
    call = twilio.call(ERIKA)
    reply = twilio.post("/twilio/status", call.form(CallStatus="completed", CallDuration=duration))
    assert reply.status == 204
    db.expire_all()
    stored = db.scalar(select(Call).where(Call.provider_call_id == call.sid))
    assert (stored.status, stored.duration_seconds) == ("ended", None) and stored.ended_at is not None


@pytest.mark.parametrize("outbox_id", ["9" * 30, str(2 ** 63), "12x", "-1"])
def test_a_delivery_report_with_an_overflowing_outbox_id_is_answered(twilio, db, outbox_id):
    reply = twilio.post(f"/twilio/sms-status?outbox={outbox_id}", {"MessageSid": "SM" + "1" * 32,
                                                                   "MessageStatus": "delivered"})
    assert reply.status == 204


@SQLITE_ONLY
def test_control_characters_in_a_whisper_still_give_valid_xml(twilio):
    reply = twilio.post("/twilio/voice/whisper?text=Anruf+von%01%02+Haus%0b+Linde%1f&lang=de",
                        {"CallSid": "CA" + "2" * 32})
    root = ET.fromstring(reply.body)  # raises on invalid XML
    assert root.find("Say").text == "Anruf von Haus Linde"


@SQLITE_ONLY
def test_a_signed_voice_webhook_without_a_callsid_gets_the_fallback_but_is_not_spooled(twilio, app, jobs, db):
    reply = twilio.post("/twilio/voice", {"From": ERIKA})
    assert reply.status == 200 and reply.xml.find(".//Number").text == STAFF
    assert not spool_path(app.config["HAUSRUF"].data_dir).exists()
    assert jobs.import_spool() == 0
