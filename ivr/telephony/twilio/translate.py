"""Pure translation between Twilio and the engine: webhook form -> event, actions -> TwiML.

No I/O here: REST calls live in client.py, database work in ivr.calls (STYLE.md item 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urlencode

from ivr.engine.actions import Action, Ask, Dial, Hangup, Poll, Record, Say
from ivr.engine.events import DIAL_OUTCOMES, DialFinished, DigitsPressed, Event, NoInput, RecordingFinished
from ivr.telephony.twilio import twiml

# Twilio's <Say> wants a locale; flows name a language.
SAY_LOCALES = {"de": "de-DE", "en": "en-GB", "tr": "tr-TR", "ko": "ko-KR", "fr": "fr-FR", "it": "it-IT",
               "pl": "pl-PL", "ru": "ru-RU", "uk": "uk-UA", "ar": "ar-AE"}
# DialCallStatus values (https://www.twilio.com/docs/voice/twiml/dial#dialcallstatus) map to ours.
DIAL_STATUS = {"completed": "completed", "answered": "answered", "busy": "busy", "no-answer": "no-answer",
               "failed": "failed", "canceled": "canceled"}
# CallStatus values (twilio.com/docs/voice/api/call-resource#call-status-values) -> ivr.db.models.CALL_STATUSES.
CALL_STATUS = {"queued": "active", "ringing": "active", "in-progress": "active", "completed": "ended",
               "busy": "unanswered", "no-answer": "unanswered", "canceled": "unanswered", "failed": "failed"}
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


def whole_seconds(value: str | None) -> int | None:
    """A duration field as Twilio sends it ("42"); None for anything else ("²", "-1", 2**63, "4.5")."""
    text = (value or "").strip()
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def _int(value: str | None) -> int:
    try:
        return max(0, int(str(value).strip()))
    except (TypeError, ValueError):
        return 0


def call_status(status: str | None) -> str:
    """Twilio's CallStatus of a status callback as the domain's word; a missing one means the call ended."""
    return CALL_STATUS.get((status or "completed").strip().lower(), "ended")


def action_url(kind: str, step: int, **params: str) -> str:
    """Where Twilio posts the outcome of a verb; the step makes late or doubled posts detectable."""
    url = f"/twilio/voice/{kind}?step={int(step)}"
    return f"{url}&{urlencode(params)}" if params else url


def render(actions: list[Action], step: int, prompt_url: PromptUrl, caller_id: str | None = None,
           stream: MediaStream | None = None, stop_stream: str | None = None) -> str:
    """TwiML for the actions of one engine step. Always ends in a verb that waits or hangs up."""
    verbs = []
    if stop_stream:
        verbs.append(twiml.verb("Stop", twiml.verb("Stream", name=stop_stream)))
    waits = False
    for action in actions:
        if isinstance(action, Say):
            verbs.append(_speak(action.segments, action.language, prompt_url))
        elif isinstance(action, Ask):
            if stream:
                parameters = "".join(twiml.verb("Parameter", name=name, value=value)
                                     for name, value in stream.parameters)
                verbs.append(twiml.verb("Start", twiml.verb("Stream", parameters, name=stream.name, url=stream.url,
                                                            track="inbound_track")))
            verbs.append(twiml.verb("Gather", _speak(action.segments, action.language, prompt_url),
                                    action=action_url("gather", step), action_on_empty_result=False, input="dtmf",
                                    # A number entry takes keys until `#`; a menu answers on the first key.
                                    num_digits=None if action.finish_on_key else 1,
                                    finish_on_key=action.finish_on_key, timeout=action.timeout_seconds))
            # Reached only when the caller pressed nothing before the timeout.
            verbs.append(twiml.verb("Redirect", twiml.text(action_url("noinput", step))))
            waits = True
        elif isinstance(action, Dial):
            whisper = _whisper_url(action.whisper, action.language, prompt_url) if action.whisper else None
            numbers = "".join(twiml.verb("Number", twiml.text(number), url=whisper if action.whisper else None)
                              for number in action.numbers)
            verbs.append(twiml.verb("Dial", numbers, action=action_url("dial", step), answer_on_bridge=True,
                                    caller_id=caller_id, timeout=action.timeout_seconds))
            waits = True
        elif isinstance(action, Record):
            verbs.append(twiml.verb("Record", action=action_url("record", step), finish_on_key="#",
                                    max_length=action.max_seconds, play_beep=True,
                                    recording_status_callback="/twilio/voice/recording-status", timeout=5))
            # Twilio skips the action URL when nothing was recorded; continue there anyway.
            verbs.append(twiml.verb("Redirect", twiml.text(action_url("record", step, empty="1"))))
            waits = True
        elif isinstance(action, Poll):
            # The call waits for its message's transcript: a pause after the prompt, then ask again.
            if action.seconds:
                verbs.append(twiml.verb("Pause", length=action.seconds))
            verbs.append(twiml.verb("Redirect", twiml.text(action_url("transcribing", step))))
            waits = True
        elif isinstance(action, Hangup):
            verbs.append(twiml.verb("Hangup"))
            waits = True
    if not waits:
        verbs.append(twiml.verb("Hangup"))  # never leave the caller in silence after the last prompt
    return twiml.document(*verbs)


def _speak(segments: tuple[str, ...], language: str, prompt_url: PromptUrl) -> str:
    # A segment without audio goes to the provider's <Say>: never with a name in it (ivr.privacy.personal).
    sayable = getattr(prompt_url, "sayable", None)
    spoken = []
    for index, text in enumerate(segments):
        url = prompt_url(text, language)
        if index:
            spoken.append(twiml.verb("Pause", length=PAUSE_SECONDS))
        if url:
            spoken.append(twiml.verb("Play", twiml.text(url)))
        else:
            spoken.append(_say(sayable(text, language) if sayable else text, language))
    return "".join(spoken)


def _whisper_url(text: str, language: str, prompt_url: PromptUrl) -> str:
    keyed = getattr(prompt_url, "whisper_url", None)
    if keyed is not None:
        return keyed(text, language)  # a key to locally rendered audio, not the text (ivr.web.prompts)
    return "/twilio/voice/whisper?" + urlencode({"text": text, "lang": language})


def _say(text: str, language: str) -> str:
    return twiml.verb("Say", twiml.text(text), language=SAY_LOCALES.get(language, language))


def whisper_twiml(text: str, language: str) -> str:
    """What the partner hears before being connected."""
    return twiml.document(_say(text, language) if text else "")


def whisper_play_twiml(url: str | None, language: str) -> str:
    """The whisper's locally rendered audio; without it a general line that names nobody."""
    if url:
        return twiml.document(twiml.verb("Play", twiml.text(url)))
    language = language if language in GENERAL_WHISPER else "de"
    return twiml.document(_say(GENERAL_WHISPER[language], language))


GENERAL_WHISPER = {"de": "Ein Anruf über das Haustelefon der Genossenschaft.",
                   "en": "A call from the cooperative's house phone."}


def fallback_twiml(language: str, staff_number: str | None, caller_id: str | None) -> str:
    """TwiML for when anything failed: apologise and reach a person, or promise a callback."""
    language = language if language in FALLBACK_TEXTS else "de"
    texts = FALLBACK_TEXTS[language]
    if staff_number:
        return twiml.document(_say(texts["connect"], language),
                              twiml.verb("Dial", twiml.verb("Number", twiml.text(staff_number)), caller_id=caller_id,
                                         timeout=40),
                              _say(texts["later"], language), twiml.verb("Hangup"))
    return twiml.document(_say(texts["callback"], language), twiml.verb("Hangup"))


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
