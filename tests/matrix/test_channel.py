"""The Matrix channel against a real Synapse: direct rooms, idempotent sends, errors the outbox understands."""

from __future__ import annotations

import pytest

from ivr.telephony.matrix.channel import ChannelRouter, MatrixChannel, is_matrix_address, transaction_id
from ivr.telephony.matrix.client import MatrixClient, MatrixError
from ivr.telephony.matrix.settings import MatrixSettings
from ivr.telephony.ports import ChannelError


def joined_messages(synapse, user, room_id):
    """The text messages of a room as user sees them, oldest first."""
    found = synapse.api(user, "GET", f"/rooms/{room_id}/messages", params={"dir": "b", "limit": 50})
    return [e for e in reversed(found["chunk"]) if e["type"] == "m.room.message"]


def test_a_message_to_a_helper_goes_to_one_direct_room_created_once_and_reused(synapse, matrix_client):
    helper = synapse.register("jonas")
    channel = MatrixChannel(matrix_client)
    first = channel.send(helper.user_id, "Aufgabe #17: Frau Becker ...", "offer:1:1")
    second = channel.send(helper.user_id, "Erinnerung #17", "reminder:1:1")
    assert first != second
    room_id = channel.direct_room(helper.user_id, create=False)
    # Recorded in the hotline's m.direct account data, so a new process (another channel) finds it.
    assert MatrixChannel(matrix_client).direct_room(helper.user_id, create=False) == room_id
    assert matrix_client.direct_rooms() == {helper.user_id: [room_id]}
    # The helper was invited to a direct room, joins it and reads the history from before the join.
    invites = synapse.api(helper, "GET", "/sync", params={"timeout": 0})["rooms"]["invite"]
    assert list(invites) == [room_id]
    member_event = next(e for e in invites[room_id]["invite_state"]["events"]
                        if e["type"] == "m.room.member" and e["state_key"] == helper.user_id)
    assert member_event["content"].get("is_direct") is True
    synapse.api(helper, "POST", f"/join/{room_id}", json={})
    bodies = [e["content"]["body"] for e in joined_messages(synapse, helper, room_id)]
    assert bodies == ["Aufgabe #17: Frau Becker ...", "Erinnerung #17"]
    members = matrix_client.room_members(room_id)
    assert sorted(members) == sorted([matrix_client.user_id, helper.user_id])


def test_sending_a_row_again_after_a_crash_gives_the_same_event_and_no_second_message(synapse, matrix_client):
    helper = synapse.register("petra")
    channel = MatrixChannel(matrix_client)
    first = channel.send(helper.user_id, "Aufgabe #18", "offer:2:7")
    # A new process (new client, same access token: same device) sends the same outbox row again.
    again_client = MatrixClient(matrix_client.settings)
    try:
        again = MatrixChannel(again_client).send(helper.user_id, "Aufgabe #18", "offer:2:7")
    finally:
        again_client.close()
    assert again == first
    room_id = channel.direct_room(helper.user_id)
    synapse.api(helper, "POST", f"/join/{room_id}", json={})
    assert [e["content"]["body"] for e in joined_messages(synapse, helper, room_id)] == ["Aufgabe #18"]
    assert [m.message_id for m in channel.recent(helper.user_id)] == [first]


def test_a_refused_send_is_a_permanent_channel_error_and_a_dead_server_a_temporary_one(synapse, hotline_account):
    settings = MatrixSettings(homeserver=synapse.url, user=hotline_account.user_id, access_token="wrong-token")
    client = MatrixClient(settings)
    try:
        with pytest.raises(ChannelError) as refused:
            MatrixChannel(client).send("!nowhere:talblick.test", "x", "k1")
        assert refused.value.permanent and refused.value.code == 401
    finally:
        client.close()
    down = MatrixSettings(homeserver="http://127.0.0.1:9", user=hotline_account.user_id, access_token="t")
    client = MatrixClient(down, timeout=3)
    try:
        with pytest.raises(ChannelError) as unreachable:
            MatrixChannel(client).send("!room:talblick.test", "x", "k2")
        assert not unreachable.value.permanent and unreachable.value.maybe_done
    finally:
        client.close()


