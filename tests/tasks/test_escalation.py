"""Offers, quiet hours, fairness, declines, reminders, expiry and staff tasks, with the clock moved forward."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ivr.db.models import CallbackTask, Volunteer
from ivr.tasks.escalation import quiet_end
from tests.tasks.conftest import JONAS, PETRA, only_task, outbox, sms
from tests.tasks.test_acceptance import book_it_help
from tests.twilio.conftest import ERIKA, STAFF

BERLIN_2230 = datetime(2026, 3, 4, 21, 30, tzinfo=timezone.utc)  # 22:30 in Berlin (CET)


def set_quiet_hours(db, phone: str, quiet: str) -> None:
    db.execute(update(Volunteer).where(Volunteer.phone == phone).values(quiet_hours=quiet))
    db.commit()


def test_at_night_the_awake_volunteer_gets_the_offer(twilio, db, clock):
    clock.now = BERLIN_2230  # Jonas sleeps 21:00-08:00, Petra has no quiet hours
    book_it_help(twilio)
    assert only_task(db).assigned_volunteer.phone == PETRA


def test_when_both_sleep_the_offer_waits_for_the_earliest_wake_up(twilio, db, jobs, clock):
    set_quiet_hours(db, PETRA, "22:00-07:00")
    clock.now = BERLIN_2230
    book_it_help(twilio)
    task = only_task(db)
    assert task.state == "open" and outbox(db) == []
    assert task.next_step_at == datetime(2026, 3, 5, 6, 0, tzinfo=timezone.utc)  # 07:00 Berlin
    assert jobs.run_steps(clock.advance(hours=8)) == 0  # 06:30 Berlin: both still asleep
    assert jobs.run_steps(clock.advance(minutes=30)) == 1  # 07:00 Berlin: Petra wakes first
    task = only_task(db)
    assert task.state == "offered" and task.assigned_volunteer.phone == PETRA


def test_quiet_hours_end_in_local_time_across_daylight_saving():
    local = datetime(2026, 3, 28, 23, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # the night clocks go forward
    assert quiet_end("21:00-08:00", local) == datetime(2026, 3, 29, 6, 0, tzinfo=timezone.utc)  # 08:00 CEST
    assert quiet_end("22:00-07:30", local.replace(hour=6)) == datetime(2026, 3, 28, 6, 30, tzinfo=timezone.utc)


def test_the_volunteer_with_fewer_recent_offers_goes_first(twilio, db, jobs, clock):
    book_it_help(twilio)  # first task: Jonas (tie, lower id)
    clock.advance(minutes=5)
    call = twilio.call("+493023125302")  # Herr Vogel, also Lindenhof
    call.press("5")
    tasks = db.scalars(select(CallbackTask).order_by(CallbackTask.number)).all()
    assert [t.assigned_volunteer.phone for t in tasks] == [JONAS, PETRA]


def test_a_decline_moves_on_at_once_and_confirms(twilio, db, clock):
    book_it_help(twilio)
    number = only_task(db).number
    sms(twilio, JONAS, f"kann nicht {number}")
    task = only_task(db)
    assert task.state == "offered" and task.assigned_volunteer.phone == PETRA
    assert [t.to_state for t in task.transitions] == ["open", "offered", "declined", "offered"]
    assert outbox(db, JONAS)[-1].body == f"In Ordnung, #{number} geht an jemand anderen."
    sms(twilio, PETRA, "nein")  # her only task: the number may be left out
    assert only_task(db).state == "escalated"
    assert len(outbox(db, STAFF)) == 1


def test_an_accepted_task_gets_one_reminder_then_staff(twilio, db, jobs, clock):
    book_it_help(twilio)
    sms(twilio, JONAS, "OK")
    jobs.run_steps(clock.advance(hours=23))
    assert len(outbox(db, JONAS)) == 2  # offer, confirmation
    jobs.run_steps(clock.advance(hours=2))  # 10:00 Berlin next day: awake
    reminder = outbox(db, JONAS)[-1]
    assert reminder.body.startswith("Hausruf Erinnerung #1: Frau Becker wartet auf Ihren Rückruf")
    assert only_task(db).state == "accepted"
    jobs.run_steps(clock.advance(hours=24))
    task = only_task(db)
    assert task.state == "escalated" and "did not report done" in task.transitions[-1].reason
    assert "Übernommen, aber nicht erledigt." in outbox(db, STAFF)[0].body


def test_done_by_sms_ends_the_task(twilio, db, jobs, clock):
    book_it_help(twilio)
    sms(twilio, JONAS, "ok 1")
    sms(twilio, JONAS, "Erledigt!")
    task = only_task(db)
    assert task.state == "done" and task.next_step_at is None
    assert jobs.run_steps(clock.advance(days=3)) == 0
    assert outbox(db, JONAS)[-1].body == "Danke! #1 ist erledigt."


def test_a_task_nobody_takes_expires_and_staff_are_told(twilio, db, jobs, clock, monkeypatch):
    monkeypatch.setenv("HAUSRUF_EXPIRE_HOURS", "1")  # the web side reads the environment at booking time
    jobs.config = jobs.config.but(expire_after=timedelta(hours=1))  # the worker read it at start
    book_it_help(twilio)
    for _ in range(4):
        jobs.run_steps(clock.advance(minutes=31))
    task = only_task(db)
    assert task.state == "expired"
    bodies = [m.body for m in outbox(db, STAFF)]
    assert bodies[-1].startswith("Hausruf #1 abgelaufen, niemand hat übernommen: Frau Becker (Lindenhof)")


def test_a_late_accept_after_escalation_tells_staff(twilio, db, jobs, clock):
    book_it_help(twilio)
    jobs.run_steps(clock.advance(minutes=31))
    jobs.run_steps(clock.advance(minutes=31))
    assert only_task(db).state == "escalated"
    sms(twilio, PETRA, "übernehme 1")
    assert only_task(db).state == "accepted"
    assert outbox(db, STAFF)[-1].body == "Hausruf #1: doch übernommen von Petra Wolf. Danke!"


def test_a_staff_callback_goes_to_the_staff_number(twilio, db, clock):
    call = twilio.call(ERIKA)
    call.silence()
    call.silence()
    call.silence()  # no input three times: the person path; the office is open, so it dials
    call.dial_ends("busy", duration=0)  # nobody free: a staff callback is booked
    task = only_task(db)
    assert (task.audience, task.state, task.assigned_volunteer_id) == ("staff", "offered", None)
    [message] = outbox(db)
    assert message.to_number == STAFF and message.body.startswith("Hausruf #1: Frau Becker (Lindenhof) bittet um")


def test_an_unknown_caller_wanting_it_help_goes_to_staff(twilio, db):
    call = twilio.call("+4915199998888")
    call.press("5")
    task = only_task(db)  # the engine books unknown callers' IT help for staff: no house to ask
    assert (task.audience, task.state, task.house_id, task.caller_name) == ("staff", "offered", None, "")
    [message] = outbox(db)
    assert message.to_number == STAFF
    assert message.body == "Hausruf #1: Anrufer bittet um Rückruf: Hilfe mit Telefon, Computer oder Haus-Chat. " \
                           "Tel. 01519 9998888. Erledigt: ERLEDIGT 1."
