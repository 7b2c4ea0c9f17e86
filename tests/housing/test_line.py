"""The housing line through signed Twilio webhooks on a real database: the called number picks the flow,
answers are stored only with consent, details go out by SMS, a project's contact gets the callback task."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ivr.db import engine_of, get_session
from ivr.db.models import Call, CallbackTask, CallEvent, SmsMessage
from ivr.housing.models import HousingDemand, HousingSeeker
from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, HOTLINE, PUBLIC_URL, WEDNESDAY_10, app_config, load_demo_directory

HOUSING = "+4927150000002"
MOBILE = "+4915123456789"  # not in the directory; a mobile number takes SMS
NUMBERS = {HOTLINE: "hotline", HOUSING: "wohnen"}


def make_app(database_url, tmp_path, **overrides):
    app = migrated_app(app_config(database_url, tmp_path, numbers=NUMBERS, **overrides))
    hausruf(app).clock = lambda: WEDNESDAY_10
    hausruf(app).outbox_kick = lambda: None  # no worker here: the outbox row is what counts
    load_demo_directory(app)
    return app


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = make_app(sqlite_url, tmp_path)
    yield app
    engine_of(app).dispose()


def line(app, number: str) -> CallSimulator:
    return CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=number)


def rows(app, model, *where):
    with app.app_context():
        return get_session().scalars(select(model).where(*where)).all()


def answer_questions(call, keep: str = "1") -> None:
    call.press("1")       # Siegen
    call.press("5")       # any kind of living
    call.press("1")       # step-free
    gather = call._only("Gather")
    assert gather.get("finishOnKey") == "#" and gather.get("numDigits") is None  # a number, ended with #
    call.press("600")     # Twilio leaves the # out of Digits
    call.press("2")       # later
    call.press(keep)      # may we store your answers?


def test_the_called_number_picks_the_flow(app):
    housing = line(app, HOUSING).call(MOBILE)
    assert housing.heard[0] == "Guten Tag. Hier ist die Wohnprojekt-Beratung der Genossenschaft Talblick."
    hotline = line(app, HOTLINE).call(ERIKA)
    assert "Hier ist das Haustelefon Ihrer Genossenschaft." in hotline.heard_text
    other = line(app, "+4927150000077").call(ERIKA)  # not mapped: HAUSRUF_FLOW
    assert "Hier ist das Haustelefon Ihrer Genossenschaft." in other.heard_text


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_with_consent_answers_are_stored_and_details_go_out_by_sms(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    call = line(app, HOUSING).call(MOBILE)
    answer_questions(call)
    assert "Erstens: Mehrgenerationenhaus Am Wellersberg in Siegen." in call.heard_text
    call.press("2")       # SMS
    assert "Die Angaben kommen gleich per SMS" in call.heard_text
    seeker, = rows(app, HousingSeeker)
    assert seeker.phone == MOBILE and seeker.share_consent is False
    assert seeker.answers == {"town": "siegen", "living": "any", "needs": "step_free", "budget": "600",
                              "timing": "later", "keep": "yes"}
    assert seeker.matched == ["mehrgenerationen-siegen", "senioren-wg-lindenhof"]
    sms, = rows(app, SmsMessage, SmsMessage.to_number == MOBILE)
    assert sms.body.startswith("Wohnprojekte für Sie: 1) Mehrgenerationenhaus Am Wellersberg, Siegen.")
    assert "Kontakt: Jutta Hoffmann, 030 23125401" in sms.body and "2) Senioren-WG am Lindenhof" in sms.body
    call.press("1")       # hear them again: counted once
    counts = {(d.dimension, d.value, d.outcome): d.count for d in rows(app, HousingDemand)}
    assert counts[("callers", "all", "match")] == 1 and counts[("need", "step_free", "match")] == 1
    engine_of(app).dispose()


def test_without_consent_nothing_but_the_anonymous_count_is_kept(app):
    twilio = line(app, HOUSING)
    call = twilio.call(MOBILE)
    answer_questions(call, keep="2")
    assert "Wir haben nichts gespeichert." in call.heard_text
    call.press("2")       # SMS is not on offer here
    assert rows(app, HousingSeeker) == [] and rows(app, SmsMessage) == [] and rows(app, CallbackTask) == []
    counts = {(d.dimension, d.value): d.count for d in rows(app, HousingDemand)}
    assert counts[("callers", "all")] == 1 and counts[("region", "siegen")] == 1
    # The answers lived for the call only: when it ends, its record keeps neither them nor the keys pressed.
    assert twilio.post("/twilio/status", call.form(CallStatus="completed", CallDuration="95")).status == 204
    stored, = rows(app, Call)
    assert stored.status == "ended" and stored.state["answers"] == {} and stored.state["matched"] == []
    events = rows(app, CallEvent, CallEvent.call_id == stored.id)
    assert [e.detail for e in events[:-1]] == [""] * (len(events) - 1) and events[-1].detail == "ended"
    assert ("digits", "ask_budget") in {(e.kind, e.node) for e in events}  # where the call went stays


def test_with_consent_the_call_keeps_its_answers_after_it_ends(app):
    twilio = line(app, HOUSING)
    call = twilio.call(MOBILE)
    answer_questions(call)
    assert twilio.post("/twilio/status", call.form(CallStatus="completed", CallDuration="95")).status == 204
    stored, = rows(app, Call)
    assert stored.state["answers"]["budget"] == 600 and stored.state["answers_kept"] is True
    assert "600" in {e.detail for e in rows(app, CallEvent, CallEvent.call_id == stored.id)}


def test_the_best_project_gets_the_callback_task_with_the_answers(app):
    call = line(app, HOUSING).call(MOBILE)
    answer_questions(call)
    call.press("3")       # a call from the project
    call.press("1")       # may pass the answers on
    assert "Sie werden in den nächsten Tagen angerufen" in call.heard_text
    task, = rows(app, CallbackTask)
    assert task.audience == "project" and task.state == "offered" and task.callback_number == MOBILE
    assert task.topic == "Wohnprojekt Mehrgenerationenhaus Am Wellersberg: Rückruf"
    sms, = rows(app, SmsMessage, SmsMessage.task_id == task.id)
    assert sms.to_number == "+493023125401"  # the project's contact
    assert f"Hausruf #{task.number}: Anfrage für Mehrgenerationenhaus Am Wellersberg" in sms.body
    assert "Tel. 01512 3456789" in sms.body and "needs step_free; budget 600" in sms.body
    seeker, = rows(app, HousingSeeker)
    assert seeker.share_consent is True


def test_no_consent_to_share_books_no_task(app):
    call = line(app, HOUSING).call(MOBILE)
    answer_questions(call)
    call.press("3")
    call.press("2")
    assert "In Ordnung, wir geben nichts weiter." in call.heard_text
    assert rows(app, CallbackTask) == [] and rows(app, SmsMessage) == []


def test_a_mapped_flow_that_does_not_exist_stops_the_start():
    from click.testing import CliRunner

    from ivr.cli import main

    env = {"HAUSRUF_NUMBERS": "+4927150000001=hotline, 0271 50000003=wohnung"}
    result = CliRunner().invoke(main, ["config"], env=env)
    assert result.exit_code == 2
    assert ("HAUSRUF_NUMBERS='+4927150000001=hotline, +4927150000003=wohnung': +4927150000003 should be answered "
            "by flow 'wohnung', which does not exist; allowed: hotline, wohnen") in result.output


def test_a_project_task_nobody_closes_expires_to_staff_like_every_task(app):
    from datetime import timedelta

    from ivr.tasks.config import TaskConfig
    from ivr.tasks.escalation import run_due_steps

    call = line(app, HOUSING).call(MOBILE)
    answer_questions(call)
    call.press("3")
    call.press("1")
    with app.app_context():
        session = get_session()
        config = TaskConfig.from_env("+4927150100000", "Europe/Berlin")
        assert run_due_steps(session, WEDNESDAY_10 + timedelta(hours=1), config) == 0  # the contact has time
        assert run_due_steps(session, WEDNESDAY_10 + timedelta(hours=49), config) == 1
    task, = rows(app, CallbackTask)
    assert task.state == "expired"
    to_staff = rows(app, SmsMessage, SmsMessage.to_number == "+4927150100000")
    assert [m.body for m in to_staff] == [f"Hausruf #{task.number} abgelaufen, niemand hat übernommen: Anrufer, "
                                          "Tel. 01512 3456789."]
