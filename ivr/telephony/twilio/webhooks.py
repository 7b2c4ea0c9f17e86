"""Twilio voice webhooks: signed requests in, one engine step, TwiML out; never a 500, never dead air."""

from __future__ import annotations

import functools
import logging
from typing import Callable, Mapping

from flask import Blueprint, Response, current_app, request

from ivr.calls.spool import spool_missed_call
from ivr.engine.events import Event, NoInput, RecordingFinished, WordsSpoken
from ivr.metrics import count_call, count_fallback
from ivr.telephony.ports import CallService, StepResult
from ivr.telephony.twilio import translate
from ivr.telephony.twilio.signature import twilio_signed
from ivr.telephony.twilio.voice import PROVIDER, TwilioVoice
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.twilio")
bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio")

TWIML = "text/xml"


def _twiml(body: str) -> Response:
    return Response(body, status=200, mimetype=TWIML)


def never_dead_air(view):
    """Any failure answering a voice webhook still gives the caller a person (or a promised callback)."""

    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the caller must never hear silence, whatever broke
            log.exception("voice webhook %s failed; falling back to staff", request.path)
            count_fallback("error")
            settings = current_app.config["HAUSRUF"]
            _remember_caller(settings, str(exc))
            return _twiml(translate.fallback_twiml(settings.default_language, settings.staff_number,
                                                   settings.phone_number))

    return guarded


def _remember_caller(settings, reason: str) -> None:
    """Keep the caller's number even when the database is the thing that failed."""
    caller = request.form.get("From", "")
    if not caller or not request.form.get("CallSid"):  # junk, withheld, or not a call: nobody to call back
        return
    try:
        spool_missed_call(settings.data_dir, PROVIDER, request.form.get("CallSid", ""), caller, reason)
    except OSError:
        log.exception("could not spool the missed call either")


def _step_param(query: Mapping[str, str]) -> int | None:
    try:
        return int(query.get("step", ""))
    except ValueError:
        return None


def _answer(run: Callable[[CallService, str], StepResult]) -> Response:
    """run(calls, call_sid) for the call this webhook is about, then TwiML for the stored step.

    The CallService answers within the database deadline or raises; never_dead_air turns that into
    the staff fallback. Twilio must never act on a state we failed to store.
    """
    wiring = hausruf(current_app)
    call_sid = request.form.get("CallSid") or _missing("CallSid")
    result = run(wiring.calls(PROVIDER), call_sid)
    return _twiml(wiring.telephony.render(call_sid, result))


def _step(event: Event, kind: str, detail: str) -> Response:
    """One engine step of the call with event; a post for an older step only repeats what the call waits on."""
    expected = _step_param(request.args)
    return _answer(lambda calls, call_sid: calls.deliver(call_sid, event, expected, kind, detail))


@bp.post("/voice")
@twilio_signed
@never_dead_air
def incoming_call():
    """A new call to the hotline."""
    caller, called = request.form.get("From"), request.form.get("To")
    return _answer(lambda calls, call_sid: calls.start(call_sid, caller, called))


@bp.post("/voice/gather")
@twilio_signed
@never_dead_air
def gathered():
    """Keys pressed in a menu (or an empty Gather result)."""
    event = translate.digits_event(request.form)
    detail = getattr(event, "digits", "")
    return _step(event, "digits" if detail else "no_input", detail)


@bp.post("/voice/noinput")
@twilio_signed
@never_dead_air
def no_input():
    """The menu's Gather timed out without a key."""
    return _step(NoInput(), "no_input", "")


@bp.post("/voice/speech")
@twilio_signed
@never_dead_air
def spoken():
    """The call was redirected here by the speech recogniser (REST update) with the phrase heard."""
    phrase = request.args.get("phrase", "")
    return _step(WordsSpoken(phrase), "speech", phrase)