def test_password_sign_in_logs_in_once_and_keeps_the_device_in_the_data_directory(synapse, tmp_path):
    account = synapse.register("hotline")
    settings = MatrixSettings(homeserver=synapse.url, user=account.user_id, password=synapse.password_of(account))
    devices = []
    for _ in range(2):
        client = MatrixClient(settings, data_dir=tmp_path)
        try:
            client.sign_in()
            devices.append(client.device_id)
        finally:
            client.close()
    assert devices[0] == devices[1] and devices[0] != account.device_id
    stored = tmp_path / "matrix" / "session.json"
    assert stored.stat().st_mode & 0o777 == 0o600


def test_a_token_of_another_account_is_refused(synapse, hotline_account):
    other = synapse.register("someone")
    client = MatrixClient(MatrixSettings(homeserver=synapse.url, user=hotline_account.user_id,
                                         access_token=other.access_token))
    try:
        with pytest.raises(MatrixError, match="belongs to"):
            client.sign_in()
    finally:
        client.close()


def test_the_router_sends_matrix_addresses_by_matrix_and_others_by_sms(synapse, matrix_client):
    sent_by_sms = []

    class Sms:
        name, sender, idempotent = "sms", "+4927150000001", False

        def send(self, to, body, key, outbox_id=None):
            sent_by_sms.append(to)
            return "SM1"

        def recent(self, to, since=None):
            return []

    helper = synapse.register("lukas")
    router = ChannelRouter(Sms(), MatrixChannel(matrix_client))
    assert router.send("+4915112345678", "Hallo", "k1") == "SM1"
    assert router.send(helper.user_id, "Hallo", "k2").startswith("$")
    assert sent_by_sms == ["+4915112345678"]
    with pytest.raises(ChannelError, match="no Matrix channel"):
        ChannelRouter(Sms(), None).send(helper.user_id, "x", "k3")


def test_addresses_and_transaction_ids():
    assert is_matrix_address("@jonas:talblick.example") and is_matrix_address("#lindenhof:talblick.example")
    assert not is_matrix_address("+4927112345")
    assert transaction_id("offer:1:2") != transaction_id("offer_1_2")
    assert transaction_id("offer:1:2").startswith("hausruf.offer_1_2.")


