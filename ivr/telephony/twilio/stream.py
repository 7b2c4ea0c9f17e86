"""Speech on live calls: Twilio media streams into a Vosk menu recogniser, a match moves the call on.

While a menu listens, its TwiML forks the caller's audio (<Start><Stream>, inbound track, mu-law
8 kHz in 20 ms frames) to WebSocket /twilio/stream with the call's step and menu as parameters.
One recogniser per stream listens for that menu's words only. On a confident match the call is
redirected with a REST update to /twilio/voice/speech?step=N&phrase=..., the same engine step a
key press reaches. Keys keep working whatever happens here: a failed model, stream or REST call is
logged and the Gather goes on; the step in the URL makes a key press and a word resolve once.

The handshake is bound to one call and step: the stream URL carries the CallSid, the step and a key
made from them with the server's secret, Twilio signs that URL, and the stream's start message must
name the same call. A captured handshake opens no other call's stream, nor a later menu's.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from urllib.parse import urlencode

from flask import Flask, Response, current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from ivr.engine import menu_phrases
from ivr.engine.actions import Ask
from ivr.flows.model import MenuNode
from ivr.metrics import count_speech
from ivr.privacy.keys import key_matches, server_secret, url_key
from ivr.telephony.ports import StepResult
from ivr.telephony.twilio.signature import signed_url
from ivr.telephony.twilio.translate import MediaStream
from ivr.telephony.twilio.voice import PROVIDER
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.stream")
STREAM_NAME = "hausruf-menu"
STREAM_PATH = "/twilio/stream"
IDLE_SECONDS = 60  # Twilio sends a frame every 20 ms; a minute of nothing means the peer is gone
LINGER_SECONDS = 2.0  # how long a finished stream waits for Twilio to close its side (as gunicorn would)


def websocket_url(public_url: str) -> str:
    """wss://host/twilio/stream for https://host (ws:// for plain http, used in tests)."""
    scheme, rest = public_url.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}{STREAM_PATH}"


class SpeechStreams:
    """Decides, per TwiML answer, whether to start a menu stream and stop the previous one."""

    def __init__(self, settings, registry):
        self.settings = settings
        self.registry = registry
        self.secret = server_secret(settings)

    def enabled_for(self, language: str) -> bool:
        return bool(self.settings.speech_enabled and self.settings.public_url
                    and language in self.registry.languages)

    def stream_for(self, call_sid: str, result: StepResult) -> MediaStream | None:
        ask = next((a for a in result.actions if isinstance(a, Ask)), None)
        if ask is None or not self.enabled_for(result.language):
            return None
        params = (("step", str(result.step)), ("node", ask.node), ("language", result.language),
                  ("revision", result.revision))
        query = urlencode({"call": call_sid, "step": result.step,
                           "token": url_key(self.secret, "stream", call_sid, str(result.step))})
        return MediaStream(url=f"{websocket_url(self.settings.public_url)}?{query}", name=STREAM_NAME,
                           parameters=params)

    def stop_for(self, call_sid: str, result: StepResult) -> str | None:
        # Only a menu starts a stream, and it runs until stopped: the answer after a menu stops it
        # (before a new menu starts one of the same name). Other answers have nothing to stop.
        return STREAM_NAME if self.enabled_for(result.language) and result.after_menu else None


