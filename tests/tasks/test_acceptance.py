"""The issue's acceptance scenario over signed webhooks, the real database and real HTTP to the stand-in."""

from __future__ import annotations

from sqlalchemy import select

from ivr.db.models import SmsMessage
from tests.tasks.conftest import JONAS, PETRA, STRANGER, only_task, outbox, sms
from tests.twilio.conftest import ERIKA, STAFF
from ivr.wiring import hausruf


def book_it_help(twilio):
    call = twilio.call(ERIKA)
    call.press("5")
    return call


def test_key_5_books_a_task_and_the_worker_sends_the_offer(twilio, db, jobs, standin, clock):
    book_it_help(twilio)
    task = only_task(db)
    assert (task.state, task.audience, task.house_id) == ("offered", "volunteers", "lindenhof")
    assert task.caller_name == "Frau Becker" and task.callback_number == ERIKA
    [offer] = outbox(db)
    assert offer.to_number == JONAS and offer.status == "queued" and offer.task_id == task.id
    assert offer.body == (f"Hausruf #{task.number}: Frau Becker (Lindenhof) bittet um Rückruf: Hilfe mit Telefon, "
                          f"Computer oder Haus-Chat. Tel. 030 23125301. OK {task.number} = übernehme, "
                          f"NEIN {task.number} = kann nicht.")
    report = jobs.send_outbox(clock.now)
    assert report.sent == 1
    [sent] = standin.messages_to(JONAS)
    assert sent["body"] == offer.body and sent["from"] == "+4927150199999"
    assert standin.posts()[0].form["StatusCallback"] == f"https://hotline.example.org/twilio/sms-status?outbox={offer.id}"
    db.expire_all()
    assert (offer.status, offer.provider_message_id, offer.attempts) == ("sent", sent["sid"], 1)


def test_the_volunteer_accepts_by_sms_and_gets_a_confirmation(twilio, db, jobs, clock):
    book_it_help(twilio)
    number = only_task(db).number
    reply = sms(twilio, JONAS, f"ok {number}")
    assert reply.status == 200 and reply.body == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    task = only_task(db)
    assert task.state == "accepted" and task.assigned_volunteer.phone == JONAS
    assert task.transitions[-1].actor.startswith("volunteer ") and task.transitions[-1].reason == "accepted by SMS"
    confirmation = outbox(db, JONAS)[-1]
    assert confirmation.body.startswith(f"Danke! #{number} ist Ihre Aufgabe: Frau Becker, Tel. 030 23125301.")


def test_a_stranger_changes_nothing_and_hears_nothing(twilio, db):
    book_it_help(twilio)
    task = only_task(db)
    before = (task.state, task.version, len(outbox(db)))
    reply = sms(twilio, STRANGER, f"ok {task.number}")
    assert reply.status == 200 and "Response" in reply.body and "Becker" not in reply.body
    task = only_task(db)
    assert (task.state, task.version, len(outbox(db))) == before
    assert outbox(db, STRANGER) == []
    stored = db.scalar(select(SmsMessage).where(SmsMessage.direction == "inbound"))
    assert stored.from_number == STRANGER and stored.status == "received"


def test_unsigned_sms_is_refused(twilio, db):
    reply = twilio.post("/twilio/sms", {"MessageSid": "SM1", "From": JONAS, "Body": "ok 1"}, signed=False)
    assert reply.status == 403


def test_without_a_reply_the_second_volunteer_then_staff_are_offered_the_task(twilio, db, jobs, clock, standin):
    book_it_help(twilio)
    jobs.send_outbox(clock.now)
    assert jobs.run_steps(clock.advance(minutes=29)) == 0
    assert only_task(db).state == "offered" and only_task(db).assigned_volunteer.phone == JONAS
    jobs.run_steps(clock.advance(minutes=2))
    jobs.send_outbox(clock.now)
    task = only_task(db)
    assert task.state == "offered" and task.assigned_volunteer.phone == PETRA
    assert len(standin.messages_to(PETRA)) == 1 and f"#{task.number}" in standin.messages_to(PETRA)[0]["body"]
    jobs.run_steps(clock.advance(minutes=31))
    jobs.send_outbox(clock.now)
    task = only_task(db)
    assert task.state == "escalated" and task.assigned_volunteer is None
    [to_staff] = standin.messages_to(STAFF)
    assert to_staff["body"].startswith(f"Hausruf #{task.number} ans Büro: Kein IT-Helfer hat übernommen. Frau Becker")
    assert [t.to_state for t in task.transitions] == ["open", "offered", "offered", "escalated"]
    assert "no answer from volunteer" in task.transitions[2].reason


def test_the_webhook_wakes_the_worker_after_commit(twilio, app):
    book_it_help(twilio)
    kick = hausruf(app).outbox_kick
    assert kick._queue is not None and kick._queue.huey.pending_count() == 1


def test_the_message_left_after_booking_attaches_to_the_same_task(twilio, db):
    call = book_it_help(twilio)
    call.record("RE" + "2" * 32)
    task = only_task(db)
    assert task.recording_ref == "RE" + "2" * 32
    assert len(outbox(db)) == 1
