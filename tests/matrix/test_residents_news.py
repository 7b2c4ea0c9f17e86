"""Residents by phone, "Neues aus dem Haus": the house_news node, its checks, the stored room, a real call.

Fast where the Matrix side is not the subject (the pure engine, `hausruf check`, the database, a
signed Twilio call that reads the database only); one test drives the worker's listener against
the session's real Synapse.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from ivr.db.models import House, HouseChatMessage, Tenant, TenantPhone
from ivr.directory.housechat import house_news, record_post, store_messages
from ivr.directory.importer import import_directory
from ivr.directory.routing import build_context
from ivr.engine import CallContext, CallStarted, Caller, CallState, DigitsPressed, Say, advance
from ivr.engine.actions import Ask, Outcome
from ivr.engine.housenews import NewsItem
from ivr.flows.housechat import check_house_chat
from ivr.flows.loader import parse_flow_text
from ivr.simulator.conversation import parse_tests
from ivr.telephony.matrix.client import ChatMessage
from tests.conftest import DEMO_DIR

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN)  # a Wednesday
HOTLINE = "@hausruf:talblick.example"
COLLINS = "+493023125303"  # Mrs Collins, Lindenhof: opted in to the house chat (data/demo)

FLOW = """\
version: 1
name: hotline
language: de
start: news
globals:
  person: {key: "0", keywords: [mensch], goto: person}
  emergency: {key: "9", keywords: [notfall], say: "Notfall: die 9.", advice: "Wählen Sie 112.", goto: person}
nodes:
  news:
    kind: house_news
    prompt: "Neues aus dem Haus."
    messages: 2
    days: 3
    empty: "Nichts Neues im Hauschat."
    no_chat: "Den Hauschat gibt es für Sie noch nicht."
    next: menu
    unavailable: bye
  menu:
    kind: menu
    prompt: "Noch einmal: die 1."
    options: [{key: "1", label: Nochmal, keywords: [hören], goto: news}]
    no_input: {then: bye}
    no_match: {then: bye}
  person: {kind: connect, target: staff, fallback: bye}
  bye: {kind: hangup, prompt: "Auf Wiederhören."}
