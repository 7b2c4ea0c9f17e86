"""Residents by phone, "Nachricht an die Nachbarn": the house_message node, its checks, and a real Twilio call.

The engine and the checker are pure and fast. The call goes through the signed Twilio webhooks of a
real app; the worker's job fetches the recording from the local Twilio stand-in over real HTTP and
transcribes real espeak-ng audio with the real Korean Vosk model (so the flow here is Korean). Posting
to a real Synapse is in test_neighbours_room.py.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ivr.engine import CallContext, CallStarted, Caller, CallState, DigitsPressed, NoInput, RecordingFinished, advance
from ivr.engine.actions import Ask, DiscardHouseMessage, DraftHouseMessage, Outcome, Poll, Record, Say, SendHouseMessage
from ivr.engine.events import MessageTranscribed, Resume
from ivr.engine.runner import POLL_SECONDS, POLL_SLACK_SECONDS
from ivr.flows.housechat import check_house_chat
from ivr.flows.loader import parse_flow_text

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
COLLINS = "+493023125303"  # Mrs Collins, Lindenhof: opted in to the house chat (data/demo)
RECORDING = "RE" + "7" * 32

FLOW = """\
version: 1
name: hotline
language: de
start: msg
globals:
  person: {key: "0", keywords: [mensch], goto: person}
  emergency: {key: "9", keywords: [notfall], say: "Notfall: die 9.", advice: "Wählen Sie 112.", goto: person}
nodes:
  msg:
    kind: house_message
    prompt: "Sprechen Sie nach dem Ton."
    wait: "Einen Moment bitte."
    heard: "Ich habe verstanden:"
    confirm: "Senden: die 1. Neu: die 2. Abbrechen: die 3."
    not_understood: "Nicht verstanden. Neu: die 2. Abbrechen: die 3."
    sent: "Gesendet."
    cancelled: "Gelöscht."
    no_chat: "Kein Hauschat."
    next: bye
    cancel: menu
  menu:
    kind: menu
    prompt: "Noch eine: die 1."
    options: [{key: "1", label: Noch eine, keywords: [nachricht], goto: msg}]
    no_input: {then: bye}
    no_match: {then: bye}
  person: {kind: connect, target: staff, fallback: bye}
  bye: {kind: hangup, prompt: "Auf Wiederhören."}
