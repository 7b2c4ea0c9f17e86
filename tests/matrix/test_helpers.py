"""Helpers get tasks in Matrix and answer there: a signed call, a real Synapse, the real database.

The outbox rows are sent through the Matrix channel; replies come in over the listener's /sync and
act through the same rules as SMS replies (ivr.tasks.inbound).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from ivr.db import engine_of
from ivr.db.models import SmsMessage, Volunteer
from ivr.tasks.config import TaskConfig
from ivr.telephony.matrix.channel import MatrixChannel, is_matrix_address
from ivr.telephony.matrix.client import MatrixClient
from ivr.telephony.matrix.listener import MatrixListener
from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from tests.support.call_simulator import CallSimulator
from tests.tasks.conftest import JONAS, PETRA, Clock, only_task, outbox  # noqa: F401
from tests.tasks.conftest import clock, db, standin, task_app_config  # noqa: F401  (fixtures)
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, HOTLINE, PUBLIC_URL, load_demo_directory


SABINE = "+493023125203"  # Am Hang: a helper of another house


@pytest.fixture
def helpers(synapse):
    """Jonas and Petra of the Lindenhof and Sabine of Am Hang, each with an account on the test server."""
    return {"jonas": synapse.register("jonas", displayname="Jonas"),
            "petra": synapse.register("petra", displayname="Petra"),
            "sabine": synapse.register("sabine", displayname="Sabine")}


@pytest.fixture
def helpers_room(synapse, helpers, hotline_account):
    """The IT helpers' group room: created by Jonas, Petra and the hotline invited and joined."""
    room = synapse.api(helpers["jonas"], "POST", "/createRoom",
                       json={"preset": "private_chat", "name": "IT-Helfer",
                             "invite": [helpers["petra"].user_id, helpers["sabine"].user_id,
                                        hotline_account.user_id]})["room_id"]
    for name in ("petra", "sabine"):
        synapse.api(helpers[name], "POST", f"/join/{room}", json={})
    return room


@pytest.fixture
def app(tmp_path, standin, clock, synapse, hotline_account, helpers, helpers_room, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HAUSRUF_MATRIX_HELPERS_ROOM", helpers_room)
    monkeypatch.setenv("HAUSRUF_MATRIX_HOMESERVER", synapse.url)
    monkeypatch.setenv("HAUSRUF_MATRIX_USER", hotline_account.user_id)
    monkeypatch.setenv("HAUSRUF_MATRIX_ACCESS_TOKEN", hotline_account.access_token)
    app = migrated_app(task_app_config(f"sqlite:///{tmp_path / 'hausruf.sqlite3'}", tmp_path, standin))
    hausruf(app).clock = lambda: clock.now
    load_demo_directory(app)
    with engine_of(app).begin() as connection:  # the demo's Matrix IDs, on this server
        for name, number in (("jonas", JONAS), ("petra", PETRA), ("sabine", SABINE)):
            connection.execute(update(Volunteer).where(Volunteer.phone == number)
                               .values(matrix=helpers[name].user_id))
    yield app
    engine_of(app).dispose()


@pytest.fixture
def hotline(app, clock):  # noqa: F811
    """The worker's side as `hausruf worker` wires it: the outbox's channel (SMS and Matrix) and the listener."""
    from ivr.app import worker_jobs

    settings = app.config["HAUSRUF"]
    jobs = worker_jobs(settings, TaskConfig.for_settings(settings))
    assert jobs.config.matrix
    channel = jobs.channel.matrix
    yield channel, MatrixListener(channel, jobs.sessions, jobs.config, clock=lambda: clock.now), jobs
    channel.client.close()
    jobs.sessions.kw["bind"].dispose()


def send_queued(jobs, clock) -> None:
    """The worker's outbox pass, as the send job runs it."""
    report = jobs.send_outbox(clock.now)
    assert report.failed == report.retried == 0, report


def texts_in(synapse, user, room_id) -> list[tuple[str, str]]:
    found = synapse.api(user, "GET", f"/rooms/{room_id}/messages", params={"dir": "b", "limit": 50})
    return [(e["sender"], e["content"]["body"]) for e in reversed(found["chunk"]) if e["type"] == "m.room.message"]


def test_a_call_pressing_5_offers_the_task_by_direct_message_and_ok_n_there_accepts_it(
        app, db, hotline, synapse, helpers, hotline_account, clock):  # noqa: F811
    channel, listener, jobs = hotline
    listener.run_once(timeout_ms=0)  # the worker is listening before the call comes
    call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA)
    call.press("5")
    [offer] = outbox(db)
    task = only_task(db)
    assert task.state == "offered"
    jonas = helpers["jonas"]
    assert offer.to_number == jonas.user_id
    send_queued(jobs, clock)
    room = channel.direct_room(jonas.user_id, create=False)
    synapse.api(jonas, "POST", f"/join/{room}", json={})
    assert texts_in(synapse, jonas, room) == [(hotline_account.user_id, offer.body)]
    assert f"OK {task.number} = übernehme" in offer.body

    synapse.api(jonas, "PUT", f"/rooms/{room}/send/m.room.message/t1",
                json={"msgtype": "m.text", "body": f"ok {task.number}"})
    assert listener.run_once(timeout_ms=5000) == 1
    accepted = only_task(db)
    assert accepted.state == "accepted" and accepted.assigned_volunteer.matrix == jonas.user_id
    assert accepted.transitions[-1].reason == "accepted in Matrix"
    send_queued(jobs, clock)
    last = texts_in(synapse, jonas, room)[-1]
    assert last[0] == hotline_account.user_id
    assert last[1].startswith(f"Danke! #{task.number} ist Ihre Aufgabe: Frau Becker, Tel. 030 23125301.")

    # Petra (a helper the task was never offered to) reports it done in her own direct room: refused.
    petra = helpers["petra"]
    petra_room = channel.direct_room(petra.user_id)
    synapse.api(petra, "POST", f"/join/{petra_room}", json={})
    synapse.api(petra, "PUT", f"/rooms/{petra_room}/send/m.room.message/t2",
                json={"msgtype": "m.text", "body": f"erledigt {task.number}"})
    assert listener.run_once(timeout_ms=5000) == 1
    send_queued(jobs, clock)
    assert texts_in(synapse, petra, petra_room)[-1] == (
        hotline_account.user_id, f"Hausruf: Aufgabe #{task.number} gibt es für Sie nicht. Hilfe: ?")
    assert only_task(db).state == "accepted"


