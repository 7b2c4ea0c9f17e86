"""Our string TwiML is the document the twilio library's VoiceResponse builds for the same answer."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from twilio.twiml.voice_response import VoiceResponse

from ivr.engine.actions import Ask, Dial, Hangup, Record, Say
from ivr.telephony.twilio import translate
from ivr.telephony.twilio.translate import MediaStream, action_url

TRICKY = 'Grüß Gott, "Frau" O\'Brien & Söhne <Haus 3>\n'
STREAM = MediaStream("wss://hotline.example.org/twilio/stream", "hausruf-menu",
                     (("call", "CA1"), ("phrases", "einkauf|essen & <mehr>")))


def _library_render(actions, step, prompt_url, caller_id=None, stream=None, stop_stream=None) -> str:
    """The same answer built with the twilio library, verb by verb."""
    response = VoiceResponse()
    if stop_stream:
        response.stop().stream(name=stop_stream)

    def speak(parent, segments, language):
        for index, text in enumerate(segments):
            if index:
                parent.pause(length=1)
            url = prompt_url(text, language)
            if url:
                parent.play(url)
            else:
                parent.say(text, language=translate.SAY_LOCALES.get(language, language))

    for action in actions:
        if isinstance(action, Say):
            speak(response, action.segments, action.language)
        elif isinstance(action, Ask):
            if stream:
                verb = response.start().stream(name=stream.name, url=stream.url, track="inbound_track")
                for name, value in stream.parameters:
                    verb.parameter(name=name, value=value)
            gather = response.gather(input="dtmf", num_digits=1, timeout=action.timeout_seconds,
                                     action=action_url("gather", step), action_on_empty_result=False)
            speak(gather, action.segments, action.language)
            response.redirect(action_url("noinput", step))
        elif isinstance(action, Dial):
            dial = response.dial(action=action_url("dial", step), timeout=action.timeout_seconds,
                                 caller_id=caller_id, answer_on_bridge=True)
            whisper = "/twilio/voice/whisper?" + urlencode({"text": action.whisper, "lang": action.language})
            for number in action.numbers:
                dial.number(number, url=whisper if action.whisper else None)
        elif isinstance(action, Record):
            response.record(action=action_url("record", step), max_length=action.max_seconds, timeout=5,
                            play_beep=True, finish_on_key="#", recording_status_callback="/twilio/voice/recording-status")
            response.redirect(action_url("record", step, empty="1"))
        elif isinstance(action, Hangup):
            response.hangup()
    if not any(isinstance(a, (Ask, Dial, Record, Hangup)) for a in actions):
        response.hangup()
    return str(response)


def _tree(document: str):
    """A comparable form of a TwiML document: tag, attributes, text and children, recursively."""
    def walk(element):
        return (element.tag, sorted(element.attrib.items()), (element.text or "").strip() or None,
                [walk(child) for child in element])

    return walk(ET.fromstring(document.encode("utf-8")))


ANSWERS = {
    "menu with prompts": [Say(("Guten Tag.", TRICKY), "de"),
                          Ask("main", ("Drücken Sie die 1.", "Oder die 2."), "de", 12, ("1", "2"), ("einkauf",))],
    "dial with whisper": [Say(("Ich verbinde.",), "de"),
                          Dial("connect", "p1", ("+4927150100001", "+4927150100002"), TRICKY, "de", 25)],
    "dial without whisper": [Dial("connect", "p1", ("+4927150100001",), "", "en", 30)],
    "record": [Say(("Nach dem Ton.",), "de"), Record("message", 60, "de")],
    "goodbye": [Say(("Auf Wiederhören.",), "de"), Hangup()],
    "nothing that waits": [Say(("Tschüss.",), "ko")],
}


@pytest.mark.parametrize("name", ANSWERS)
@pytest.mark.parametrize("with_audio", [False, True])
def test_string_twiml_equals_the_library_document(name, with_audio):
    def prompt_url(text, language):
        return f"https://hotline.example.org/prompts/{language}/{len(text):020d}.wav?a=1&b=2" if with_audio else None

    actions = ANSWERS[name]
    ours = translate.render(actions, 7, prompt_url, caller_id="+4927150199999", stream=STREAM, stop_stream="old")
    library = _library_render(actions, 7, prompt_url, caller_id="+4927150199999", stream=STREAM, stop_stream="old")
    assert _tree(ours) == _tree(library)
    assert ours.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')


def test_fallback_and_whisper_equal_the_library_documents():
    library = VoiceResponse()
    library.say(translate.FALLBACK_TEXTS["en"]["connect"], language="en-GB")
    library.dial(caller_id="+4927150199999", timeout=40).number("+4927150100000")
    library.say(translate.FALLBACK_TEXTS["en"]["later"], language="en-GB")
    library.hangup()
    assert _tree(translate.fallback_twiml("en", "+4927150100000", "+4927150199999")) == _tree(str(library))
    promise = VoiceResponse()
    promise.say(translate.FALLBACK_TEXTS["de"]["callback"], language="de-DE")
    promise.hangup()
    assert _tree(translate.fallback_twiml("tr", None, None)) == _tree(str(promise))
    whisper = VoiceResponse()
    whisper.say(TRICKY, language="de-DE")
    assert _tree(translate.whisper_twiml(TRICKY, "de")) == _tree(str(whisper))
    assert _tree(translate.whisper_twiml("", "de")) == _tree(str(VoiceResponse()))