"""


def flow(text: str = FLOW):
    loaded, problems = parse_flow_text(text, "flows/haus.yaml")
    assert [str(p) for p in problems] == []
    return loaded


def context(house_chat=True):
    return CallContext(now=NOW, caller=Caller(number="+4930555999", known=True, salutation="Frau Becker",
                                              house_id="lindenhof", house_chat=house_chat))


def spoken(actions):
    return [segment for a in actions if isinstance(a, (Say, Ask)) for segment in a.segments]


def recorded(seconds=4):
    """A call that has just recorded a message; its state and the actions of that step."""
    state, actions = advance(flow(), CallState(), CallStarted(), context())
    assert spoken(actions) == ["Sprechen Sie nach dem Ton."] and isinstance(actions[-1], Record)
    return advance(flow(), state, RecordingFinished(RECORDING, seconds), context())


# -- the engine ---------------------------------------------------------------------------------------

def test_a_recording_becomes_a_draft_the_call_waits_for_then_hears_read_back_and_sends_with_1():
    state, actions = recorded()
    assert actions == [DraftHouseMessage("msg", RECORDING, "de"), Say(("Einen Moment bitte.",), "de"),
                       Poll("msg", POLL_SECONDS)]
    assert state.waiting == "transcribing" and state.draft == RECORDING
    state, actions = advance(flow(), state, MessageTranscribed(RECORDING, None), context())  # not ready yet
    assert actions == [Poll("msg", POLL_SECONDS)]
    state, actions = advance(flow(), state, MessageTranscribed(RECORDING, "Wer hat {{ Mehl }}?"), context())
    assert spoken(actions) == ["Ich habe verstanden:", "Wer hat {{ Mehl }}?",  # her words, never a template
                               "Senden: die 1. Neu: die 2. Abbrechen: die 3.", "Notfall: die 9."]
    assert actions[-1].keys == ("1", "2", "3", "0", "9", "*")
    state, actions = advance(flow(), state, DigitsPressed("1"), context())
    assert SendHouseMessage("msg", RECORDING) in actions and Outcome("house_message_sent") in actions
    assert spoken(actions) == ["Gesendet.", "Auf Wiederhören."] and state.finished and state.draft is None


def test_2_records_again_3_and_silence_discard_and_a_global_discards_too():
    state, _ = recorded()
    state, _ = advance(flow(), state, MessageTranscribed(RECORDING, "Hallo"), context())
    again, actions = advance(flow(), state, DigitsPressed("2"), context())
    assert DiscardHouseMessage("msg", RECORDING) in actions and isinstance(actions[-1], Record)
    assert again.waiting == "record" and again.draft is None

    _, actions = advance(flow(), state, DigitsPressed("3"), context())
    assert DiscardHouseMessage("msg", RECORDING) in actions and spoken(actions)[:2] == ["Gelöscht.", "Noch eine: die 1."]
    assert not any(isinstance(a, SendHouseMessage) for a in actions)

    _, actions = advance(flow(), state, DigitsPressed("0"), context())  # a person: the draft goes
    assert DiscardHouseMessage("msg", RECORDING) in actions and Outcome("house_message_cancelled", "person") in actions

    silent = state
    for _ in range(2):  # retries: the read-back is fetched again from the draft (the words are not in the state)
        silent, actions = advance(flow(), silent, NoInput(), context())
        assert actions == [Poll("msg", 0)]
        silent, actions = advance(flow(), silent, MessageTranscribed(RECORDING, "Hallo"), context())
        assert "Hallo" in spoken(actions)
    _, actions = advance(flow(), silent, NoInput(), context())
    assert Outcome("house_message_cancelled", "no answer") in actions and DiscardHouseMessage("msg", RECORDING) in actions


def test_the_wait_is_bounded_and_never_silent_and_a_failed_transcript_offers_2_and_3():
    state, _ = recorded(seconds=4)
    polls = -(-(4 + POLL_SLACK_SECONDS) // POLL_SECONDS)
    heard_wait = 0
    for _ in range(polls - 1):
        state, actions = advance(flow(), state, MessageTranscribed(RECORDING, None), context())
        assert isinstance(actions[-1], Poll)
        heard_wait += "Einen Moment bitte." in spoken(actions)
        state, actions = advance(flow(), state, Resume(), context())  # a doubled webhook counts nothing
        assert actions == [Poll("msg", POLL_SECONDS)]
    assert heard_wait >= 1  # said again now and then while it waits
    state, actions = advance(flow(), state, MessageTranscribed(RECORDING, None), context())
    assert Outcome("house_message_not_understood", "too late") in actions
    assert spoken(actions)[0] == "Nicht verstanden. Neu: die 2. Abbrechen: die 3."
    assert actions[-1].keys == ("2", "3", "0", "9", "*")
    state, actions = advance(flow(), state, DigitsPressed("1"), context())  # nothing to send
    assert not any(isinstance(a, SendHouseMessage) for a in actions)

    state, _ = recorded()
    state, actions = advance(flow(), state, MessageTranscribed(RECORDING, ""), context())
    assert Outcome("house_message_not_understood") in actions
    _, actions = advance(flow(), state, MessageTranscribed("RE-another", "Hallo"), context())  # not her draft
    assert not any(isinstance(a, Ask) and "Hallo" in a.segments for a in actions)


def test_nothing_recorded_and_no_house_chat_post_nothing():
    state, _ = advance(flow(), CallState(), CallStarted(), context())
    _, actions = advance(flow(), state, RecordingFinished(None, 0), context())
    assert Outcome("house_message_nothing_recorded") in actions and spoken(actions)[0] == "Noch eine: die 1."
    state, actions = advance(flow(), CallState(), CallStarted(), context(house_chat=False))
    assert spoken(actions) == ["Kein Hauschat.", "Auf Wiederhören."] and not any(isinstance(a, Record) for a in actions)


# -- hausruf check -----------------------------------------------------------------------------------

def test_check_reports_missing_prompts_and_a_global_on_the_read_back_keys_with_file_and_line(tmp_path, monkeypatch):
    _, problems = parse_flow_text(FLOW.replace('person: {key: "0"', 'person: {key: "3"'), "flows/haus.yaml")
    assert [str(p) for p in problems if p.severity == "error"] == [
        "flows/haus.yaml:9: node 'msg': the read-back answers to 1 (send), 2 (again), 3 (cancel) and * (repeat), "
        "but global 'person' uses key '3'; give 'person' another key"]
    _, problems = parse_flow_text(FLOW.replace('    confirm: "Senden: die 1. Neu: die 2. Abbrechen: die 3."\n', ""),
                                  "flows/haus.yaml")
    assert [str(p) for p in problems if p.severity == "error"] == [
        "flows/haus.yaml:9: node 'msg': missing required key 'confirm' (said after the transcript: must offer 1 "
        "(send), 2 (speak again) and 3 (cancel))"]
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "haus.yaml").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert check_house_chat(["flows"], matrix_enabled=False) == [
        "flows/haus.yaml:9: note: node 'msg': the house chat is not configured (HAUSRUF_MATRIX_HOMESERVER is not "
        "set), so messages confirmed here wait and reach no room (/healthz says so); connect the hotline to the "
        "cooperative's Matrix server (README, \"Helpers in the cooperative's Matrix chat\")"]


# -- a real call through the Twilio webhooks, the worker transcribing with the real Korean model ----------

KOREAN_FLOW = """\
version: 1
name: hotline
language: ko
start: msg
globals:
  person: {key: "0", keywords: [사람], goto: person}
  emergency: {key: "9", keywords: [응급], say: "응급은 구번.", advice: "일일이.", goto: person}