def test_a_restarted_listener_resumes_from_its_token_and_acts_on_nothing_twice(app, db, hotline, synapse, helpers,
                                                                             matrix_settings, clock):  # noqa: F811
    channel, listener, jobs = hotline
    listener.run_once(timeout_ms=0)
    jonas = helpers["jonas"]
    room = channel.direct_room(jonas.user_id)
    synapse.api(jonas, "POST", f"/join/{room}", json={})
    synapse.api(jonas, "PUT", f"/rooms/{room}/send/m.room.message/h1", json={"msgtype": "m.text", "body": "?"})
    assert listener.run_once(timeout_ms=5000) == 1
    # Written while no listener runs: the next one (a new process) picks it up, and only it.
    synapse.api(jonas, "PUT", f"/rooms/{room}/send/m.room.message/h2", json={"msgtype": "m.text", "body": "hilfe"})
    client = MatrixClient(matrix_settings)
    try:
        again = MatrixListener(MatrixChannel(client), jobs.sessions, listener.config, clock=lambda: clock.now)
        assert again.run_once(timeout_ms=5000) == 1
        # The same batch handed over a second time (token not stored before a crash) acts on nothing.
        from ivr.telephony.matrix.state import SYNC_TOKEN

        replies = [m.body for m in outbox(db, jonas.user_id)]
        assert len(replies) == 2 and all(r.startswith("Hausruf: OK 17 = übernehme") for r in replies)
        assert again.state.get(SYNC_TOKEN)
    finally:
        client.close()


def test_unknown_senders_and_other_rooms_get_no_answer(app, db, hotline, synapse, hotline_account):  # noqa: F811
    channel, listener, jobs = hotline
    listener.run_once(timeout_ms=0)
    stranger = synapse.register("stranger")
    room = synapse.api(stranger, "POST", "/createRoom", json={"invite": [hotline_account.user_id],
                                                               "is_direct": True})["room_id"]
    channel.client.join(room)
    synapse.api(stranger, "PUT", f"/rooms/{room}/send/m.room.message/s1", json={"msgtype": "m.text", "body": "ok 1"})
    assert listener.run_once(timeout_ms=3000) == 0
    assert outbox(db) == []


