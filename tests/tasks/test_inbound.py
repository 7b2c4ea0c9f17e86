"""Volunteers' replies: permissions, missing numbers, duplicates, languages; every reply confirmed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from ivr.db.models import CallbackTask, SmsMessage, Volunteer
from tests.tasks.conftest import JONAS, PETRA, only_task, outbox, sms
from tests.tasks.test_acceptance import book_it_help
from tests.twilio.conftest import STAFF

SABINE = "+493023125203"  # Am Hang: another house
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_volunteer_of_another_house_learns_nothing(twilio, db):
    book_it_help(twilio)
    sms(twilio, SABINE, "ok 1")
    assert only_task(db).state == "offered"
    assert outbox(db, SABINE)[-1].body == "Hausruf: Aufgabe #1 gibt es für Sie nicht. Hilfe: ?"
    sms(twilio, SABINE, "ok 99")  # a number that does not exist gets the very same answer
    assert outbox(db, SABINE)[-1].body == "Hausruf: Aufgabe #99 gibt es für Sie nicht. Hilfe: ?"


@SQLITE_ONLY  # the permission logic is the same on both databases
def test_a_colleague_the_task_was_not_offered_to_learns_nothing(twilio, db):
    book_it_help(twilio)
    sms(twilio, PETRA, "ja 1")
    assert only_task(db).state == "offered" and only_task(db).assigned_volunteer.phone == JONAS
    assert outbox(db, PETRA)[-1].body == "Hausruf: Aufgabe #1 gibt es für Sie nicht. Hilfe: ?"
    assert "23125301" not in outbox(db, PETRA)[-1].body


@SQLITE_ONLY  # the permission logic is the same on both databases
def test_the_first_volunteer_may_still_take_it_after_it_moved_on(twilio, db, jobs, clock):
    book_it_help(twilio)
    clock.advance(minutes=31)
    jobs.run_steps(clock.now)  # no answer from Jonas: offered to Petra
    assert only_task(db).assigned_volunteer.phone == PETRA
    sms(twilio, PETRA, "ja 1")
    sms(twilio, JONAS, "ok 1")
    assert outbox(db, JONAS)[-1].body == "#1 hat schon Petra Wolf übernommen. Danke!"
    sms(twilio, JONAS, "erledigt 1")  # closed only by the helper who holds it, or staff
    assert outbox(db, JONAS)[-1].body == "#1 ist bei jemand anderem in guten Händen. Danke!"
    assert (only_task(db).state, only_task(db).assigned_volunteer.phone) == ("accepted", PETRA)
    sms(twilio, PETRA, "erledigt 1")
    assert only_task(db).state == "done"


@SQLITE_ONLY  # the permission logic is the same on both databases
def test_a_time_in_the_reply_never_names_another_task(twilio, db, clock):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1")  # Jonas holds #1
    clock.advance(minutes=1)
    twilio.call("+493023125302").press("5")  # #2 is offered to Petra (fewer recent offers)
    db.expire_all()
    second = db.scalar(select(CallbackTask).where(CallbackTask.number == 2))
    assert second.assigned_volunteer.phone == PETRA and second.state == "offered"
    history = len(second.transitions)
    sms(twilio, JONAS, "ok, ich rufe Herrn Vogel um 2 Uhr an")
    db.expire_all()
    first = db.scalar(select(CallbackTask).where(CallbackTask.number == 1))
    second = db.scalar(select(CallbackTask).where(CallbackTask.number == 2))
    assert (first.state, first.assigned_volunteer.phone) == ("accepted", JONAS)
    assert (second.state, second.assigned_volunteer.phone, len(second.transitions)) == ("offered", PETRA, history)
    assert outbox(db, JONAS)[-1].body == "Sie haben #1 schon übernommen. Wenn erledigt: ERLEDIGT 1."
    assert not any("23125302" in m.body or "Vogel" in m.body for m in outbox(db, JONAS))


@SQLITE_ONLY  # the permission logic is the same on both databases
def test_two_task_numbers_in_one_reply_get_a_question_not_an_action(twilio, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1 oder ok 2")
    assert only_task(db).state == "offered"
    assert outbox(db, JONAS)[-1].body.startswith("Hausruf: Welche Aufgabe?")


@SQLITE_ONLY  # the permission logic is the same on both databases
def test_replies_without_a_provider_message_id_are_each_answered_once(twilio, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "?", sid="")
    sms(twilio, JONAS, "ok 1", sid="")
    bodies = [m.body for m in outbox(db, JONAS)]
    assert len(bodies) == 3 and bodies[1].startswith("Hausruf: OK 17") and bodies[2].startswith("Danke! #1")


def test_a_twilio_retry_of_the_same_sms_is_answered_once(twilio, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1", sid="SM" + "7" * 32)
    sms(twilio, JONAS, "ok 1", sid="SM" + "7" * 32)
    assert len(outbox(db, JONAS)) == 2  # offer + one confirmation
    assert len(db.scalars(select(SmsMessage).where(SmsMessage.direction == "inbound")).all()) == 1


def test_help_lists_the_volunteers_tasks(twilio, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "?")
    assert outbox(db, JONAS)[-1].body == ("Hausruf: OK 17 = übernehme, NEIN 17 = kann nicht, ERLEDIGT 17 = fertig. "
                                          "Ihre Aufgaben: #1.")


def test_without_a_number_and_two_tasks_the_volunteer_is_asked_which(twilio, db, clock):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1")
    clock.advance(minutes=1)
    db.execute(update(Volunteer).where(Volunteer.phone == PETRA).values(active=False))
    db.commit()
    twilio.call("+493023125302").press("5")
    sms(twilio, JONAS, "erledigt")
    assert outbox(db, JONAS)[-1].body == ("Hausruf: Welche Aufgabe? Bitte mit Nummer antworten, z.B. OK 1. "
                                          "Ihre Aufgaben: #1, #2.")


def test_not_understood_gets_the_short_syntax(twilio, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "Hallo, wer ist da?")
    assert outbox(db, JONAS)[-1].body.startswith("Hausruf: OK 17 = übernehme")


def test_english_volunteers_get_english_texts(twilio, db):
    db.execute(update(Volunteer).where(Volunteer.phone == JONAS).values(language="en"))
    db.commit()
    book_it_help(twilio)
    assert outbox(db, JONAS)[0].body.startswith("Hausruf #1: Frau Becker (Lindenhof) asks for a call back:")
    sms(twilio, JONAS, "done 1")
    assert outbox(db, JONAS)[-1].body == "Thanks! #1 is done."


def test_staff_may_finish_any_task_by_sms(twilio, db):
    book_it_help(twilio)
    sms(twilio, STAFF, "erledigt 1")
    assert only_task(db).state == "done"
    assert only_task(db).transitions[-1].actor == "staff (SMS)"


def test_declining_a_task_someone_else_holds_changes_nothing(twilio, db):
    book_it_help(twilio)
    sms(twilio, PETRA, "nein 1")
    assert only_task(db).assigned_volunteer.phone == JONAS
    assert outbox(db, PETRA)[-1].body == "Hausruf: Aufgabe #1 gibt es für Sie nicht. Hilfe: ?"


def test_a_finished_task_stays_finished(twilio, db):
    book_it_help(twilio)
    sms(twilio, JONAS, "erledigt 1")
    sms(twilio, JONAS, "ok 1")
    assert only_task(db).state == "done"
    assert outbox(db, JONAS)[-1].body == "#1 ist schon erledigt oder abgesagt. Danke!"