@bp.post("/voice/dial")
@twilio_signed
@never_dead_air
def dialled():
    """A connect attempt ended."""
    event = translate.dial_event(request.form)
    return _step(event, "dial", event.outcome)


@bp.post("/voice/record")
@twilio_signed
@never_dead_air
def recorded():
    """A message was recorded (or nothing was, with empty=1)."""
    event = RecordingFinished(None, 0) if request.args.get("empty") else translate.recording_event(request.form)
    return _step(event, "recording", event.reference or "")


@bp.post("/voice/transcribing")
@twilio_signed
@never_dead_air
def transcribing():
    """The call waits for its message to the neighbours to be transcribed (a poll): how far it is, as one step."""
    from ivr.db.engine import read_only
    from ivr.tasks.housemessages import draft_event

    call_sid = request.form.get("CallSid") or _missing("CallSid")
    event = hausruf(current_app).database.run(lambda session: draft_event(read_only(session), PROVIDER, call_sid))
    return _step(event, "transcript", "waiting" if event.text is None else "ready")


@bp.post("/voice/whisper")
@twilio_signed
@never_dead_air
def whisper():
    """What the partner hears before the caller is put through; a personal whisper is audio named by a key."""
    if "audio" in request.args:
        urls = hausruf(current_app).prompt_url
        audio = request.args.get("audio", "")
        ok = urls is not None and urls.whisper_key_ok(audio, request.args.get("key", ""))
        url = urls.whisper_audio(audio) if ok else None
        return _twiml(translate.whisper_play_twiml(url, request.args.get("lang", "de")))
    # Whispers that name nobody (and calls dialled before an upgrade) carry their text.
    return _twiml(translate.whisper_twiml(request.args.get("text", ""), request.args.get("lang", "de")))


@bp.post("/voice/recording-status")
@twilio_signed
def recording_status():
    """Twilio says a recording is ready: the worker fetches and transcribes it."""
    ready = hausruf(current_app).recording_ready
    if ready and request.form.get("RecordingStatus", "completed") == "completed":
        ready(request.form.get("RecordingSid", ""), request.form.get("RecordingUrl") or None)
    return Response(status=204)


@bp.post("/voice/<path:anything>")
@twilio_signed
@never_dead_air
def unknown_voice(anything: str):
    """A voice URL we never issued: keep the call where it is."""
    log.warning("unknown voice webhook /twilio/voice/%s: repeating the current step", anything)
    from ivr.engine import Resume

    return _answer(lambda calls, call_sid: calls.deliver(call_sid, Resume(), None, "unknown", anything[:100]))


@bp.post("/status")
@twilio_signed
def status_callback():
    """The call ended; close its record. A status callback never needs TwiML."""
    form = request.form
    duration = translate.whole_seconds(form.get("CallDuration"))
    try:
        outcome = hausruf(current_app).calls(PROVIDER).end(form.get("CallSid", ""),
                                                           translate.call_status(form.get("CallStatus")), duration)
        if outcome is not None:
            count_call(outcome)
    except Exception:  # noqa: BLE001 - Twilio retries nothing useful from a 500 here; log and move on
        log.exception("status callback failed")
    return Response(status=204)


def _missing(field: str):
    raise ValueError(f"webhook without {field}")


class _CurrentPromptUrls:
    """The app's prompt URLs as they are at each render (tests swap them), with their optional extras."""

    def __init__(self, wiring):
        self.wiring = wiring

    def __call__(self, text: str, language: str):
        return self.wiring.prompt_url(text, language)

    def __getattr__(self, name: str):  # sayable, whisper_url (ivr.web.prompts.PromptUrls), when present
        return getattr(self.wiring.prompt_url, name)


def init_app(app) -> TwilioVoice:
    """The Twilio voice adapter, rendering with the app's prompts and speech streams (set up before)."""
    wiring = hausruf(app)
    return TwilioVoice(wiring.settings, prompt_url=_CurrentPromptUrls(wiring), speech_streams=wiring.speech_streams)
