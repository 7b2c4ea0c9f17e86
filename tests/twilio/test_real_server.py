"""The production server (gunicorn) over real HTTP: signatures against HAUSRUF_PUBLIC_URL, crash and restart
in mid-call, and a broken database that still gets the caller to a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import import_demo
from tests.support.call_simulator import CallSimulator
from tests.support.server import HttpTransport, ServerProcess, free_port
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, STAFF

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server_env(tmp_path):
    port = free_port()
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.sqlite3'}", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}", "HAUSRUF_STAFF_NUMBER": STAFF,
           "HAUSRUF_PHONE_NUMBER": "+4927150199999", "HAUSRUF_DATA_DIR": str(tmp_path),
           "HAUSRUF_SPEECH": "off", "HAUSRUF_RENDER_PROMPTS": "off"}
    import_demo(env["HAUSRUF_DATABASE_URL"])
    return port, env


def test_unsigned_403_signed_200_over_http(server_env):
    port, env = server_env
    server = ServerProcess(env, port=port).start()
    try:
        twilio = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN)
        assert twilio.post("/twilio/voice", {"CallSid": "CA1", "From": ERIKA}, signed=False).status == 403
        call = twilio.call(ERIKA)
        assert call.heard[0].startswith("Guten Tag. Hier ist")  # the name only from local audio
        assert call._only("Gather") is not None
    finally:
        server.stop()


def test_a_killed_and_restarted_server_continues_the_call_at_the_same_node(server_env):
    port, env = server_env
    server = ServerProcess(env, port=port).start()
    try:
        twilio = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN)
        call = twilio.call(ERIKA)
        call.press("4")
        assert call.heard[0] == "Pflege."
        server.kill()
        server.start()
        call.press("7")  # no match in the care menu: the restarted server knows where the call is
        assert call.heard[:2] == ["Das habe ich leider nicht verstanden.", "Pflege."]
    finally:
        server.stop()


def test_a_broken_database_still_reaches_the_staff_number(server_env, tmp_path):
    port, env = server_env
    server = ServerProcess(env, port=port).start()
    try:
        database = tmp_path / "hotline.sqlite3"
        for extra in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            extra.unlink(missing_ok=True)
        database.write_bytes(b"this is no longer a database " * 100)  # root ignores chmod; corrupt instead
        twilio = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN)
        call = twilio.call(ERIKA)
        assert call.heard[0].startswith("Entschuldigung, hier gibt es gerade eine technische Störung.")
        assert call._only("Number").text == STAFF
        spooled = (tmp_path / "spool" / "missed-calls.jsonl").read_text()
        assert ERIKA in spooled  # the caller's number is kept for a callback even without a database
    finally:
        server.stop()
