"""The outbox against the stand-in: retries, permanent errors, crashes between claim and send, reports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from ivr.db.models import SmsMessage
from ivr.tasks.sending import _claim
from tests.tasks.conftest import JONAS, PETRA, only_task, outbox
from tests.tasks.test_acceptance import book_it_help
from tests.twilio.conftest import STAFF


def test_temporary_errors_back_off_and_retry_until_sent(twilio, db, jobs, standin, clock):
    standin.fail(JONAS, status=429, code=20429, times=2)
    book_it_help(twilio)
    report = jobs.send_outbox(clock.now)
    [offer] = outbox(db)
    assert (report.retried, offer.status, offer.attempts, offer.last_error_code) == (1, "queued", 1, 20429)
    assert offer.next_attempt_at == clock.now + timedelta(seconds=30)
    assert jobs.send_outbox(clock.advance(seconds=10)).retried == 0  # not due yet
    jobs.send_outbox(clock.advance(seconds=21))
    [offer] = outbox(db)
    assert (offer.status, offer.attempts) == ("queued", 2)
    assert offer.next_attempt_at == clock.now + timedelta(seconds=60)  # doubled
    assert jobs.send_outbox(clock.advance(seconds=61)).sent == 1
    [offer] = outbox(db)
    assert (offer.status, offer.attempts) == ("sent", 3)
    assert len(standin.messages_to(JONAS)) == 1 and len(standin.posts()) == 3


def test_a_permanent_error_fails_the_sms_and_offers_the_task_to_the_next_volunteer(twilio, db, jobs, standin,
                                                                                     clock):
    standin.fail(JONAS, status=400, code=21610)  # 21610: the recipient replied STOP
    book_it_help(twilio)
    report = jobs.send_outbox(clock.now)
    assert report.failed == 1
    [offer] = outbox(db, JONAS)
    assert (offer.status, offer.last_error_code, offer.attempts) == ("failed", 21610, 1)
    task = only_task(db)
    assert task.state == "offered" and task.assigned_volunteer.phone == PETRA
    assert "failed (error 21610)" in task.transitions[-1].reason
    jobs.send_outbox(clock.now)
    assert len(standin.messages_to(PETRA)) == 1


def test_after_too_many_temporary_errors_the_sms_fails_and_staff_step_in(twilio, db, jobs, standin, clock, config):
    standin.fail(JONAS, status=503, code=20503)
    standin.fail(PETRA, status=400, code=21614)  # 21614: not a mobile number
    book_it_help(twilio)
    for _ in range(config.sms_max_attempts):
        jobs.send_outbox(clock.now)
        # a 5xx may have been processed: the next attempt looks the message up first
        clock.advance(hours=1)
    jobs.send_outbox(clock.now)  # Petra's offer fails for good at once
    jobs.send_outbox(clock.now)  # the staff SMS queued by that failure
    assert outbox(db, JONAS)[0].status == "failed"
    assert outbox(db, PETRA)[0].status == "failed"
    assert only_task(db).state == "escalated"
    assert len(standin.messages_to(STAFF)) == 1
    assert standin.messages_to(JONAS) == []  # every attempt was refused, nothing doubled


def test_a_row_left_in_sending_whose_message_reached_twilio_is_not_sent_again(twilio, db, jobs, standin, clock,
                                                                             config):
    book_it_help(twilio)
    [offer] = outbox(db)
    # The worker claimed the row and Twilio took the message, then the worker died before recording the SID.
    with jobs.sessions() as session:
        assert _claim(session, offer.id, jobs.channel.sender, clock.now, config) == "queued"
    jobs.channel.sms.client.send_sms(JONAS, offer.body)
    assert jobs.send_outbox(clock.advance(seconds=60)).sent == 0  # lease still held
    report = jobs.send_outbox(clock.advance(seconds=61))
    assert (report.recovered, report.sent) == (1, 0)
    [offer] = outbox(db)
    assert offer.status == "sent" and offer.provider_message_id == standin.messages_to(JONAS)[0]["sid"]
    assert len(standin.messages_to(JONAS)) == 1 and len(standin.posts()) == 1


def test_a_row_left_in_sending_before_the_post_is_sent_once(twilio, db, jobs, standin, clock, config):
    book_it_help(twilio)
    [offer] = outbox(db)
    with jobs.sessions() as session:
        _claim(session, offer.id, jobs.channel.sender, clock.now, config)
    report = jobs.send_outbox(clock.advance(seconds=121))
    assert (report.recovered, report.sent) == (0, 1)
    assert len(standin.messages_to(JONAS)) == 1
    assert [r.method for r in standin.requests] == ["GET", "POST"]  # looked up, then sent


def test_an_answer_lost_after_twilio_accepted_is_recovered_by_lookup(twilio, db, jobs, standin, clock):
    standin.fail(JONAS, status=500, code=20500, times=1, mode="lost")
    book_it_help(twilio)
    assert jobs.send_outbox(clock.now).retried == 1
    [offer] = outbox(db)
    assert offer.status == "sending"  # maybe sent: must be looked up before any resend
    report = jobs.send_outbox(clock.advance(minutes=1))
    assert report.recovered == 1
    assert len(standin.messages_to(JONAS)) == 1 and outbox(db)[0].status == "sent"


def test_an_identical_earlier_message_is_not_mistaken_for_the_lost_one(twilio, db, jobs, standin, clock, config):
    book_it_help(twilio)
    [offer] = outbox(db)
    earlier = jobs.channel.sms.client.send_sms(JONAS, offer.body)  # same text, already owned by another row
    with jobs.sessions() as session:
        session.execute(update(SmsMessage).where(SmsMessage.id == offer.id).values(status="queued"))
        session.add(SmsMessage(direction="outbound", to_number=JONAS, body=offer.body, status="sent",
                               provider_message_id=earlier, idempotency_key="older", created_at=clock.now))
        session.commit()
        _claim(session, offer.id, jobs.channel.sender, clock.now, config)
    report = jobs.send_outbox(clock.advance(minutes=3))
    assert (report.recovered, report.sent) == (0, 1)
    assert len(standin.messages_to(JONAS)) == 2


def test_two_workers_never_send_the_same_row(twilio, db, jobs, standin, clock, config, app):
    from ivr.app import worker_jobs

    book_it_help(twilio)
    other = worker_jobs(app.config["HAUSRUF"], config)
    [offer] = outbox(db)
    with jobs.sessions() as first, other.sessions() as second:
        assert _claim(first, offer.id, "+1", clock.now, config) == "queued"
        assert _claim(second, offer.id, "+1", clock.now, config) is None
    other.sessions.kw["bind"].dispose()


def test_delivery_reports_update_the_row_in_order(twilio, db, jobs, standin, clock):
    book_it_help(twilio)
    jobs.send_outbox(clock.now)
    [offer] = outbox(db)
    path = f"/twilio/sms-status?outbox={offer.id}"
    form = {"MessageSid": offer.provider_message_id, "AccountSid": "AC", "To": JONAS}
    assert twilio.post(path, {**form, "MessageStatus": "delivered"}).status == 204
    assert twilio.post(path, {**form, "MessageStatus": "sent"}).status == 204  # late, out of order
    assert outbox(db)[0].status == "delivered"
    assert twilio.post(path, {**form, "MessageStatus": "sent"}, signed=False).status == 403


def test_an_undelivered_offer_moves_the_task_on(twilio, db, jobs, standin, clock):
    book_it_help(twilio)
    jobs.send_outbox(clock.now)
    [offer] = outbox(db)
    twilio.post(f"/twilio/sms-status?outbox={offer.id}", {"MessageSid": offer.provider_message_id, "MessageStatus":
                                                         "undelivered", "ErrorCode": "30003"})
    offer = outbox(db, JONAS)[0]
    assert (offer.status, offer.last_error_code) == ("undelivered", 30003)
    assert only_task(db).assigned_volunteer.phone == PETRA


def test_a_report_that_beats_the_recorded_sid_finds_the_row_by_its_id(twilio, db, jobs, standin, clock):
    book_it_help(twilio)
    [offer] = outbox(db)
    twilio.post(f"/twilio/sms-status?outbox={offer.id}", {"MessageSid": "SM" + "9" * 32, "MessageStatus": "sent"})
    offer = outbox(db)[0]
    assert (offer.status, offer.provider_message_id) == ("sent", "SM" + "9" * 32)
