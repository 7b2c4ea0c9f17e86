"""The house chat by phone: the room's news as sentences, a tenant's message posted with its recording."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone

from ivr.telephony.matrix.client import ChatMessage
from ivr.telephony.matrix.house import NewsSettings, news_sentences, post_for_tenant, read_house_news, spoken_day

ZONE = "Europe/Berlin"
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Wednesday, 10:00 in Berlin
HOTLINE = "@hausruf:talblick.example"


def message(event_id, sender, body, ago, msgtype="m.text", reply_to=None):
    return ChatMessage("!room", event_id, sender, body, msgtype, int((NOW - ago).timestamp() * 1000), reply_to)


def test_days_are_said_as_people_say_them():
    assert spoken_day(NOW - timedelta(hours=2), NOW, ZONE) == "Heute"
    assert spoken_day(datetime(2026, 3, 3, 23, 30, tzinfo=timezone.utc), NOW, ZONE) == "Heute"  # 00:30 local
    assert spoken_day(datetime(2026, 3, 3, 22, 30, tzinfo=timezone.utc), NOW, ZONE) == "Gestern"  # 23:30 local
    assert spoken_day(NOW - timedelta(days=1), NOW, ZONE) == "Gestern"
    assert spoken_day(NOW - timedelta(days=2), NOW, ZONE) == "Am Montag"
    assert spoken_day(NOW - timedelta(days=9), NOW, ZONE) == "Am 23. Februar"


def test_news_in_order_with_links_and_media_described_and_answers_to_her_first():
    names = {"@petra:x": "Petra", "@ali:x": "Ali Yilmaz"}
    messages = [
        message("$old", "@petra:x", "Vor zwei Wochen", timedelta(days=14)),
        message("$mine", HOTLINE, "Frau Becker (am Telefon): Wer hat ein Ei für mich", timedelta(days=2)),
        message("$1", "@petra:x", "Wer hat Mehl? Rezept hier: https://example.org/kuchen", timedelta(days=1)),
        message("$2", "@ali:x", "kuchen.jpg", timedelta(hours=3), msgtype="m.image"),
        message("$3", "@petra:x", "> <@hausruf:x> Wer hat ein Ei\n\nIch bringe Ihnen eins!", timedelta(hours=1),
                reply_to="$mine"),
        message("$4", "@tom:x", "Tischtennis um 5", timedelta(minutes=5)),
    ]
    assert news_sentences(messages, names, NOW, ZONE, HOTLINE, tenant_posts={"$mine"}) == [
        "Eine Antwort an Sie. Heute schrieb Petra: Ich bringe Ihnen eins!",
        "Gestern schrieb Petra: Wer hat Mehl? Rezept hier: einen Link.",
        "Heute schickte Ali Yilmaz: ein Bild.",
        "Heute schrieb tom: Tischtennis um 5.",
    ]
    # Another tenant hears Frau Becker's message as hers, and only the newest two.
    assert news_sentences(messages, names, NOW, ZONE, HOTLINE, settings=NewsSettings(messages=2, days=7)) == [
        "Heute schrieb Petra: Ich bringe Ihnen eins!", "Heute schrieb tom: Tischtennis um 5."]
    assert news_sentences(messages[:2], names, NOW, ZONE, HOTLINE) == [
        "Am Montag schrieb Frau Becker am Telefon: Wer hat ein Ei für mich."]


def spoken_wav(tmp_path, text: str) -> bytes:
    path = tmp_path / "nachricht.wav"
    subprocess.run(["espeak-ng", "-v", "de", "-w", str(path), text], check=True, timeout=30)
    return path.read_bytes()


def test_a_confirmed_message_appears_in_the_house_room_with_its_recording_once(synapse, matrix_client,
                                                                               hotline_account, tmp_path):
    petra = synapse.register("petra", displayname="Petra")
    room = synapse.api(petra, "POST", "/createRoom", json={"name": "Lindenhof",
                                                           "invite": [hotline_account.user_id]})["room_id"]
    audio = spoken_wav(tmp_path, "Wer hat ein Ei für mich?")
    posted = post_for_tenant(matrix_client, room, "Frau Becker", "Wer hat ein Ei für mich?", audio, "msg:7")
    assert post_for_tenant(matrix_client, room, "Frau Becker", "Wer hat ein Ei für mich?", audio, "msg:7") == posted
    events = synapse.api(petra, "GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": 20})["chunk"]
    messages = [e for e in reversed(events) if e["type"] == "m.room.message"]
    assert [m["content"]["msgtype"] for m in messages] == ["m.text", "m.audio"]
    assert messages[0]["content"]["body"] == "Frau Becker (am Telefon): Wer hat ein Ei für mich?"
    assert messages[1]["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == posted[0]
    server, media_id = messages[1]["content"]["url"].removeprefix("mxc://").split("/")
    import requests

    download = requests.get(f"{synapse.url}/_matrix/client/v1/media/download/{server}/{media_id}",
                            headers={"Authorization": f"Bearer {petra.access_token}"}, timeout=30)
    assert download.status_code == 200 and download.content == audio

    # Petra answers her; the messages of the room are read to the calling tenant, the answer first.
    synapse.api(petra, "PUT", f"/rooms/{room}/send/m.room.message/a1",
                json={"msgtype": "m.text", "body": "Tischtennis heute um 5?"})
    synapse.api(petra, "PUT", f"/rooms/{room}/send/m.room.message/a2",
                json={"msgtype": "m.text", "body": "Ich bringe Ihnen eins!",
                      "m.relates_to": {"m.in_reply_to": {"event_id": posted[0]}}})
    now = datetime.now(timezone.utc)
    assert read_house_news(matrix_client, room, now, ZONE, tenant_posts=set(posted)) == [
        "Eine Antwort an Sie. Heute schrieb Petra: Ich bringe Ihnen eins!",
        "Heute schrieb Petra: Tischtennis heute um 5?",
    ]
    # Another tenant hears Frau Becker's message once, as text (the recording is its attachment).
    assert read_house_news(matrix_client, room, now, ZONE) == [
        "Heute schrieb Frau Becker am Telefon: Wer hat ein Ei für mich?",
        "Heute schrieb Petra: Tischtennis heute um 5?",
        "Heute schrieb Petra: Ich bringe Ihnen eins!",
    ]
