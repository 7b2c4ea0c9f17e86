"""Voice webhooks through the real app and a real database (SQLite and PostgreSQL), signed like Twilio."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from ivr.db import get_session
from ivr.db.models import Call, CallEvent
from tests.twilio.conftest import ERIKA, PUBLIC_URL, STAFF
from ivr.wiring import hausruf


def test_unsigned_call_is_refused(twilio):
    reply = twilio.post("/twilio/voice", {"CallSid": "CA1", "From": ERIKA}, signed=False)
    assert reply.status == 403


def test_wrongly_signed_call_is_refused(twilio):
    reply = twilio.post("/twilio/voice", {"CallSid": "CA1", "From": ERIKA}, signature="bm90IGEgc2lnbmF0dXJl")
    assert reply.status == 403


def test_signature_for_another_url_is_refused(twilio):
    form = {"CallSid": "CA1", "From": ERIKA}
    signature = twilio.signature("http://127.0.0.1:5000/twilio/voice", form)  # what request.url would say
    assert twilio.post("/twilio/voice", form, signature=signature).status == 403


def test_signature_over_the_url_with_its_default_port_is_accepted(twilio):
    form = {"CallSid": "CA1", "From": ERIKA}
    signature = twilio.signature("https://hotline.example.org:443/twilio/voice", form)  # Twilio signs either way
    assert twilio.post("/twilio/voice", form, signature=signature).status == 200


def test_a_signature_with_non_ascii_characters_is_refused_not_an_error(twilio):
    assert twilio.post("/twilio/voice", {"CallSid": "CA1", "From": ERIKA}, signature="sïgnatür").status == 403


def test_signed_call_greets_known_tenant_with_the_main_menu(twilio):
    call = twilio.call(ERIKA)
    # The name is never said by the provider: rendered locally when rendering is on (tests/privacy).
    assert call.heard[0] == "Guten Tag. Hier ist das Haustelefon Ihrer Genossenschaft."
    gather = call._only("Gather")
    assert gather.get("input") == "dtmf" and gather.get("numDigits") == "1" and gather.get("timeout") == "12"
    assert "Einkauf: die 1." in call.heard
    assert call._only("Redirect").text.startswith("/twilio/voice/noinput?step=")
    assert call._only("Say").get("language") == "de-DE"


def test_english_tenant_gets_the_english_flow(twilio):
    call = twilio.call("+49 30 23125303")
    assert call.heard[0].startswith("Hello. This is your cooperative's house phone.")
    assert call._only("Say").get("language") == "en-GB"


@pytest.mark.parametrize("form", [
    {},
    {"From": ERIKA},
    {"CallSid": "", "From": ""},
    {"CallSid": "CA" + "f" * 32, "From": "not a number"},
    {"CallSid": "x" * 5000, "From": "+" + "9" * 40},
    {"CallSid": "CA" + "e" * 32, "From": ERIKA, "Digits": "\x00\x01<script>"},
])
def test_junk_or_missing_fields_still_get_valid_twiml(twilio, form):
    reply = twilio.post("/twilio/voice", form)
    assert reply.status == 200
    assert reply.xml.tag == "Response"
    assert reply.xml.find(".//Say") is not None


def test_a_failure_without_a_caller_number_spools_nothing_to_call_back(twilio, app):
    reply = twilio.post("/twilio/voice", {"From": ""})  # no CallSid: the webhook fails, the caller hears staff
    assert reply.status == 200 and reply.xml.find(".//Number").text == "+4927150100000"
    assert not (app.config["HAUSRUF"].data_dir / "spool" / "missed-calls.jsonl").exists()


@pytest.mark.parametrize("path", ["/twilio/voice/gather?step=abc", "/twilio/voice/dial", "/twilio/voice/record",
                                  "/twilio/voice/nonsense/deeper", "/twilio/voice/noinput?step=-1"])
def test_junk_on_follow_up_webhooks_gets_valid_twiml(twilio, path):
    reply = twilio.post(path, {"CallSid": "CA" + "d" * 32, "Digits": "zz", "DialCallStatus": "weird"})
    assert reply.status == 200 and reply.xml.tag == "Response"


def test_key_1_dials_the_partner_with_whisper_and_completes(twilio, app):
    call = twilio.call(ERIKA)
    call.press("1")
    dial = call._only("Dial")
    number = call._only("Number")
    assert number.text.startswith("+49")
    assert dial.get("callerId") == "+4927150199999"
    assert "Frischekorb" in call.heard_text
    call.dial_ends("completed", duration=95)
    # It names the caller, so only local audio may speak it; rendering is off here: a general line.
    assert call.whispers[0] == "Ein Anruf über das Haustelefon der Genossenschaft."
    assert call.twiml.find("Hangup") is not None
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        assert "connected groceries" in stored.outcome


def test_busy_partner_offers_a_callback_instead_of_dropping(twilio):
    call = twilio.call(ERIKA)
    call.press("1")
    call.dial_ends("busy", duration=0)
    assert "Dort hat leider niemand abgenommen." in call.heard
    assert call._only("Gather") is not None


def test_silence_then_repeat_then_person(twilio):
    call = twilio.call(ERIKA)
    call.silence()
    assert call.heard[0] == "Ich habe nichts gehört."
    call.silence()
    call.silence()
    assert call._only("Number").text == STAFF


def test_a_late_duplicate_post_does_not_advance_twice(twilio, app):
    call = twilio.call(ERIKA)
    gather_action = call._only("Gather").get("action")
    call.press("4")  # care menu
    assert "Pflege." in call.heard
    # The same Gather action arrives again (a retry, or a key racing a spoken word).
    call.follow(twilio.post(gather_action, call.form(Digits="2")))
    assert "Pflege." in call.heard  # still the care menu, not the meal service
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        assert stored.state["node"] == "care_menu"


def test_state_lives_in_the_database_so_a_new_app_continues_the_call(app, database_url, tmp_path):
    from tests.support.apps import migrated_app
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, app_config

    first = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN)
    call = first.call(ERIKA)
    call.press("4")
    restarted = migrated_app(app_config(database_url, tmp_path))
    hausruf(restarted).clock = hausruf(app).clock
    call.sim = CallSimulator(restarted.test_client(), PUBLIC_URL, AUTH_TOKEN)
    call.press("1")
    assert call.heard == ["Ich verbinde Sie mit dem Pflegedienst Lebensbaum. Bitte bleiben Sie am Apparat."]


def test_status_callback_closes_the_call_with_its_duration(twilio, app):
    call = twilio.call(ERIKA)
    assert call.hang_up(duration=42).status == 204
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        assert (stored.status, stored.duration_seconds) == ("ended", 42)
        assert "hung up at main_menu" in stored.outcome
        kinds = get_session().scalars(select(CallEvent.kind).where(CallEvent.call_id == stored.id)).all()
        assert kinds == ["start", "status"]


def test_audit_trail_records_each_step(twilio, app):
    call = twilio.call(ERIKA)
    call.press("7")
    call.press("*")
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        events = get_session().scalars(select(CallEvent).where(CallEvent.call_id == stored.id)
                                       .order_by(CallEvent.id)).all()
        assert [(e.kind, e.node, e.detail) for e in events] == [
            ("start", "main_menu", ""), ("digits", "main_menu", "7"), ("digits", "main_menu", "*")]


def test_whisper_url_speaks_the_text(twilio):
    reply = twilio.post("/twilio/voice/whisper?text=Anruf+vom+Haustelefon&lang=de", {"CallSid": "CA9"})
    assert reply.status == 200
    assert reply.xml.find("Say").text == "Anruf vom Haustelefon"


def test_a_sip_caller_reaches_the_main_menu_and_is_known_by_the_number_in_the_address(twilio, app):
    call = twilio.call("sip:+493023125301@pbx.example.org")
    assert call.heard[0].startswith("Guten Tag. Hier ist")  # known (tenant_id below); the name only from local audio
    assert call._only("Gather") is not None
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        assert (stored.provider, stored.from_number) == ("twilio", "sip:+493023125301@pbx.example.org")
        assert stored.tenant_id is not None
