"""Pure translation between Twilio and the engine: webhook form -> event, actions -> TwiML.

No I/O here: REST calls live in client.py, database work in ivr.calls (STYLE.md item 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urlencode

from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.actions import Action, Ask, Dial, Hangup, Record, Say
from ivr.engine.events import DIAL_OUTCOMES, DialFinished, DigitsPressed, Event, NoInput, RecordingFinished

# Twilio's <Say> wants a locale; flows name a language.
SAY_LOCALES = {"de": "de-DE", "en": "en-GB", "tr": "tr-TR", "ko": "ko-KR", "fr": "fr-FR", "it": "it-IT",
               "pl": "pl-PL", "ru": "ru-RU", "uk": "uk-UA", "ar": "ar-AE"}
# DialCallStatus values (https://www.twilio.com/docs/voice/twiml/dial#dialcallstatus) map to ours.
DIAL_STATUS = {"completed": "completed", "answered": "answered", "busy": "busy", "no-answer": "no-answer",
               "failed": "failed", "canceled": "canceled"}
PAUSE_SECONDS = 1

PromptUrl = Callable[[str, str], "str | None"]


@dataclass(frozen=True)
class MediaStream:
    """Fork the caller's audio to our WebSocket while a menu listens (speech is an addition to keys)."""

    url: str  # wss://.../twilio/stream
    name: str
    parameters: tuple[tuple[str, str], ...]


def digits_event(form: Mapping[str, str]) -> Event:
    """A Gather action: Digits present -> keys; absent or empty -> nothing was pressed."""
    digits = "".join(ch for ch in (form.get("Digits") or "") if ch in "0123456789*#")
    return DigitsPressed(digits) if digits else NoInput()


def dial_event(form: Mapping[str, str]) -> Event:
    """A Dial action: DialCallStatus and DialCallDuration; unknown or missing status counts as failed."""
    status = DIAL_STATUS.get((form.get("DialCallStatus") or "").strip().lower(), "failed")
    assert status in DIAL_OUTCOMES
    return DialFinished(outcome=status, seconds=_int(form.get("DialCallDuration")))


def recording_event(form: Mapping[str, str]) -> Event:
    """A Record action: the recording's SID is our reference; zero length means nothing was said."""
    reference = (form.get("RecordingSid") or "").strip() or None
    seconds = _int(form.get("RecordingDuration"))
    return RecordingFinished(reference=reference if seconds > 0 else None, seconds=seconds)


def _int(value: str | None) -> int:
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return 0


def action_url(kind: str, step: int, **params: str) -> str:
    """Where Twilio posts the outcome of a verb; the step makes late or doubled posts detectable."""
    query = urlencode({"step": step, **params})
    return f"/twilio/voice/{kind}?{query}"


def render(actions: list[Action], step: int, prompt_url: PromptUrl, caller_id: str | None = None,
           stream: MediaStream | None = None, stop_stream: str | None = None) -> str:
    """TwiML for the actions of one engine step. Always ends in a verb that waits or hangs up."""
    response = VoiceResponse()
    if stop_stream:
        response.stop().stream(name=stop_stream)
    waits = False
    for action in actions:
        if isinstance(action, Say):
            _speak(response, action.segments, action.language, prompt_url)
        elif isinstance(action, Ask):
            if stream:
                start = response.start()
                stream_verb = start.stream(name=stream.name, url=stream.url, track="inbound_track")
                for name, value in stream.parameters:
                    stream_verb.parameter(name=name, value=value)
            gather = response.gather(input="dtmf", num_digits=1, timeout=action.timeout_seconds,
                                     action=action_url("gather", step), action_on_empty_result=False)
            _speak(gather, action.segments, action.language, prompt_url)
            # Reached only when the caller pressed nothing before the timeout.
            response.redirect(action_url("noinput", step))
            waits = True
        elif isinstance(action, Dial):
            dial = response.dial(action=action_url("dial", step), timeout=action.timeout_seconds,
                                 caller_id=caller_id, answer_on_bridge=True)
            whisper = "/twilio/voice/whisper?" + urlencode({"text": action.whisper, "lang": action.language})
            for number in action.numbers:
                dial.number(number, url=whisper if action.whisper else None)
            waits = True
        elif isinstance(action, Record):
            response.record(action=action_url("record", step), max_length=action.max_seconds, timeout=5,
                            play_beep=True, finish_on_key="#",
                            recording_status_callback="/twilio/voice/recording-status")
            # Twilio skips the action URL when nothing was recorded; continue there anyway.
            response.redirect(action_url("record", step, empty="1"))
            waits = True
        elif isinstance(action, Hangup):
            response.hangup()
            waits = True
    if not waits:
        response.hangup()  # never leave the caller in silence after the last prompt
    return str(response)


def _speak(parent, segments: tuple[str, ...], language: str, prompt_url: PromptUrl) -> None:
    for index, text in enumerate(segments):
        if index:
            parent.pause(length=PAUSE_SECONDS)
        url = prompt_url(text, language)
        if url:
            parent.play(url)
        else:
            parent.say(text, language=SAY_LOCALES.get(language, language))


def whisper_twiml(text: str, language: str) -> str:
    """What the partner hears before being connected."""
    response = VoiceResponse()
    if text:
        response.say(text, language=SAY_LOCALES.get(language, language))
    return str(response)


def fallback_twiml(language: str, staff_number: str | None, caller_id: str | None) -> str:
    """TwiML for when anything failed: apologise and reach a person, or promise a callback."""
    texts = FALLBACK_TEXTS.get(language, FALLBACK_TEXTS["de"])
    locale = SAY_LOCALES.get(language, "de-DE")
    response = VoiceResponse()
    if staff_number:
        response.say(texts["connect"], language=locale)
        dial = response.dial(caller_id=caller_id, timeout=40)
        dial.number(staff_number)
        response.say(texts["later"], language=locale)
    else:
        response.say(texts["callback"], language=locale)
    response.hangup()
    return str(response)


FALLBACK_TEXTS = {
    "de": {
        "connect": "Entschuldigung, hier gibt es gerade eine technische Störung. Ich verbinde Sie mit der Genossenschaft.",
        "callback": "Entschuldigung, hier gibt es gerade eine technische Störung. Wir haben Ihre Nummer und rufen Sie zurück.",
        "later": "Leider hat niemand abgenommen. Wir haben Ihre Nummer und rufen Sie zurück.",
    },
    "en": {
        "connect": "Sorry, we have a technical problem. I am connecting you to the cooperative.",
        "callback": "Sorry, we have a technical problem. We have your number and will call you back.",
        "later": "Sorry, nobody answered. We have your number and will call you back.",
    },
}