class StreamSession:
    """One media stream: feeds frames to the recogniser and acts once on a match."""

    def __init__(self, app: Flask, ws, expected_call: str = "", expected_step: str = ""):
        self.app = app
        self.ws = ws
        self.recognizer = None
        self.call_sid = ""
        self.step = 0
        self.expected = (expected_call, expected_step)  # from the handshake URL, checked by _check_handshake

    def run(self) -> None:
        while True:
            raw = self.ws.receive(timeout=IDLE_SECONDS)
            if raw is None:
                return
            message = json.loads(raw)
            event = message.get("event")
            match = None
            if event == "start":
                self._start(message.get("start") or {})
            elif event == "media" and self.recognizer is not None:
                payload = (message.get("media") or {}).get("payload", "")
                match = self.recognizer.feed_mulaw(base64.b64decode(payload))
            elif event == "stop":
                match = self.recognizer.finish() if self.recognizer is not None else None
                if match is None:
                    return
            if match is not None:
                self._act(match.phrase)
                return

    def _start(self, start: dict) -> None:
        params = start.get("customParameters") or {}
        self.call_sid = start.get("callSid", "")
        if (self.call_sid, str(params.get("step", ""))) != self.expected:
            log.warning("stream for call %s, step %s does not match its handshake; ignoring its audio",
                        self.call_sid, params.get("step"))
            return
        self.step = int(params.get("step", "0"))
        self.recognizer = self._menu_recognizer(params)

    def _menu_recognizer(self, params: dict):
        """A recogniser for the menu the stream's parameters name, or None when they name no menu."""
        language = params.get("language", "")
        flows = hausruf(self.app).flows.current()
        flow = flows.by_revision(params.get("revision", ""))
        node = flow.nodes.get(params.get("node", "")) if flow else None
        if not isinstance(node, MenuNode):
            log.warning("stream for call %s names no menu (%s); ignoring its audio", self.call_sid, params)
            return None
        return hausruf(self.app).speech_models.recognizer(language, list(menu_phrases(flow, node)))

    def _act(self, phrase: str) -> None:
        """Move the live call on with the word, unless the call has moved on meanwhile."""
        wiring = hausruf(self.app)
        try:
            if not wiring.calls(PROVIDER).waits_in_menu(self.call_sid, self.step):
                log.info("call %s: heard %r too late (step %s passed)", self.call_sid, phrase, self.step)
                count_speech("too_late")
                return
            wiring.telephony.move_on(self.call_sid, self.step, phrase)
            log.info("call %s: heard %r at step %s", self.call_sid, phrase, self.step)
            count_speech("acted")
        except Exception:  # noqa: BLE001 - the keypad still works; never let speech break a call
            log.exception("call %s: could not move the call on after speech", self.call_sid)
            count_speech("redirect_failed")


def _check_handshake():
    """403 before the WebSocket upgrade when the handshake is not signed by Twilio."""
    if request.path != STREAM_PATH:
        return None
    settings = current_app.config["HAUSRUF"]
    if not (settings.twilio_auth_token and settings.public_url):
        return Response("forbidden\n", status=403)
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(settings.twilio_auth_token)
    signature = request.headers.get("X-Twilio-Signature", "")
    # Twilio signs the wss:// URL of the handshake; accept the https:// spelling of it as well.
    candidates = (signed_url(websocket_url(settings.public_url).rsplit(STREAM_PATH, 1)[0], request.path,
                             request.query_string),
                  signed_url(settings.public_url, request.path, request.query_string))
    token_ok = key_matches(server_secret(settings), request.args.get("token", ""), "stream",
                           request.args.get("call", ""), request.args.get("step", ""))
    if signature and token_ok and any(validator.validate(url, {}, signature) for url in candidates):
        return None
    log.warning("403 for media stream handshake from %s: missing or bad X-Twilio-Signature or call key",
                request.remote_addr)
    return Response("forbidden: bad or missing Twilio signature\n", status=403)


def init_app(app: Flask) -> None:
    """Register the media-stream WebSocket and tell the webhooks to start streams in menus."""
    from speech.models import ModelRegistry

    wiring = hausruf(app)
    registry = ModelRegistry(wiring.settings.vosk_models)
    wiring.speech_models = registry
    wiring.speech_streams = SpeechStreams(wiring.settings, registry)
    app.before_request(_check_handshake)
    sock = Sock(app)

    @sock.route(STREAM_PATH)
    def media_stream(ws):
        try:
            StreamSession(app, ws, request.args.get("call", ""), request.args.get("step", "")).run()
        except Exception:  # noqa: BLE001 - a broken stream must not disturb the call; keys still work
            log.exception("media stream failed")
        finally:
            close_here(ws)


def close_here(ws) -> None:
    """End a finished stream's WebSocket and TCP connection in the stream's own thread.

    gunicorn (27) closes a finished connection on its worker's main thread, and gracefully: it sends
    its FIN and waits up to 2 s for the peer's. Twilio keeps sending media until our REST update
    reaches it, so that wait kept the worker from accepting any webhook meanwhile (0.6-0.9 s stalls
    in bench/capacity.py). Waiting here costs only this stream's thread; gunicorn then finds the
    socket closed. Hand-written because gunicorn offers no hook for it; only gunicorn needs it.
    """
    if ws.mode != "gunicorn":
        return
    try:
        ws.close()  # the WebSocket close frame, which flask-sock would send after we return
    except ConnectionClosed:
        pass  # Twilio closed first
    deadline = time.monotonic() + LINGER_SECONDS
    try:
        ws.sock.shutdown(socket.SHUT_WR)
        ws.sock.settimeout(LINGER_SECONDS)
        # Read (and drop) the media still on its way until Twilio closes; a closed socket ends it too.
        while time.monotonic() < deadline and ws.sock.recv(4096):
            pass
    except OSError:
        pass  # closed, reset, or the wait is over
    finally:
        ws.sock.close()
