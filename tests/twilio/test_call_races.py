"""Webhooks of one call that race: the first stored step wins, the other is decided again and repeats it."""

from __future__ import annotations

import threading

from sqlalchemy import select

from ivr.db import get_session
from ivr.db.models import Call, CallbackTask, CallEvent
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL
from ivr.wiring import hausruf


def _meanwhile(post) -> object:
    """Run post() in another thread, as another server thread would, and wait for its reply."""
    replies = []
    worker = threading.Thread(target=lambda: replies.append(post()))
    worker.start()
    worker.join()
    return replies[0]


def _events(app, call_sid: str) -> list[tuple[str, str]]:
    with app.app_context():
        session = get_session()
        call = session.scalar(select(Call).where(Call.provider_call_id == call_sid))
        events = session.scalars(select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id))
        return [(e.kind, e.detail) for e in events]


def test_a_word_stored_while_a_key_was_decided_wins_and_the_key_is_decided_again(app, twilio):
    call = twilio.call(ERIKA)
    step = call._only("Gather").get("action").split("step=")[1]
    other_worker = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN)
    build_context = hausruf(app).build_context
    spoken = []

    def context_while_the_word_arrives(open_session, number, now, settings):
        # The key press has read the call and is deciding; meanwhile "Technik" is stored.
        if not spoken:
            spoken.append(None)  # the word's own webhook builds a context too: only once
            spoken[0] = _meanwhile(lambda: other_worker.post(f"/twilio/voice/speech?step={step}&phrase=technik",
                                                             call.form()))
        return build_context(open_session, number, now, settings)

    hausruf(app).build_context = context_while_the_word_arrives
    call.press("4")  # care menu, had it won
    assert spoken[0].status == 200 and spoken[0].xml.find("Record") is not None
    assert call.twiml.find("Record") is not None  # the key repeats what the word led to: the IT message
    assert "Pflege." not in call.heard
    assert _events(app, call.sid) == [("start", ""), ("speech", "technik"), ("stale-digits", "4")]
    with app.app_context():
        tasks = get_session().scalars(select(CallbackTask)).all()
        assert [t.audience for t in tasks] == ["volunteers"]


def test_many_presses_of_one_step_at_once_advance_the_call_once(app, twilio):
    call = twilio.call(ERIKA)
    action = call._only("Gather").get("action")
    replies = []

    def press(key: str) -> None:
        worker = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN)
        replies.append(worker.post(action, call.form(Digits=key)))

    threads = [threading.Thread(target=press, args=(key,)) for key in "123456"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200] * 6
    kinds = [kind for kind, _ in _events(app, call.sid)]
    assert kinds.count("digits") == 1 and kinds.count("stale-digits") == 5
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        assert stored.version == 1 + 6  # the start and every press stored once, none lost


def test_a_hang_up_while_a_key_was_decided_is_not_overwritten(app, twilio):
    call = twilio.call(ERIKA)
    build_context = hausruf(app).build_context
    hung_up = []

    def context_while_the_caller_hangs_up(open_session, number, now, settings):
        if not hung_up:
            hung_up.append(None)
            other_worker = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN)
            hung_up[0] = _meanwhile(lambda: other_worker.post(
                "/twilio/status", call.form(CallStatus="completed", CallDuration="9")))
        return build_context(open_session, number, now, settings)

    hausruf(app).build_context = context_while_the_caller_hangs_up
    call.press("4")
    assert hung_up[0].status == 204
    with app.app_context():
        stored = get_session().scalar(select(Call).where(Call.provider_call_id == call.sid))
        assert stored.status == "ended" and stored.duration_seconds == 9
        assert "hung up at main_menu" in stored.outcome