"""


def flow(text: str = FLOW):
    loaded, problems = parse_flow_text(text, "flows/haus.yaml")
    assert [str(p) for p in problems] == []
    return loaded


def item(name, text, ago, **kw):
    return NewsItem(name, text, kw.pop("msgtype", "m.text"), NOW - ago, **kw)


def context(house_chat=True, news=()):
    caller = Caller(number="+4930555999", known=True, salutation="Frau Becker", house_id="lindenhof",
                    house_chat=house_chat)
    return CallContext(now=NOW, caller=caller, house_news=tuple(news))


def spoken(actions):
    return [segment for a in actions if isinstance(a, (Say, Ask)) for segment in a.segments]


def test_news_in_order_answers_first_within_the_window_then_the_menu():
    news = [item("Tom", "Flohmarkt", timedelta(days=5)),  # outside 3 days
            item("Petra", "Wer hat Mehl? https://example.org/x", timedelta(days=1)),
            item("Frau Becker", "Frau Becker (am Telefon): Wer hat ein Ei?", timedelta(days=2), from_hotline=True),
            item("Ali", "kuchen.jpg", timedelta(hours=3), msgtype="m.image"),
            item("Petra", "> <@hausruf> Wer hat ein Ei?\n\nIch bringe eins!", timedelta(hours=1),
                 answer_to_caller=True),
            item("Tom", "Tischtennis um 5", timedelta(minutes=5))]
    state, actions = advance(flow(), CallState(), CallStarted(), context(news=news))
    assert spoken(actions) == [
        "Neues aus dem Haus.",
        "Eine Antwort an Sie. Heute schrieb Petra: Ich bringe eins!",
        "Heute schickte Ali: ein Bild.",  # only the newest two others (messages: 2)
        "Heute schrieb Tom: Tischtennis um 5.",
        "Noch einmal: die 1.", "Notfall: die 9.",
    ]
    assert state.node == "menu" and Outcome("house_news", "3") in actions


def test_nothing_stored_and_no_house_chat_are_said_and_the_call_goes_on():
    _, actions = advance(flow(), CallState(), CallStarted(), context(news=[item("Tom", "alt", timedelta(days=9))]))
    assert spoken(actions) == ["Nichts Neues im Hauschat.", "Noch einmal: die 1.", "Notfall: die 9."]
    state, actions = advance(flow(), CallState(), CallStarted(), context(house_chat=False))
    assert spoken(actions) == ["Den Hauschat gibt es für Sie noch nicht.", "Auf Wiederhören."]
    assert state.finished


def test_again_reads_the_news_again():
    call = flow()
    state, _ = advance(call, CallState(), CallStarted(), context(news=[item("Tom", "Hallo", timedelta(hours=1))]))
    _, actions = advance(call, state, DigitsPressed("1"), context(news=[item("Tom", "Hallo", timedelta(hours=1))]))
    assert "Heute schrieb Tom: Hallo." in spoken(actions)


BAD_NODES = {
    "missing prompts": ("{kind: house_news, next: bye}", [
        "flows/haus.yaml:9: node 'news': missing required key 'empty' (said when the room had nothing in those days)",
        "flows/haus.yaml:9: node 'news': missing required key 'no_chat' (said when the caller has no house chat "
        "(not opted in, or the house has no chat room))",
    ]),
    "bad window": ('{kind: house_news, messages: 0, days: 40, empty: "x", no_chat: "y", next: nirgends}', [
        "flows/haus.yaml:9: node 'news' days: expected an integer from 1 to 31, got 40",
        "flows/haus.yaml:9: node 'news' messages: expected an integer from 1 to 10, got 0",
        "flows/haus.yaml:9: node 'news' next: unknown node 'nirgends'",
    ]),
    "unknown field": ('{kind: house_news, empty: "x", no_chat: "y", next: bye, count: 3}', [
        "flows/haus.yaml:9: node 'news': unknown key 'count'; expected one of: days, empty, kind, messages, next, no_chat, "
        "prompt, unavailable",
    ]),
}


@pytest.mark.parametrize("node, expected", BAD_NODES.values(), ids=BAD_NODES.keys())
def test_bad_fields_are_reported_with_file_and_line(node, expected):
    before, rest = FLOW.split("  news:\n")
    text = before + f"  news: {node}\n" + "  menu:\n" + rest.split("  menu:\n")[1]
    _, problems = parse_flow_text(text, "flows/haus.yaml")
    assert [str(p) for p in problems if p.severity == "error"] == expected


def test_check_notes_what_is_missing_when_matrix_is_not_configured(tmp_path, monkeypatch):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "haus.yaml").write_text(FLOW, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert check_house_chat(["flows"], matrix_enabled=False) == [
        "flows/haus.yaml:9: note: node 'news': the house chat is not configured (HAUSRUF_MATRIX_HOMESERVER is "
        "not set), so every caller hears its 'no_chat'; connect the hotline to the cooperative's Matrix server "
        "(README, \"Helpers in the cooperative's Matrix chat\"), give houses a 'chat_room' and tenants "
        "'house_chat: true'"]
    assert check_house_chat(["flows"], matrix_enabled=True) == []


def test_conversation_tests_check_their_chat_messages():
    text = """\
version: 1
tests:
  - name: t
    caller: {known: true, house_chat: true}
    chat:
      - {from: Petra, text: Hallo, kind: bild}
      - {text: ohne Absender}
      - {from: Tom, text: Hallo, at: gestern, seen: true}
    steps: [{press: "5"}]