def test_hausruf_matrix_check_signs_in_and_joins_the_rooms(synapse, hotline_account, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from ivr.cli import main

    owner = synapse.register("vorstand")
    room = synapse.api(owner, "POST", "/createRoom", json={"invite": [hotline_account.user_id]})["room_id"]
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", f"sqlite:///{tmp_path / 'hausruf.sqlite3'}")
    monkeypatch.setenv("HAUSRUF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HAUSRUF_MATRIX_HOMESERVER", synapse.url)
    monkeypatch.setenv("HAUSRUF_MATRIX_USER", hotline_account.user_id)
    monkeypatch.setenv("HAUSRUF_MATRIX_ACCESS_TOKEN", hotline_account.access_token)
    monkeypatch.setenv("HAUSRUF_MATRIX_HELPERS_ROOM", room)
    result = CliRunner().invoke(main, ["matrix", "check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].startswith("end-to-end encryption on; verify this session in Element with the key ")
    assert len(lines[1].rsplit("key ", 1)[1].replace(" ", "")) == 43  # an unpadded base64 ed25519 key
    del lines[1]
    assert lines == [
        f"signed in to {synapse.url} as {hotline_account.user_id}, device {hotline_account.device_id}",
        f"helpers' room: {room} joined ({room})",
        "0 active helpers get offers in Matrix; 0 tenants opted in to their house chat",
    ]
    monkeypatch.setenv("HAUSRUF_MATRIX_HELPERS_ROOM", "#nirgends:talblick.test")
    result = CliRunner().invoke(main, ["matrix", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines()[2].startswith("helpers' room: #nirgends:talblick.test cannot be joined (")
    assert result.output.splitlines()[2].endswith(f"invite {hotline_account.user_id} to it")


class Crash(BaseException):
    """The worker dies here (not an error anything catches)."""


def test_a_crash_between_creating_a_direct_room_and_recording_it_leaves_no_second_room(synapse, matrix_client):
    lena, otto = synapse.register("lena"), synapse.register("otto")
    MatrixChannel(matrix_client).send(otto.user_id, "Aufgabe #19", "offer:19:1")  # another helper's room, recorded
    dying = MatrixClient(matrix_client.settings)
    made = []
    create = dying.create_direct_room
    dying.create_direct_room = lambda user_id, name=None: made.append(create(user_id, name)) or made[-1]

    def die(rooms):
        raise Crash()

    dying.set_direct_rooms = die  # the homeserver made the room; m.direct never heard of it
    try:
        with pytest.raises(Crash):
            MatrixChannel(dying).send(lena.user_id, "Aufgabe #20", "offer:20:1")
    finally:
        dying.close()
    assert lena.user_id not in matrix_client.direct_rooms() and len(made) == 1

    # The restarted worker sends the same outbox row: into that room, now recorded, and no other.
    channel = MatrixChannel(matrix_client)
    channel.send(lena.user_id, "Aufgabe #20", "offer:20:1")
    assert channel.direct_room(lena.user_id, create=False) == made[0]
    assert matrix_client.direct_rooms()[lena.user_id] == made[0:1]
    invites = synapse.api(lena, "GET", "/sync", params={"timeout": 0})["rooms"]["invite"]
    assert list(invites) == made[0:1]
    synapse.api(lena, "POST", f"/join/{made[0]}", json={})
    assert [e["content"]["body"] for e in joined_messages(synapse, lena, made[0])] == ["Aufgabe #20"]
    assert len(synapse.api(lena, "GET", "/joined_rooms")["joined_rooms"]) == 1


def test_with_matrix_and_no_twilio_sms_rows_are_held_and_matrix_rows_go_out(synapse, matrix_client, web_app,
                                                                            worker_sessions):
    from datetime import datetime, timezone

    from sqlalchemy import select

    from ivr.db.models import SmsMessage
    from ivr.tasks.config import TaskConfig
    from ivr.tasks.outbox import queue_sms
    from ivr.tasks.sending import send_due
    from ivr.web.health import health

    helper = synapse.register("mara")
    now = datetime.now(timezone.utc)
    router = ChannelRouter(None, MatrixChannel(matrix_client))
    with worker_sessions() as session:
        queue_sms(session, "+493023125201", "Hausruf #21: Frau Becker bittet um Rückruf", "offer:21:1", now)
        queue_sms(session, helper.user_id, "Hausruf #21: Frau Becker bittet um Rückruf", "offer:21:2", now)
        session.commit()
        for _ in range(2):  # a second pass holds it again, without touching it
            report = send_due(session, router, now, TaskConfig())
        rows = {row.channel: row for row in session.scalars(select(SmsMessage))}
        assert (report.sent, report.failed, report.retried) == (0, 0, 0)
        assert (rows["sms"].status, rows["sms"].attempts, rows["sms"].last_error_code) == ("queued", 0, None)
        assert rows["matrix"].status == "sent" and rows["matrix"].provider_message_id.startswith("$")
        queue_sms(session, helper.user_id, "Erinnerung #21", "reminder:21:2", now)  # waits for the next pass
        session.commit()
    # /healthz counts the held SMS, not a Matrix message waiting for its pass, as when nothing can be sent.
    with web_app.app_context():
        problems = health(web_app).problems
    assert "1 SMS held in the outbox until TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set" in problems
