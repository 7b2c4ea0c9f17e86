"""The media-stream handshake is bound to one call and step: a per-call key in the signed URL."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from ivr.db import engine_of
from ivr.privacy.keys import server_secret, url_key
from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from tests.twilio.conftest import AUTH_TOKEN, PUBLIC_URL, app_config


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = migrated_app(app_config(sqlite_url, tmp_path))
    yield app
    engine_of(app).dispose()


def _handshake(app, query: dict) -> int:
    path = "/twilio/stream?" + urlencode(query)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, {})
    return app.test_client().get(path, headers={"X-Twilio-Signature": signature}).status_code


def test_a_signed_handshake_needs_the_key_of_its_own_call_and_step(app):
    key = url_key(server_secret(app.config["HAUSRUF"]), "stream", "CA" + "1" * 32, "3")
    good = {"call": "CA" + "1" * 32, "step": "3", "token": key}
    assert _handshake(app, good) != 403  # past the gate (a plain GET is no WebSocket upgrade)
    assert _handshake(app, {**good, "call": "CA" + "2" * 32}) == 403  # another call
    assert _handshake(app, {**good, "step": "4"}) == 403  # a later menu of the same call
    assert _handshake(app, {"call": good["call"], "step": "3"}) == 403  # no key: the old constant URL
    assert _handshake(app, {}) == 403


def test_the_stream_url_in_the_twiml_carries_the_calls_key(app):
    from types import SimpleNamespace

    from ivr.engine.actions import Ask

    streams = hausruf(app).speech_streams
    streams.enabled_for = lambda language: True
    ask = Ask(node="main_menu", segments=("Hallo",), language="de", timeout_seconds=8, keys=("1",), phrases=())
    result = SimpleNamespace(actions=[ask], step=2,
                             language="de", revision="r1")
    stream = streams.stream_for("CA" + "5" * 32, result)
    key = url_key(server_secret(app.config["HAUSRUF"]), "stream", "CA" + "5" * 32, "2")
    assert stream.url == f"wss://hotline.example.org/twilio/stream?call=CA{'5' * 32}&step=2&token={key}"