def test_before_staff_the_helpers_room_is_asked_and_the_first_ok_there_takes_the_task(
        app, db, hotline, synapse, helpers, helpers_room, hotline_account, clock):  # noqa: F811
    from ivr.tasks.escalation import run_due_steps

    channel, listener, jobs = hotline
    listener.run_once(timeout_ms=0)
    CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA).press("5")
    number = only_task(db).number
    for _ in range(2):  # neither Jonas nor Petra answers their offer in time
        clock.advance(minutes=31)
        with jobs.sessions() as session:
            run_due_steps(session, clock.now, listener.config)
    task = only_task(db)
    assert task.state == "offered" and task.assigned_volunteer is None
    assert task.transitions[-1].reason.endswith("offered in the helpers' room")
    send_queued(jobs, clock)
    sabine, petra = helpers["sabine"], helpers["petra"]
    assert texts_in(synapse, sabine, helpers_room)[-1] == (
        hotline_account.user_id, f"Hausruf #{number} an alle IT-Helfer: Frau Becker (Lindenhof) bittet um Rückruf: "
        f"Hilfe mit Telefon, Computer oder Haus-Chat. Tel. 030 23125301. Wer übernimmt? OK {number}.")

    synapse.api(sabine, "PUT", f"/rooms/{helpers_room}/send/m.room.message/r1",
                json={"msgtype": "m.text", "body": f"OK {number}"})
    synapse.api(petra, "PUT", f"/rooms/{helpers_room}/send/m.room.message/r2",
                json={"msgtype": "m.text", "body": f"ok {number}"})
    assert listener.run_once(timeout_ms=5000) == 2
    task = only_task(db)
    assert task.state == "accepted" and task.assigned_volunteer.name == "Sabine Roth"
    send_queued(jobs, clock)
    answers = [body for sender, body in texts_in(synapse, sabine, helpers_room) if sender == hotline_account.user_id]
    assert answers[-2].startswith(f"Danke! #{number} ist Ihre Aufgabe: Frau Becker")
    assert answers[-1] == f"#{number} hat schon Sabine Roth übernommen. Danke!"



def test_when_nobody_in_the_helpers_room_takes_it_staff_are_told_by_sms(app, db, hotline, helpers, helpers_room,
                                                                        clock):  # noqa: F811
    from ivr.tasks.escalation import run_due_steps
    from tests.twilio.conftest import STAFF

    channel, listener, jobs = hotline
    CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA).press("5")
    for _ in range(3):  # Jonas, Petra, then the helpers' room: nobody answers
        clock.advance(minutes=31)
        with jobs.sessions() as session:
            run_due_steps(session, clock.now, listener.config)
    task = only_task(db)
    assert task.state == "escalated"
    assert [m.to_number for m in outbox(db)] == [helpers["jonas"].user_id, helpers["petra"].user_id, helpers_room,
                                                 STAFF]
    assert outbox(db)[-1].body.startswith(f"Hausruf #{task.number} ans Büro: Kein IT-Helfer hat übernommen.")


def test_an_encrypted_room_is_reported_not_silently_ignored(app, hotline, synapse, helpers, caplog):
    from ivr.telephony.matrix.commands import check_matrix

    channel, listener, jobs = hotline
    listener.run_once(timeout_ms=0)
    jonas = helpers["jonas"]
    room = channel.direct_room(jonas.user_id)
    synapse.api(jonas, "POST", f"/join/{room}", json={})
    # Jonas's Element switches encryption on and sends an encrypted "ok" the hotline cannot decrypt.
    synapse.api(jonas, "PUT", f"/rooms/{room}/state/m.room.encryption/",
                json={"algorithm": "m.megolm.v1.aes-sha2"})
    synapse.api(jonas, "PUT", f"/rooms/{room}/send/m.room.encrypted/e1",
                json={"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEn...", "device_id": "JONAS",
                      "sender_key": "x", "session_id": "y"})
    with caplog.at_level("WARNING", logger="hausruf.matrix"):
        assert listener.run_once(timeout_ms=5000) == 0
    assert f"room {room} is end-to-end encrypted: a helper's message there cannot be read" in caplog.text
    assert channel.client.is_encrypted(room)
    lines, ok = check_matrix(listener.client.settings, None, jobs.sessions)
    assert not ok and any(line.startswith(f"room {room}: a helper's encrypted message could not be read")
                          for line in lines)


# A worker that is killed right after the homeserver took a message, before the outbox recorded it.
KILLED_WORKER = """
import os, sys
from datetime import datetime

from ivr.app import worker_jobs
from ivr.config import Settings
from ivr.telephony.matrix.channel import MatrixChannel

send = MatrixChannel.send

def send_then_die(self, to, body, key, outbox_id=None):
    send(self, to, body, key, outbox_id)
    os._exit(9)

MatrixChannel.send = send_then_die
worker_jobs(Settings.from_env()).send_outbox(datetime.fromisoformat(sys.argv[1]))
"""


