"""End-to-end encrypted rooms: the hotline reads a helper's encrypted reply and answers encrypted.

Both sides are real Matrix clients with their own device keys (matrix-nio with vodozemac); the
helper's client stands in for Element.
"""

from __future__ import annotations

import os

from ivr.telephony.matrix.client import MatrixClient
from ivr.telephony.matrix.settings import MatrixSettings


def test_the_hotline_reads_and_writes_an_encrypted_room_and_keeps_its_keys_private(synapse, hotline_account,
                                                                                   tmp_path):
    helper_account = synapse.register("sabine", displayname="Sabine")
    hotline = MatrixClient(MatrixSettings(homeserver=synapse.url, user=hotline_account.user_id,
                                          access_token=hotline_account.access_token), data_dir=tmp_path / "hotline")
    helper = MatrixClient(MatrixSettings(homeserver=synapse.url, user=helper_account.user_id,
                                         access_token=helper_account.access_token), data_dir=tmp_path / "helper")
    try:
        hotline.sign_in()  # uploads the hotline device's keys
        helper.sign_in()
        assert hotline.encrypted and helper.encrypted
        room = synapse.api(helper_account, "POST", "/createRoom", json={
            "name": "IT-Helfer", "invite": [hotline_account.user_id],
            "initial_state": [{"type": "m.room.encryption", "state_key": "",
                               "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]})["room_id"]
        hotline.join(room)
        start = hotline.sync(None, timeout_ms=0).next_batch
        helper.sync(None, timeout_ms=0)
        helper.send(room, {"msgtype": "m.text", "body": "ok 17"}, "helper-1")

        batch = hotline.sync(start, timeout_ms=5000)
        assert [(m.sender, m.body) for m in batch.messages] == [(helper_account.user_id, "ok 17")]
        assert batch.unreadable == []
        raw = synapse.api(helper_account, "GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": 5})
        assert {e["type"] for e in raw["chunk"] if e["sender"] == helper_account.user_id} >= {"m.room.encrypted"}

        hotline.send(room, {"msgtype": "m.text", "body": "Danke! #17 ist Ihre Aufgabe."}, "hotline-1")
        raw = synapse.api(helper_account, "GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": 5})
        mine = [e for e in raw["chunk"] if e["sender"] == hotline_account.user_id and e["type"].startswith("m.room.")
                and e["type"] != "m.room.member"]
        assert mine[0]["type"] == "m.room.encrypted"  # the server never sees the text
        seen = helper.sync(None, timeout_ms=0)
        assert ("Danke! #17 ist Ihre Aufgabe." in [m.body for m in seen.messages])
    finally:
        hotline.close()
        helper.close()
    keys = tmp_path / "hotline" / "matrix" / "keys"
    assert os.stat(keys).st_mode & 0o777 == 0o700 and any(keys.iterdir())
