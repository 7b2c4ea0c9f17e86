"""Reply parsing: from what volunteers type to (intent, number)."""

from __future__ import annotations

import pytest

from ivr.tasks.replies import ParsedReply, parse_reply


@pytest.mark.parametrize("text, intent, number", [
    ("ok 17", "accept", 17), ("OK17", "accept", 17), ("ja 17", "accept", 17), ("nehme 17", "accept", 17),
    ("übernehme 17", "accept", 17), ("ubernehme17", "accept", 17), ("Übernehme #17!", "accept", 17),
    ("  Ok ,  17 !!", "accept", 17), ("okk 17", "accept", 17), ("0k 17", "accept", 17), ("Okay 17.", "accept", 17),
    ("yes 17", "accept", 17), ("👍 17", "accept", 17), ("ok", "accept", None), ("Ja gerne", "accept", None),
    ("erledigt 17", "done", 17), ("done 17", "done", 17), ("fertig 17", "done", 17), ("erledgt 17", "done", 17),
    ("fretig 17", "done", 17), ("ok erledigt 17", "done", 17), ("ERLEDIGT", "done", None),
    ("nein 17", "decline", 17), ("kann nicht 17", "decline", 17), ("no 17", "decline", 17),
    ("nien 17", "decline", 17), ("geht leider nicht 17", "decline", 17), ("can not 17", "decline", 17),
    ("keine Zeit 17", "decline", 17), ("ok kann nicht 17", "decline", 17), ("Nee", "decline", None),
    ("?", "help", None), ("hilfe", "help", None), ("help", "help", None), ("Hilfe 17", "help", 17),
    ("was?", "help", None),
    ("17", "unknown", None), ("hallo", "unknown", None), ("", "unknown", None), ("   ", "unknown", None),
    ("ob 17", "unknown", None),  # short words never guessed: "ob" is not "ok"
    # Only the number right after the command word names the task; any other number is ignored.
    ("ok, ich rufe um 77 Uhr an", "accept", None), ("ok, ich rufe Frau Becker um 77 Uhr an", "accept", None),
    ("ok 76, ich rufe um 77 Uhr an", "accept", 76), ("erledigt 76 - hat 20 Minuten gedauert", "done", 76),
    ("ja 17 ok 17", "accept", 17), ("ok 0301234567890", "accept", None),
])
def test_replies_are_read_forgivingly(text, intent, number):
    assert parse_reply(text) == ParsedReply(intent, number)


@pytest.mark.parametrize("text", ["ok 76 ok 77", "erledigt 76 und 77? nein, ok 77", "nein 3, ja 4"])
def test_two_named_numbers_are_ambiguous_and_act_on_neither(text):
    reply = parse_reply(text)
    assert reply.ambiguous and reply.number is None