"""
    tests, problems = parse_tests(text, "flows/tests/t.yaml")
    assert [str(p) for p in problems] == [
        "flows/tests/t.yaml:6: chat kind 'bild'; expected one of: text, image, file, audio, video, location",
        "flows/tests/t.yaml:7: a chat message needs 'from' and 'text'",
        "flows/tests/t.yaml:8: unknown chat key 'seen'; allowed: from, text, at, kind, answer, by_phone",
        "flows/tests/t.yaml:8: chat 'at' must look like '2026-03-04 10:00', got 'gestern'",
    ]


# -- the stored room: the worker writes, a call reads ---------------------------------------------

def chat(event_id, sender, body, sent, msgtype="m.text", reply_to=None, room="!lindenhof:x"):
    return ChatMessage(room, event_id, sender, body, msgtype, int(sent.timestamp() * 1000), reply_to)


@pytest.fixture
def demo(sessions):
    with sessions.begin() as session:
        import_directory(session, DEMO_DIR)
    return sessions


def test_the_room_is_kept_trimmed_and_read_back_with_answers_to_her_first(demo):
    now = NOW.astimezone(timezone.utc)
    with demo.begin() as session:
        collins = session.scalar(select(TenantPhone.tenant_id).where(TenantPhone.number == COLLINS))
        record_post(session, "lindenhof", "!lindenhof:x", "$hers", HOTLINE,
                    "Mrs Collins (am Telefon): Who has an egg?", collins, now - timedelta(days=2))
    names = {"@petra:x": "Petra"}
    messages = [chat("$old", "@petra:x", "Vor sechs Wochen", now - timedelta(days=40)),
                chat("$hers", HOTLINE, "Mrs Collins (am Telefon): Who has an egg?", now - timedelta(days=2)),
                chat("$audio", HOTLINE, "Sprachnachricht", now - timedelta(days=2), msgtype="m.audio"),
                chat("$1", "@petra:x", "Wer hat Mehl?", now - timedelta(days=1)),
                chat("$2", "@tom:x", "I'll bring one", now - timedelta(hours=1), reply_to="$hers")]
    with demo.begin() as session:
        assert store_messages(session, "lindenhof", messages, names, HOTLINE, now) == 2  # $hers was recorded
        assert store_messages(session, "lindenhof", messages, names, HOTLINE, now) == 0  # known: nothing doubled
    with demo() as session:
        rows = session.scalars(select(HouseChatMessage).order_by(HouseChatMessage.sent_at)).all()
        assert [(r.event_id, r.sender_name, r.tenant_id is not None) for r in rows] == [
            ("$hers", "hausruf", True), ("$1", "Petra", False), ("$2", "tom", False)]
        her = Caller(number=COLLINS, known=True, house_id="lindenhof", house_chat=True)
        assert [(n.sender_name, n.answer_to_caller) for n in house_news(session, her, now)] == [
            ("Petra", False), ("tom", True)]  # her own message is not read back to her
        neighbour = Caller(number="+493023125301", known=True, house_id="lindenhof", house_chat=True)
        assert [(n.body, n.from_hotline, n.answer_to_caller) for n in house_news(session, neighbour, now)] == [
            ("Mrs Collins (am Telefon): Who has an egg?", True, False), ("Wer hat Mehl?", False, False),
            ("I'll bring one", False, False)]
        assert house_news(session, Caller(number=COLLINS, known=True, house_id="lindenhof"), now) == ()


def test_the_callers_context_carries_the_opt_in_and_the_stored_room(demo):
    from ivr.config import Settings

    now = NOW.astimezone(timezone.utc)
    with demo.begin() as session:
        store_messages(session, "lindenhof", [chat("$1", "@petra:x", "Hallo", now)], {"@petra:x": "Petra"},
                       HOTLINE, now)
    with demo() as session:
        settings = Settings.from_env()
        collins = build_context(session, COLLINS, now, settings)
        assert collins.caller.house_chat and [n.body for n in collins.house_news] == ["Hallo"]
        becker = build_context(session, "+493023125301", now, settings)  # same house, not opted in
        assert not becker.caller.house_chat and becker.house_news == ()
        session.execute(update(House).values(chat_room=""))
        assert not build_context(session, COLLINS, now, settings).caller.house_chat  # no room, no chat


def test_a_signed_call_hears_the_stored_room_without_any_homeserver(tmp_path):
    """The webhook reads the database only: no Matrix settings at all, and the news is read."""
    from ivr.db import engine_of, get_session
    from ivr.wiring import hausruf
    from tests.support.apps import migrated_app
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, HOTLINE as NUMBER, PUBLIC_URL, WEDNESDAY_10, app_config
    from tests.twilio.conftest import load_demo_directory

    app = migrated_app(app_config(f"sqlite:///{tmp_path / 'hausruf.sqlite3'}", tmp_path))
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    with app.app_context():
        session = get_session()
        store_messages(session, "lindenhof", [
            chat("$1", "@petra:x", "Table tennis at five?", WEDNESDAY_10 - timedelta(hours=1)),
            chat("$2", "@ali:x", "plan.pdf", WEDNESDAY_10 - timedelta(days=1), msgtype="m.file")],
            {"@petra:x": "Petra", "@ali:x": "Ali"}, HOTLINE, WEDNESDAY_10)
        session.commit()
    try:
        call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=NUMBER).call(COLLINS)
        assert "For your house chat, press 5." in call.heard
        call.press("5")
        call.press("1")
        assert call.heard[:3] == ["News from the house.", "Yesterday Ali sent: a file.",
                                  "Today Petra wrote: Table tennis at five?"]
    finally:
        engine_of(app).dispose()


# -- the worker's listener keeps the house room, against the real Synapse ----------------------------

def test_the_listener_keeps_the_house_room_and_a_call_hears_it(synapse, matrix_client, hotline_account, demo):
    from ivr.tasks.config import TaskConfig
    from ivr.telephony.matrix.channel import MatrixChannel
    from ivr.telephony.matrix.house import HouseRooms
    from ivr.telephony.matrix.listener import MatrixListener

    petra = synapse.register("petra", displayname="Petra")
    room = synapse.api(petra, "POST", "/createRoom", json={"name": "Lindenhof",
                                                           "invite": [hotline_account.user_id]})["room_id"]
    with demo.begin() as session:
        session.execute(update(House).where(House.id == "lindenhof").values(chat_room=room))
    synapse.api(petra, "PUT", f"/rooms/{room}/send/m.room.message/n1", json={"msgtype": "m.text",
                                                                             "body": "Wer hat Mehl?"})
    later = [timedelta(0)]  # the listener's clock, moved on to when every room is read whole again
    listener = MatrixListener(MatrixChannel(matrix_client), demo, TaskConfig(),
                              clock=lambda: datetime.now(timezone.utc) + later[0])
    listener.run_once(timeout_ms=0)  # the first start: joins the house room and reads it whole
    synapse.api(petra, "PUT", f"/rooms/{room}/send/m.room.message/n2",
                json={"msgtype": "m.image", "body": "kuchen.jpg", "url": "mxc://x/y"})
    listener.run_once(timeout_ms=2000)  # a later sync: the room had news, it is read again
    now = datetime.now(timezone.utc)
    with demo() as session:
        rows = session.scalars(select(HouseChatMessage).order_by(HouseChatMessage.sent_at)).all()
        assert [(r.sender_name, r.body, r.msgtype, r.room_id) for r in rows] == [
            ("Petra", "Wer hat Mehl?", "m.text", room), ("Petra", "kuchen.jpg", "m.image", room)]
        first = rows[0].event_id
        collins = session.scalar(select(Tenant).where(Tenant.last_name == "Collins"))
        caller = Caller(number=COLLINS, known=True, house_id="lindenhof", house_chat=collins.house_chat)
        state, actions = advance(flow(), CallState(), CallStarted(),
                                 CallContext(now=now.astimezone(BERLIN), caller=caller,
                                             house_news=house_news(session, caller, now)))
    assert spoken(actions)[:3] == ["Neues aus dem Haus.", "Heute schrieb Petra: Wer hat Mehl?",
                                   "Heute schickte Petra: ein Bild."]

    # Petra deletes her question: at the next whole reading it is forgotten, the picture stays.
    synapse.api(petra, "PUT", f"/rooms/{room}/redact/{first}/r1", json={})
    later[0] = HouseRooms.REREAD_ALL
    listener.run_once(timeout_ms=0)
    with demo() as session:
        assert [r.body for r in session.scalars(select(HouseChatMessage))] == ["kuchen.jpg"]
