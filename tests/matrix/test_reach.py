"""A Matrix room the hotline cannot use, or a homeserver that refuses it, shows in /healthz and the console.

The worker's listener finds it on the real Synapse and records it in the database; the web app reads
the record (never the homeserver) in its request.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from ivr.db import engine_of
from ivr.db.models import House, MatrixState, WorkerHeartbeat
from ivr.tasks.config import TaskConfig
from ivr.telephony.matrix.channel import MatrixChannel
from ivr.telephony.matrix.client import MatrixClient
from ivr.telephony.matrix.listener import MatrixListener
from ivr.telephony.matrix.reach import HOMESERVER, STALE
from ivr.telephony.matrix.settings import MatrixSettings
from ivr.web.health import health
from tests.console.conftest import STAFF, login
from tests.support.server import free_port


@pytest.fixture
def jonas(synapse):
    return synapse.register("jonas", displayname="Jonas")


@pytest.fixture
def rooms(synapse, jonas, hotline_account):
    """Jonas's helpers' room (the hotline invited) and his house room (the hotline never invited)."""
    helpers = synapse.api(jonas, "POST", "/createRoom", json={"preset": "private_chat", "name": "IT-Helfer",
                                                              "invite": [hotline_account.user_id]})["room_id"]
    house = synapse.api(jonas, "POST", "/createRoom", json={"preset": "private_chat", "name": "Lindenhof"})["room_id"]
    return helpers, house


@pytest.fixture
def helpers_room_setting(rooms):
    return rooms[0]


@pytest.fixture
def app(web_app, rooms):
    """The helpers' room set, and the Lindenhof's chat room (the only one on this server) the one not joined."""
    with engine_of(web_app).begin() as connection:
        connection.execute(update(House).where(House.id == "lindenhof").values(chat_room=rooms[1]))
    return web_app


def listener_for(settings: MatrixSettings, sessions, helpers_room: str) -> MatrixListener:
    return MatrixListener(MatrixChannel(MatrixClient(settings)), sessions,
                          TaskConfig(matrix=True, helpers_room=helpers_room))


def matrix_of(client) -> dict:
    answer = client.get("/healthz")
    assert answer.status_code == 200
    return answer.get_json()


def test_a_room_the_hotline_is_not_in_or_was_kicked_from_degrades_healthz_and_shows_in_the_console(
        app, worker_sessions, synapse, jonas, rooms, matrix_settings, hotline_account):
    helpers_room, house_room = rooms
    listener = listener_for(matrix_settings, worker_sessions, helpers_room)
    try:
        listener.run_once(timeout_ms=0)
        found = matrix_of(app.test_client())
        assert found["status"] == "degraded"
        assert found["matrix"]["homeserver"]["state"] == "ok"
        by_room = {room["address"]: room for room in found["matrix"]["rooms"]}
        assert by_room[helpers_room]["state"] == "ok" and by_room[helpers_room]["what"] == "helpers_room"
        house = by_room[house_room]
        assert (house["state"], house["what"], house["house"]) == ("failed", "house_room", "Lindenhof")
        assert "M_FORBIDDEN" in house["error"]
        assert f"Matrix: the chat room {house_room} of Lindenhof failed: joining {house_room}: M_FORBIDDEN" in (
            "\n".join(found["problems"]))
        assert not any(helpers_room in problem for problem in found["problems"])

        # Jonas kicks the hotline out of the helpers' room: the next sync says so, not five minutes later.
        synapse.api(jonas, "POST", f"/rooms/{helpers_room}/kick", json={"user_id": hotline_account.user_id})
        listener.run_once(timeout_ms=5000)
        found = matrix_of(app.test_client())
        helpers = next(room for room in found["matrix"]["rooms"] if room["address"] == helpers_room)
        assert helpers["state"] == "failed" and "M_FORBIDDEN" in helpers["error"]
        assert any(problem.startswith(f"Matrix: the helpers' Matrix room {helpers_room} failed: joining")
                   for problem in found["problems"])

        staff = app.test_client()
        login(staff, STAFF)
        page = staff.get("/").get_data(as_text=True)
        assert f"Der Raum der IT-Helfer {helpers_room} ist nicht erreichbar: joining {helpers_room}: M_FORBIDDEN" in page
        assert f"Der Haus-Chat {house_room} (Lindenhof) ist nicht erreichbar" in page
        assert "Der Hausruf kann dort weder lesen noch schreiben." in page

        # Invited again: the sync that brings the invitation checks the rooms again.
        synapse.api(jonas, "POST", f"/rooms/{helpers_room}/invite", json={"user_id": hotline_account.user_id})
        listener.run_once(timeout_ms=5000)
        helpers = next(room for room in matrix_of(app.test_client())["matrix"]["rooms"]
                       if room["address"] == helpers_room)
        assert helpers["state"] == "ok"
    finally:
        listener.client.close()

    # Nobody looked for longer than STALE: unknown, a problem while the worker runs (not its sync).
    later = datetime.now(timezone.utc) + STALE + timedelta(minutes=1)
    with worker_sessions() as session:
        session.add(WorkerHeartbeat(name="test", ran_at=later))
        session.commit()
    with app.app_context():
        report = health(app, now=later)
    assert {room["state"] for room in report.matrix["rooms"]} == {"unknown"}
    assert report.matrix["homeserver"]["state"] == "unknown"
    assert f"Matrix: the worker has not checked the helpers' Matrix room {helpers_room} since " in "\n".join(
        report.problems)


def test_a_homeserver_that_refuses_the_sign_in_or_does_not_answer_degrades_healthz(
        app, worker_sessions, synapse, rooms, hotline_account):
    for homeserver, expected in ((synapse.url, "M_UNKNOWN_TOKEN"), (f"http://127.0.0.1:{free_port()}", "no answer from")):
        settings = MatrixSettings(homeserver=homeserver, user=hotline_account.user_id, access_token="not-a-token")
        run_until_recorded(listener_for(settings, worker_sessions, rooms[0]))
        with app.app_context():
            report = health(app)
        # The web app's settings name the real server; the worker's record says what it found.
        assert report.matrix["homeserver"]["state"] == "failed"
        assert expected in report.matrix["homeserver"]["error"]
        assert any(problem.startswith(f"Matrix: the Matrix homeserver {synapse.url} failed: ")
                   and "(no offers or replies in Matrix)" in problem for problem in report.problems)
        with worker_sessions() as session:
            session.delete(session.get(MatrixState, HOMESERVER))
            session.commit()


def run_until_recorded(listener: MatrixListener) -> None:
    """The worker's sync loop, until it recorded the homeserver's state."""
    stop = threading.Event()
    thread = threading.Thread(target=listener.run_forever, args=(stop,), kwargs={"timeout_ms": 0})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while listener.state.get(HOMESERVER) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
        listener.client.close()
