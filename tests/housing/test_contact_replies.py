"""A project's contact answers a seeker's "call me back" request by SMS, like a helper: signed Twilio SMS
webhooks on a real database; only the contact of that project may act on its requests."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr.db import engine_of, get_session
from ivr.db.models import CallbackTask, SmsMessage
from tests.housing.test_line import HOUSING, MOBILE, answer_questions, line, make_app, rows
from tests.twilio.conftest import HOTLINE, STAFF, WEDNESDAY_10

JUTTA = "+493023125401"  # contact of mehrgenerationen-siegen, the best match of answer_questions()
PETER = "+493023125402"  # contact of senioren-wg-lindenhof: another project
JONAS = "+493023125201"  # an IT helper of the demo directory
STRANGER = "+4915199999999"


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path)
    yield app
    engine_of(app).dispose()


def request_a_call(app) -> CallbackTask:
    """A seeker asks for a call from the best project and lets us pass the answers on."""
    call = line(app, HOUSING).call(MOBILE)
    answer_questions(call)
    call.press("3")
    call.press("1")
    task, = rows(app, CallbackTask)
    return task


def sms(app, from_number: str, body: str) -> int:
    """A signed incoming SMS, as Twilio posts it; returns the HTTP status."""
    reply = line(app, HOUSING).post("/twilio/sms", {"MessageSid": f"SM{uuid.uuid4().hex}", "From": from_number,
                                                    "To": HOTLINE, "Body": body, "NumSegments": "1"})
    return reply.status


def texts_to(app, number: str) -> list[str]:
    return [m.body for m in rows(app, SmsMessage, SmsMessage.to_number == number, SmsMessage.direction == "outbound")]


def task_now(app, task_id: int) -> CallbackTask:
    task, = rows(app, CallbackTask, CallbackTask.id == task_id)
    return task


def history(app, task_id: int) -> list[tuple[str | None, str, str]]:
    """(from, to, who) of every move of the task."""
    with app.app_context():
        task = get_session().get(CallbackTask, task_id)
        return [(t.from_state, t.to_state, t.actor) for t in task.transitions]


def test_the_offer_tells_the_contact_how_to_reply_and_done_closes_the_request(app):
    task = request_a_call(app)
    offer, = texts_to(app, JUTTA)
    assert f"Danach: ERLEDIGT {task.number}, geht nicht: NEIN {task.number}." in offer
    assert sms(app, JUTTA, f"Erledigt {task.number}, danke") == 200
    task = task_now(app, task.id)
    assert task.state == "done" and task.next_step_at is None
    assert history(app, task.id)[-1] == ("offered", "done", "contact of project mehrgenerationen-siegen (SMS)")
    assert texts_to(app, JUTTA)[-1] == f"Danke! #{task.number} ist erledigt."


def test_another_projects_contact_a_helper_and_a_stranger_cannot_act_on_it(app):
    task = request_a_call(app)
    assert sms(app, PETER, f"erledigt {task.number}") == 200
    assert texts_to(app, PETER) == [f"Hausruf: Aufgabe #{task.number} gibt es für Sie nicht. Hilfe: ?"]
    assert sms(app, JONAS, f"ok {task.number}") == 200
    assert texts_to(app, JONAS) == [f"Hausruf: Aufgabe #{task.number} gibt es für Sie nicht. Hilfe: ?"]
    assert sms(app, STRANGER, f"erledigt {task.number}") == 200
    assert texts_to(app, STRANGER) == []  # an unknown sender gets no answer at all
    assert task_now(app, task.id).state == "offered"
    # Peter's own list is empty: the request is not his.
    sms(app, PETER, "?")
    assert texts_to(app, PETER)[-1].endswith("Sie haben keine offenen Aufgaben.")


def test_ok_without_a_number_takes_the_only_request_and_staff_hear_if_it_is_never_done(app):
    task = request_a_call(app)
    sms(app, JUTTA, "?")
    assert texts_to(app, JUTTA)[-1].endswith(f"Ihre Aufgaben: #{task.number}.")
    sms(app, JUTTA, "ok")
    task = task_now(app, task.id)
    assert task.state == "accepted" and task.assigned_volunteer_id is None
    assert texts_to(app, JUTTA)[-1].startswith(f"Danke! #{task.number} ist Ihre Aufgabe")
    sms(app, JUTTA, f"ok {task.number}")
    assert texts_to(app, JUTTA)[-1].startswith(f"Sie haben #{task.number} schon übernommen.")
    from ivr.tasks.config import TaskConfig
    from ivr.tasks.escalation import run_due_steps

    with app.app_context():
        config = TaskConfig.from_env(STAFF, "Europe/Berlin")
        session = get_session()
        assert run_due_steps(session, WEDNESDAY_10 + timedelta(hours=25), config) == 0  # within two periods
        assert run_due_steps(session, WEDNESDAY_10 + timedelta(hours=49), config) == 1
    assert task_now(app, task.id).state == "escalated"
    assert "Übernommen, aber nicht erledigt." in texts_to(app, STAFF)[-1]


def test_no_from_the_contact_hands_the_request_to_the_office(app):
    task = request_a_call(app)
    sms(app, JUTTA, f"nein {task.number}")
    task = task_now(app, task.id)
    assert [to for _from, to, _who in history(app, task.id)][-2:] == ["declined", "escalated"]
    assert texts_to(app, JUTTA)[-1] == f"In Ordnung, #{task.number} geht an jemand anderen."
    to_staff = texts_to(app, STAFF)[-1]
    assert to_staff.startswith(f"Hausruf #{task.number} ans Büro: Das Wohnprojekt kann nicht zurückrufen.")
    # Once the office has it, the contact may still report that they did call after all.
    sms(app, JUTTA, f"erledigt {task.number}")
    assert task_now(app, task.id).state == "done"


def test_a_request_the_office_took_over_is_not_the_contacts_any_more(app):
    from ivr.tasks.states import move

    task = request_a_call(app)
    with app.app_context():
        session = get_session()
        held = session.scalar(select(CallbackTask).where(CallbackTask.id == task.id))
        move(held, "accepted", "staff (buero@talblick.example)", "vom Büro übernommen", WEDNESDAY_10)
        session.commit()
    sms(app, JUTTA, f"erledigt {task.number}")
    assert texts_to(app, JUTTA)[-1] == f"#{task.number} ist bei jemand anderem in guten Händen. Danke!"
    assert task_now(app, task.id).state == "accepted"
