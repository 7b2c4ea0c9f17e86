"""The loader builds exactly the dataclasses of ivr/flows/model.py, with defaults and lines filled in."""

from __future__ import annotations

import hashlib

import pytest

from ivr.flows.loader import parse_flow_text
from ivr.flows.model import (
    Branch,
    CallbackNode,
    ConditionNode,
    ConnectNode,
    GotoNode,
    HangupNode,
    MenuNode,
    MessageNode,
    Option,
    Prompt,
    Retry,
    SayNode,
    Target,
    Test as ConditionTest,
    Where,
)
from ivr.hours import OpeningHours

TEXT = """\
version: 1
name: hotline
language: de
start: hello
defaults: {timeout: 8, retries: 1, connect_timeout: 25}
globals:
  person: {key: 0, keywords: [mensch], synonyms: [person], goto: staff}
  emergency: {key: "9", keywords: [notfall], label: Notruf, say: "Notfall: die 9.", advice: "Legen Sie auf und wählen Sie 112.", goto: staff}
nodes:
  hello:
    kind: condition
    branches:
      - if: {house: [h1, h2]}
        goto: menu
      - if: {hours: "Mo-Fr 08:00-18:00"}
        goto: menu
    else: menu
  menu:
    kind: menu
    prompt: ["Guten Tag.", "Bitte wählen."]
    options:
      - {key: 1, label: Einkauf, keywords: [einkauf], synonyms: [essen], say: "Einkauf: die 1.", service: groceries, goto: shop}
    repeat_key: "#"
    no_input: {then: staff}
    no_match: {retries: 3, prompt: "Bitte noch einmal.", then: staff}
  shop: {kind: connect, target: {service: groceries}, fallback: staff, closed: later, unavailable: later}
  staff: {kind: connect, target: staff, timeout: 40, whisper: "Hausruf", fallback: later, next: bye}
  later: {kind: callback, for: staff, topic: Rückruf, next: note}
  note: {kind: message, prompt: "Bitte sprechen.", for: volunteers, topic: Nachricht, next: jump}
  jump: {kind: goto, target: bye}
  bye: {kind: hangup}
"""


@pytest.fixture(scope="module")
def flow():
    flow, problems = parse_flow_text(TEXT, "f.yaml")
    assert problems == []
    return flow


def at(line: int) -> Where:
    return Where("f.yaml", line)


def test_flow_carries_name_language_start_revision_and_text(flow):
    assert (flow.name, flow.language, flow.start, flow.where) == ("hotline", "de", "hello", at(2))
    assert flow.revision == hashlib.sha256(TEXT.encode()).hexdigest()[:16]
    assert flow.text == TEXT
    assert list(flow.nodes) == ["hello", "menu", "shop", "staff", "later", "note", "jump", "bye"]


def test_globals_are_options_with_a_default_label(flow):
    assert flow.globals == {
        "person": Option(key="0", label="person", goto="staff", where=at(7), keywords=("mensch",), synonyms=("person",)),
        "emergency": Option(
            key="9", label="Notruf", goto="staff", where=at(8), keywords=("notfall",),
            say=Prompt(("Notfall: die 9.",), at(8)), advice=Prompt(("Legen Sie auf und wählen Sie 112.",), at(8)),
        ),
    }


def test_condition_converts_lists_and_opening_hours(flow):
    assert flow.node("hello") == ConditionNode(
        id="hello",
        where=at(10),
        branches=(
            Branch(ConditionTest("house", ("h1", "h2"), at(13)), "menu", at(13)),
            Branch(ConditionTest("hours", OpeningHours.parse("Mo-Fr 08:00-18:00"), at(15)), "menu", at(15)),
        ),
        otherwise="menu",
    )


def test_menu_takes_flow_defaults_and_its_own_values(flow):
    assert flow.node("menu") == MenuNode(
        id="menu",
        where=at(18),
        prompt=Prompt(("Guten Tag.", "Bitte wählen."), at(20)),
        options=(
            Option(
                key="1", label="Einkauf", goto="shop", where=at(22), keywords=("einkauf",), synonyms=("essen",),
                say=Prompt(("Einkauf: die 1.",), at(22)), service="groceries",
            ),
        ),
        timeout=8,
        no_input=Retry(retries=1, then="staff", where=at(24)),
        no_match=Retry(retries=3, then="staff", where=at(25), prompt=Prompt(("Bitte noch einmal.",), at(25))),
        repeat_key="#",
    )


def test_connect_nodes(flow):
    assert flow.node("shop") == ConnectNode(
        id="shop", where=at(26), target=Target("service", "groceries", at(26)), fallback="staff",
        timeout=25, closed="later", unavailable="later",
    )
    assert flow.node("staff") == ConnectNode(
        id="staff", where=at(27), target=Target("staff", None, at(27)), fallback="later", timeout=40,
        whisper=Prompt(("Hausruf",), at(27)), next="bye",
    )


def test_callback_message_goto_hangup(flow):
    assert flow.node("later") == CallbackNode(
        id="later", where=at(28), audience="staff", topic="Rückruf", prompt=None, next="note"
    )
    assert flow.node("note") == MessageNode(
        id="note", where=at(29), prompt=Prompt(("Bitte sprechen.",), at(29)), audience="volunteers",
        topic="Nachricht", next="jump", max_seconds=60, no_input=None,
    )
    assert flow.node("jump") == GotoNode(id="jump", where=at(30), target="bye")
    assert flow.node("bye") == HangupNode(id="bye", where=at(31))


def test_number_target():
    text = TEXT.replace("target: staff,", 'target: {number: "+4930123456"},')
    flow, problems = parse_flow_text(text, "f.yaml")
    assert problems == []
    assert flow.node("staff").target == Target("number", "+4930123456", at(27))


def test_say_node_block_style_lines():
    text = TEXT.replace("  jump: {kind: goto, target: bye}\n", "  jump:\n    kind: say\n    prompt: Tschüss\n    next: bye\n")
    flow, _ = parse_flow_text(text, "f.yaml")
    assert flow.node("jump") == SayNode(id="jump", where=at(30), prompt=Prompt(("Tschüss",), at(32)), next="bye")