nodes:
  msg:
    kind: house_message
    prompt: "삐 소리 후에 말씀하세요."
    wait: "잠시만요."
    heard: "이렇게 들었습니다."
    confirm: "보내기 일번, 다시 이번, 취소 삼번."
    not_understood: "못 알아들었습니다. 다시 이번, 취소 삼번."
    sent: "보냈습니다."
    cancelled: "지웠습니다."
    no_chat: "채팅이 없습니다."
    next: bye
  person: {kind: connect, target: staff, fallback: bye}
  bye: {kind: hangup, prompt: "안녕히 계세요."}
"""


@pytest.fixture
def korean_app(tmp_path):
    from ivr.db import engine_of
    from ivr.wiring import hausruf
    from tests.speech.conftest import KOREAN_MODEL
    from tests.support.apps import migrated_app
    from tests.support.twilio_standin import TwilioStandIn
    from tests.tasks.conftest import ACCOUNT_SID, task_app_config
    from tests.twilio.conftest import AUTH_TOKEN, WEDNESDAY_10, load_demo_directory

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hotline.ko.yaml").write_text(KOREAN_FLOW, encoding="utf-8")
    standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    config = task_app_config(f"sqlite:///{tmp_path / 'hausruf.sqlite3'}", tmp_path, standin)
    config.update(flows_dir=flows, default_language="ko", vosk_models={"ko": str(KOREAN_MODEL)},
                  speech_enabled=False)
    app = migrated_app(config)
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    app.standin, app.now = standin, WEDNESDAY_10
    yield app
    standin.stop()
    engine_of(app).dispose()


def rows(app):
    from ivr.db import get_session
    from ivr.db.models import HouseMessage

    with app.app_context():
        session = get_session()
        found = [(r.status, r.transcript) for r in session.scalars(select(HouseMessage).order_by(HouseMessage.id))]
        session.rollback()
        return found


def test_a_call_records_waits_hears_its_words_in_our_own_voice_and_1_confirms_3_discards(korean_app, tmp_path):
    from ivr.app import worker_jobs
    from ivr.calls.recordings import local_path
    from ivr.db import get_session
    from ivr.db.models import SmsMessage
    from ivr.wiring import hausruf
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, HOTLINE, PUBLIC_URL

    wav = tmp_path / "message.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), "장보기 안내"], check=True, timeout=30)
    standin, settings = korean_app.standin, korean_app.config["HAUSRUF"]
    standin.recordings[RECORDING] = wav.read_bytes()
    twilio = CallSimulator(korean_app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)
    call = twilio.call(COLLINS)
    assert call.heard == ["삐 소리 후에 말씀하세요."] and call.twiml.find("Record") is not None
    call.record(recording_sid=RECORDING, seconds=3)
    assert call.heard == ["잠시만요."]
    redirect = call.twiml.find("Redirect").text
    assert redirect.startswith("/twilio/voice/transcribing?step=") and call.twiml.find("Pause").get("length") == "3"
    call.silence()  # the poll: the worker has not run yet, so the call waits on
    assert call.twiml.find("Redirect").text.startswith("/twilio/voice/transcribing") and rows(korean_app) == [
        ("recorded", None)]

    jobs = worker_jobs(settings)
    assert jobs.house_messages(now=korean_app.now) == 1
    [(status, transcript)] = rows(korean_app)
    assert status == "ready" and transcript  # the full-vocabulary words (accuracy: docs/performance.md)
    assert standin.deleted_recordings == [RECORDING]  # the voice stays on our server only
    call.silence()
    says = [el.text for el in call.twiml.iter("Say")]
    assert "이렇게 들었습니다." in says and transcript not in " ".join(says)  # her words: our own rendered audio
    assert any(el.text.startswith(PUBLIC_URL) for el in call.twiml.iter("Play"))
    assert call.twiml.find("Gather") is not None
    call.press("1")
    assert "보냈습니다." in call.heard and rows(korean_app) == [("confirmed", transcript)]
    assert jobs.house_messages(now=korean_app.now) == 0  # no Matrix here: it waits, confirmed, for the chat
    assert rows(korean_app) == [("confirmed", transcript)] and local_path(settings, RECORDING).exists()
    problems = korean_app.test_client().get("/healthz").get_json()["problems"]  # staff learn that it waits
    assert ("messages to the neighbours confirmed by tenants but not posted for 5 minutes: 1 (the house chat is "
            "not configured (HAUSRUF_MATRIX_HOMESERVER))") in problems

    # A second message, cancelled with 3: its words and recording are gone, nothing is sent anywhere.
    other = "RE" + "8" * 32
    standin.recordings[other] = wav.read_bytes()
    second = twilio.call(COLLINS)
    second.record(recording_sid=other, seconds=3)
    assert jobs.house_messages(now=korean_app.now) == 1
    second.silence()
    words = rows(korean_app)[1][1]
    read_back = hausruf(korean_app).prompt_renderer.path_for(words, "ko")
    assert read_back.exists()  # rendered by the worker, played from our cache
    second.press("3")
    assert "지웠습니다." in second.heard and not read_back.exists()  # her words' audio went with them
    assert rows(korean_app) == [("confirmed", transcript), ("discarded", None)]
    jobs.house_messages(now=korean_app.now)
    assert rows(korean_app) == [("confirmed", transcript)] and not local_path(settings, other).exists()
    with korean_app.app_context():
        session = get_session()
        assert session.scalar(select(func.count()).select_from(SmsMessage)) == 0
        session.rollback()


def test_a_hang_up_while_waiting_forgets_the_draft_and_bad_polls_are_answered_safely(korean_app, tmp_path):
    from ivr.app import worker_jobs
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, HOTLINE, PUBLIC_URL

    twilio = CallSimulator(korean_app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)
    assert twilio.post("/twilio/voice/transcribing?step=2", {"CallSid": "CA" + "1" * 32}, signed=False).status == 403
    no_call = twilio.post("/twilio/voice/transcribing?step=x", {"From": COLLINS})  # signed, but no CallSid
    assert no_call.status == 200 and no_call.xml.find("Dial") is not None  # the apology, then a person

    korean_app.standin.recordings[RECORDING] = b"RIFF-not-audio"
    call = twilio.call(COLLINS)
    call.record(recording_sid=RECORDING, seconds=3)
    stale = call.follow(twilio.post("/twilio/voice/transcribing?step=1", call.form()))  # an old step: repeat
    assert stale.xml.find("Redirect").text.startswith("/twilio/voice/transcribing")
    call.hang_up()
    jobs = worker_jobs(korean_app.config["HAUSRUF"])
    jobs.house_messages(now=korean_app.now)  # the call ended: not transcribed, forgotten, gone at Twilio too
    assert rows(korean_app) == [] and korean_app.standin.deleted_recordings == [RECORDING]


def test_a_sip_call_polls_through_its_steps_and_hears_the_read_back(korean_app, tmp_path):
    """The SIP line's steps (no pjsua2 here: the plans the SIP thread plays), with a recording on our server."""
    import shutil

    from ivr.app import worker_jobs
    from ivr.calls.recordings import local_path
    from ivr.engine import DigitsPressed
    from ivr.telephony.sip.steps import MENU, POLL, RECORD, CallSteps

    settings = korean_app.config["HAUSRUF"]
    steps = CallSteps(korean_app, clock=lambda: korean_app.now)
    plan = steps.start("sip-call-1", COLLINS)
    assert plan.wait == RECORD and plan.record_seconds == 30
    wav = local_path(settings, "sip-message")
    wav.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), "장보기 안내"], check=True, timeout=30)
    plan = steps.event("sip-call-1", RecordingFinished("sip-message", 3), plan.step, "recording")
    assert plan.wait == POLL and plan.poll_seconds == 3 and plan.files  # "잠시만요." first: never silence
    plan = steps.poll("sip-call-1", plan.step)
    assert plan.wait == POLL
    assert worker_jobs(settings).house_messages(now=korean_app.now) == 1
    plan = steps.poll("sip-call-1", plan.step)
    assert plan.wait == MENU and plan.ask.keys[:3] == ("1", "2", "3") and len(plan.ask.segments) >= 3
    plan = steps.event("sip-call-1", DigitsPressed("1"), plan.step, "digits")
    assert [status for status, _ in rows(korean_app)] == ["confirmed"]
    shutil.rmtree(settings.recordings_dir, ignore_errors=True)
