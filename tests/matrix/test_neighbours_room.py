"""A tenant's confirmed spoken message appears in the house room with its audio, once; one not confirmed nowhere.

Against the session's real Synapse, read back with a neighbour's real client. The drafts are written by
the same function a call's step uses (ivr.tasks.housemessages.perform); recording and transcribing
them through a real call is test_neighbours.py's subject.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import select, update

from ivr.app import worker_jobs
from ivr.calls.recordings import local_path
from ivr.db.models import Call, House, HouseChatMessage, HouseMessage, Tenant
from ivr.engine import CallContext, Caller
from ivr.engine.actions import DiscardHouseMessage, DraftHouseMessage, SendHouseMessage
from ivr.tasks import housemessages

COLLINS = "+493023125303"


def draft(session, collins: Tenant, sid: str, recording: str, words: str, now: datetime, answer) -> None:
    """A call of Mrs Collins that recorded a message, had it transcribed, and answered the read-back."""
    call = Call(provider="twilio", provider_call_id=sid, from_number=COLLINS, tenant_id=collins.id, flow_name="hotline",
                flow_language="en", flow_revision="r", status="active", started_at=now, outcome="", state={})
    session.add(call)
    session.flush()
    context = CallContext(now=now, caller=Caller(number=COLLINS, known=True, house_id="lindenhof", house_chat=True))
    housemessages.perform(session, call, DraftHouseMessage("house_message", recording, "en"), context, now)
    session.execute(update(HouseMessage).where(HouseMessage.recording_ref == recording)
                    .values(status="ready", transcript=words))  # as the worker's transcription leaves it
    if answer is not None:
        housemessages.perform(session, call, answer("house_message", recording), context, now)
    else:
        call.status = "ended"  # she hung up during the read-back


def test_a_confirmed_message_is_posted_once_with_its_audio_and_unconfirmed_ones_appear_nowhere(
        synapse, hotline_account, web_app, worker_sessions, tmp_path, monkeypatch):
    petra = synapse.register("petra", displayname="Petra")
    room = synapse.api(petra, "POST", "/createRoom", json={"name": "Lindenhof",
                                                           "invite": [hotline_account.user_id]})["room_id"]
    settings = web_app.config["HAUSRUF"]
    now = datetime.now(timezone.utc)
    wav = tmp_path / "m.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(wav), "Who has some flour for me"], check=True, timeout=30)
    with worker_sessions() as session:
        session.execute(update(House).where(House.id == "lindenhof").values(chat_room=room))
        collins = session.scalar(select(Tenant).where(Tenant.last_name == "Collins"))
        for sid, recording, words, answer in (
                ("CA1", "RE" + "1" * 32, "Who has some flour for me", SendHouseMessage),
                ("CA2", "RE" + "2" * 32, "A secret I took back", DiscardHouseMessage),
                ("CA3", "RE" + "3" * 32, "Half a thought before hanging up", None)):
            draft(session, collins, sid, recording, words, now, answer)
            local_path(settings, recording).parent.mkdir(parents=True, exist_ok=True)
            local_path(settings, recording).write_bytes(wav.read_bytes())
        session.commit()

    # The worker dies between posting and recording the post: the next pass posts nothing new.
    def crash(*args, **kwargs):
        raise SystemExit("killed between send and record")

    crashed = worker_jobs(settings)
    with monkeypatch.context() as patch:
        patch.setattr(housemessages, "record_posted", crash)
        with pytest.raises(SystemExit):
            crashed.house_messages(now=now)
    crashed.channel.matrix.client.close()
    jobs = worker_jobs(settings)  # a restarted worker: a new client, the same device and access token
    assert jobs.house_messages(now=now) == 1
    assert jobs.house_messages(now=now) == 0
    jobs.channel.matrix.client.close()

    events = synapse.api(petra, "GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": 50})["chunk"]
    messages = [e for e in reversed(events) if e["type"] == "m.room.message"]
    assert [(m["content"]["msgtype"], m["content"]["body"]) for m in messages] == [
        ("m.text", "Mrs Collins (am Telefon): Who has some flour for me"),
        ("m.audio", "Sprachnachricht von Mrs Collins")]
    assert messages[1]["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == messages[0]["event_id"]
    server, media = messages[1]["content"]["url"].removeprefix("mxc://").split("/")
    audio = requests.get(f"{synapse.url}/_matrix/client/v1/media/download/{server}/{media}",
                         headers={"Authorization": f"Bearer {petra.access_token}"}, timeout=30)
    assert audio.status_code == 200 and audio.content == wav.read_bytes()

    with worker_sessions() as session:
        rows = session.scalars(select(HouseMessage)).all()
        assert [(r.status, r.event_ids.split()) for r in rows] == [
            ("posted", [messages[0]["event_id"], messages[1]["event_id"]])]
        # Kept for her "Neues aus dem Haus": a neighbour's answer to it reaches her first.
        post = session.scalar(select(HouseChatMessage).where(HouseChatMessage.event_id == messages[0]["event_id"]))
        assert post.tenant_id == collins.id and post.from_hotline
    assert not local_path(settings, "RE" + "2" * 32).exists() and not local_path(settings, "RE" + "3" * 32).exists()
