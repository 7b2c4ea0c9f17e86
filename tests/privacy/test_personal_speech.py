"""No personal text goes to the provider's text-to-speech: names are rendered locally, under keyed URLs."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from ivr.db import engine_of
from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, HOTLINE, PUBLIC_URL, WEDNESDAY_10, app_config, load_demo_directory

PERSONAL_URL = re.compile(rf"^{PUBLIC_URL}/prompts/personal/de/[0-9a-f]{{24}}/[0-9a-f]{{24}}\.wav$")


def _app(sqlite_url, tmp_path, on_demand: bool):
    app = migrated_app(app_config(sqlite_url, tmp_path, render_prompts_on_demand=on_demand))
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    return app


def _twiml_texts(call) -> str:
    return " ".join(reply.body for reply in call.replies)


def test_without_local_audio_the_provider_says_only_the_neutral_greeting(sqlite_url, tmp_path):
    app = _app(sqlite_url, tmp_path, on_demand=False)
    call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA)
    assert call.heard[0] == "Guten Tag. Hier ist das Haustelefon Ihrer Genossenschaft."
    call.press("1")  # groceries: the partner's whisper names Erika and her house
    whisper = call._only("Number").get("url")
    assert "text=" not in whisper and "Erika" not in whisper and "audio=personal" in whisper
    assert "Becker" not in _twiml_texts(call) and "Erika" not in _twiml_texts(call)
    general = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).post(whisper, call.form(CallSid="CA" + "8" * 32))
    assert general.xml.find("Say").text == "Ein Anruf über das Haustelefon der Genossenschaft."  # no audio: no name
    forged = whisper.replace("key=", "key=0")
    refused = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).post(forged, call.form()).xml
    assert refused.find("Play") is None and refused.find("Say").text == "Ein Anruf über das Haustelefon der Genossenschaft."
    engine_of(app).dispose()


def test_a_known_callers_greeting_and_whisper_are_rendered_locally_and_played_by_key(sqlite_url, tmp_path):
    app = _app(sqlite_url, tmp_path, on_demand=True)
    twilio = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)
    first = twilio.call(ERIKA)  # within a second the joined greeting, else the neutral one
    assert "Becker" not in _twiml_texts(first)
    urls = hausruf(app).prompt_url
    greeting = "Guten Tag, Frau Becker. Hier ist das Haustelefon Ihrer Genossenschaft."
    deadline = time.monotonic() + 120
    while not PERSONAL_URL.match(urls(greeting, "de") or "") and time.monotonic() < deadline:
        time.sleep(0.2)
    call = twilio.call(ERIKA)
    played = call.twiml.find(".//Play").text
    assert PERSONAL_URL.match(played) and "Becker" not in _twiml_texts(call)
    audio = app.test_client().get(played[len(PUBLIC_URL):])
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and len(audio.data) > 8000  # > 0.5 s
    folder, name = played.split("/")[-2:]
    for guess in (f"/prompts/personal/de/{folder}/{'0' * 24}.wav", f"/prompts/personal/de/{'0' * 24}/{name}"):
        assert app.test_client().get(guess).status_code == 404
    call.press("1")
    whisper = call._only("Number").get("url")
    assert "Erika" not in whisper and "Lindenhof" not in whisper
    audio_path = parse_qs(urlsplit(whisper).query)["audio"][0]
    while not (app.config["HAUSRUF"].prompts_dir / audio_path).is_file() and time.monotonic() < deadline:
        time.sleep(0.2)
    answer = twilio.post(whisper, call.form(CallSid="CA" + "8" * 32))
    assert PERSONAL_URL.match(answer.xml.find("Play").text) and answer.xml.find("Say") is None
    engine_of(app).dispose()


@pytest.mark.parametrize("text, neutral", [
    ("Guten Tag, Frau Becker. Hier ist das Haustelefon.", "Guten Tag. Hier ist das Haustelefon."),
    ("Hello, Mrs Collins. This is your cooperative's house phone.", "Hello. This is your cooperative's house phone."),
    ("Anruf vom Haustelefon: Frau Becker, Lindenhof.", "Anruf vom Haustelefon: Lindenhof."),
])
def test_the_neutral_text_drops_the_name_and_its_commas(text, neutral):
    from ivr.privacy.personal import neutral_text

    values = [v for v in ("Frau Becker", "Mrs Collins") if v in text]
    assert neutral_text(text, values) == neutral