def test_a_worker_killed_between_sending_and_recording_sends_the_offer_exactly_once(
        app, db, hotline, synapse, helpers, standin, clock, tmp_path, hotline_account):  # noqa: F811
    import os
    import subprocess
    import sys

    from tests.support.twilio_standin import ACCOUNT_SID
    from tests.twilio.conftest import STAFF

    channel, listener, jobs = hotline
    CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA).press("5")
    [offer] = outbox(db)
    settings = app.config["HAUSRUF"]
    environment = dict(os.environ, HAUSRUF_DATABASE_URL=settings.database_url, HAUSRUF_DATA_DIR=str(tmp_path),
                       TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                       HAUSRUF_TWILIO_API_BASE=standin.base_url, HAUSRUF_PHONE_NUMBER=HOTLINE,
                       HAUSRUF_STAFF_NUMBER=STAFF, HAUSRUF_QUEUE_URL=f"sqlite:///{tmp_path / 'huey.sqlite3'}")
    killed = subprocess.run([sys.executable, "-c", KILLED_WORKER, clock.now.isoformat()], env=environment,
                            capture_output=True, text=True, timeout=120)
    assert killed.returncode == 9, killed.stderr
    db.expire_all()
    assert (offer.status, offer.provider_message_id, offer.attempts) == ("sending", None, 1)

    clock.advance(seconds=jobs.config.sms_lease.total_seconds() + 1)  # the dead worker's lease ran out
    jobs.send_outbox(clock.now)
    db.expire_all()
    assert offer.status == "sent" and offer.provider_message_id.startswith("$")
    jonas = helpers["jonas"]
    room = channel.direct_room(jonas.user_id, create=False)
    synapse.api(jonas, "POST", f"/join/{room}", json={})
    found = synapse.api(jonas, "GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": 50})["chunk"]
    sent = [e for e in found if e["type"] == "m.room.message"]
    assert [(e["event_id"], e["content"]["body"]) for e in sent] == [(offer.provider_message_id, offer.body)]
    assert offer.channel == "matrix"


def test_with_hausruf_worker_running_the_offer_arrives_within_30_s_and_ok_n_there_accepts_it(
        app, db, synapse, helpers, standin, tmp_path, monkeypatch):  # noqa: F811
    """The issue's demonstration: a signed call pressing 5, the real worker process, a helper in Matrix."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from datetime import datetime, timezone

    from click.testing import CliRunner

    from ivr.cli import main
    from tests.support.twilio_standin import ACCOUNT_SID
    from tests.twilio.conftest import STAFF

    # Real time: the worker subprocess has a real clock.
    standin.clock = hausruf(app).clock = lambda: datetime.now(timezone.utc)
    settings = app.config["HAUSRUF"]
    environment = dict(os.environ, HAUSRUF_DATABASE_URL=settings.database_url, HAUSRUF_DATA_DIR=str(tmp_path),
                       TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                       HAUSRUF_TWILIO_API_BASE=standin.base_url, HAUSRUF_PHONE_NUMBER=HOTLINE,
                       HAUSRUF_STAFF_NUMBER=STAFF, HAUSRUF_QUEUE_URL=settings.queue_url,
                       HAUSRUF_ENV_FILE="/nonexistent")
    worker = subprocess.Popen([sys.executable, "-c", "from ivr.cli import main; main()", "worker"], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(3)  # the worker's first sync takes the server's position before the call comes
        started = time.monotonic()
        CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA).press("5")
        [offer] = outbox(db)
        helper = next(h for h in helpers.values() if h.user_id == offer.to_number)  # Jonas, or Petra at night
        room, since = None, synapse.api(helper, "GET", "/sync", params={"timeout": 0})["next_batch"]
        while room is None and time.monotonic() - started < 30:
            # Incremental syncs, as Element does (Synapse caches a repeated initial sync for minutes).
            answer = synapse.api(helper, "GET", "/sync", params={"timeout": 1000, "since": since})
            since = answer["next_batch"]
            room = next(iter(answer.get("rooms", {}).get("invite", {})), None)
        if room is None:
            worker.send_signal(signal.SIGINT)
            worker.send_signal(signal.SIGINT)
            db.expire_all()
            raise AssertionError(f"no invite in 30 s for {helper.user_id} ({offer.status}); the worker said: "
                                 + worker.communicate(timeout=15)[1].decode()[-6000:])
        synapse.api(helper, "POST", f"/join/{room}", json={})
        bodies = []
        while not bodies and time.monotonic() - started < 30:  # the room is made a moment before the message
            chunk = synapse.api(helper, "GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": 50})["chunk"]
            bodies = [e["content"]["body"] for e in chunk if e["type"] == "m.room.message"]
            time.sleep(0.2)
        number = only_task(db).number
        assert bodies == [offer.body] and f"Hausruf #{number}:" in offer.body
        assert time.monotonic() - started < 30
        synapse.api(helper, "PUT", f"/rooms/{room}/send/m.room.message/w1",
                    json={"msgtype": "m.text", "body": f"ok {number}"})
        deadline = time.monotonic() + 30
        while only_task(db).state != "accepted" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(15)
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", settings.database_url)
    shown = CliRunner().invoke(main, ["tasks", "show", str(number)])
    assert shown.exit_code == 0 and shown.output.startswith(f"task #{number}: accepted (volunteers)"), shown.output
