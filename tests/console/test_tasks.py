"""Tasks in the console: a signed call's task appears, staff act on it through the same state machine as SMS."""

from __future__ import annotations

from sqlalchemy import select

from ivr.db import get_session
from ivr.db.models import CallbackTask, SmsMessage, StaffAuditEntry
from tests.console.conftest import ERIKA, post


def _task(app, number=1) -> CallbackTask:
    with app.app_context():
        session = get_session()
        task = session.scalar(select(CallbackTask).where(CallbackTask.number == number))
        session.expunge_all()
        return task


def test_a_signed_call_pressing_5_creates_a_task_that_staff_mark_done(app, twilio, staff_client):
    call = twilio.call(ERIKA)
    call.press("5")
    listing = staff_client.get("/tasks").get_data(as_text=True)
    assert "#1" in listing and "Frau Becker" in listing and "Lindenhof" in listing
    assert "Hilfe mit Telefon, Computer oder Haus-Chat" in listing
    page = staff_client.get("/tasks/1").get_data(as_text=True)
    assert "angeboten" in page and "Jonas Brandt" in page  # offered to the fairest IT helper, by SMS
    assert "Hausruf #1" in page  # the offer SMS in the history
    response = post(staff_client, "/tasks/1/done", {"reason": "am Telefon geholfen"}, form_path="/tasks/1")
    assert response.status_code == 303
    page = staff_client.get("/tasks/1").get_data(as_text=True)
    assert "Aufgabe #1 ist jetzt: erledigt." in page
    assert "angeboten → erledigt" in page and "staff (buero@talblick.example): am Telefon geholfen" in page
    assert _task(app).state == "done"
    with app.app_context():
        session = get_session()
        # Jonas held the offer: he is told not to call any more.
        bodies = [m.body for m in session.scalars(select(SmsMessage).where(SmsMessage.to_number == "+493023125201"))]
        assert any("Bitte nicht mehr anrufen" in body for body in bodies)
        audit = session.scalars(select(StaffAuditEntry).where(StaffAuditEntry.action == "task.done")).all()
        assert [(a.actor, a.target) for a in audit] == [("buero@talblick.example", "task #1")]
    assert "#1" not in staff_client.get("/tasks").get_data(as_text=True)  # no longer open
    assert "#1" in staff_client.get("/tasks?state=done").get_data(as_text=True)


def test_an_action_the_state_forbids_is_refused_with_a_message(app, twilio, staff_client):
    twilio.call(ERIKA).press("5")
    post(staff_client, "/tasks/1/cancel", {"reason": "doppelt"}, form_path="/tasks/1")
    response = post(staff_client, "/tasks/1/done", form_path="/tasks/1")
    assert response.status_code == 303
    page = staff_client.get("/tasks/1").get_data(as_text=True)
    assert "Nicht möglich: Aufgabe #1 ist abgesagt und kann nicht erledigt werden (möglich: nichts mehr)." in page
    assert _task(app).state == "cancelled"
    response = post(staff_client, "/tasks/1/assign", {"to": "staff"}, form_path="/tasks/1")
    assert "kann nicht übernommen werden" in staff_client.get(response.headers["Location"]).get_data(as_text=True)


def test_assign_to_a_volunteer_or_to_staff_and_add_a_note(app, twilio, staff_client):
    twilio.call(ERIKA).press("5")
    with app.app_context():
        from ivr.db.models import Volunteer

        petra = get_session().scalar(select(Volunteer).where(Volunteer.name == "Petra Wolf")).id
    post(staff_client, "/tasks/1/assign", {"to": str(petra)}, form_path="/tasks/1")
    page = staff_client.get("/tasks/1").get_data(as_text=True)
    assert "Aufgabe #1 ist jetzt bei Petra Wolf" in page and "übernommen" in page
    task = _task(app)
    assert task.state == "accepted" and task.assigned_volunteer_id == petra and task.next_step_at is not None
    with app.app_context():
        bodies = [m.body for m in get_session().scalars(select(SmsMessage).where(SmsMessage.to_number == "+493023125202"))]
        assert any(body.startswith("Danke! #1 ist Ihre Aufgabe") for body in bodies)
    post(staff_client, "/tasks/1/note", {"note": "Frau Becker lieber nachmittags anrufen"}, form_path="/tasks/1")
    page = staff_client.get("/tasks/1").get_data(as_text=True)
    assert "Frau Becker lieber nachmittags anrufen" in page and "Notiz gespeichert." in page


def test_filters_and_unknown_task(staff_client, twilio):
    twilio.call(ERIKA).press("5")
    assert "#1" in staff_client.get("/tasks?house=lindenhof").get_data(as_text=True)
    assert "#1" not in staff_client.get("/tasks?house=muehlenweg").get_data(as_text=True)
    assert "#1" in staff_client.get("/tasks?q=Computer").get_data(as_text=True)
    assert staff_client.get("/tasks/999").status_code == 404
    assert post(staff_client, "/tasks/999/done").status_code == 404


def test_calls_page_shows_outcomes_masked_numbers_and_where_callers_hang_up(app, twilio, staff_client, client):
    call = twilio.call(ERIKA)
    call.press("5")
    call.hang_up(40)
    lost = twilio.call("+493023125304")  # Frau Schneider gives up in the care menu
    lost.press("4")
    lost.hang_up(20)
    page = staff_client.get("/calls").get_data(as_text=True)
    assert "Rückruf gebucht (IT-Helfer)" in page and "aufgelegt in care_menu" in page
    assert "Erika Becker" in page and "+49 30 ***01" in page and "+493023125301" not in page
    assert "04.03.2026 10:00" in page  # Berlin time, not UTC (09:00)
    # The drop-off table: care_menu reached once, lost once.
    assert '<th scope="row">care_menu</th><td class="num">1</td><td class="num">1</td>' in page
    detail = staff_client.get("/calls/1").get_data(as_text=True)
    assert "Taste</strong> „5“" in detail and "Rückruf gebucht" in detail


def test_a_helpers_sms_reply_shows_in_the_task_history(app, twilio, staff_client):
    from tests.tasks.conftest import sms

    twilio.call(ERIKA).press("5")
    assert sms(twilio, "+493023125201", "ok 1").status == 200  # Jonas takes it by SMS
    page = staff_client.get("/tasks/1").get_data(as_text=True)
    assert "SMS von +493023125201" in page and "<blockquote>ok 1</blockquote>" in page
    assert "angeboten → übernommen" in page and "Danke! #1 ist Ihre Aufgabe" in page
