"""The engine, fed event by event, compared action by action; inline YAML through the loader's inner layer."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.engine import (
    Ask, BookCallback, CallContext, Caller, CallerHungUp, CallStarted, CallState, Dial, DialFinished,
    DigitsPressed, Hangup, NoInput, Outcome, Record, RecordingFinished, Say, ServiceStatus, WordsSpoken,
    advance,
)
from ivr.flows.loader import parse_flow_text

BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY_10 = datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN)

FLOW = """
version: 1
name: t
language: de
start: hello
defaults: {timeout: 7, retries: 1}
globals:
  person: {key: "0", keywords: [mensch], say: "Mensch: die 0.", goto: staff}
  emergency: {key: "9", keywords: [notfall], say: "Notfall: die 9.", advice: "Legen Sie auf und wählen Sie 112.", goto: sos}
nodes:
  hello:
    kind: condition
    branches:
      - if: {known: true}
        goto: greet
    else: menu
  greet: {kind: say, prompt: "Guten Tag, {{ caller.salutation }}.", next: menu}
  menu:
    kind: menu
    prompt: "Bitte wählen."
    options:
      - {key: "1", label: Einkauf, keywords: [einkauf], synonyms: [lebensmittel], say: "Einkauf: die 1.", service: groceries, goto: shop}
      - {key: "2", label: Essen, keywords: [essen], say: "Essen: die 2.", service: meals, goto: shop_meals}
      - {key: "5", label: Technik, keywords: [technik], say: "Technik: die 5.", goto: it}
    no_input: {prompt: "Ich habe nichts gehört.", then: staff}
    no_match: {prompt: "Nicht verstanden.", then: staff}
  shop:
    kind: connect
    target: {service: groceries}
    prompt: "Ich verbinde mit {{ service.partner_name }}."
    unavailable: nope
    closed: closed
    fallback: nope
  shop_meals:
    kind: connect
    target: {service: meals}
    unavailable: nope
    closed: closed
    fallback: nope
  closed: {kind: say, prompt: "{{ service.partner_name }} hat zu. Offen {{ service.hours_text }}.", next: bye}
  nope: {kind: say, prompt: "Geht leider nicht.", next: bye}
  it: {kind: callback, for: volunteers, topic: "Technik", prompt: "Wir rufen zurück.", next: note}
  note: {kind: message, prompt: "Sagen Sie, worum es geht.", for: volunteers, topic: "Technik", next: bye}
  staff:
    kind: connect
    target: staff
    whisper: "Anruf vom Haustelefon{% if caller.known %}: {{ caller.salutation }}{% endif %}"
    fallback: bye
  sos: {kind: say, prompt: "Wählen Sie eins eins zwei.", next: menu}
  bye: {kind: hangup, prompt: "Auf Wiederhören."}
"""


@pytest.fixture(scope="module")
def flow():
    flow, problems = parse_flow_text(FLOW, "inline.yaml")
    assert flow is not None, [str(p) for p in problems]
    return flow


def known_caller(**services) -> CallContext:
    statuses = {
        kind: ServiceStatus(kind=kind, status=status, partner_name=f"P-{kind}", numbers=("+4930111",),
                            whisper=f"Hausruf für {kind}", hours_text="montags von 8 bis 9 Uhr")
        for kind, status in {"groceries": "open", "meals": "open", **services}.items()
    }
    caller = Caller(number="+4930999", known=True, salutation="Frau Becker", house_id="linde", language="de")
    return CallContext(now=WEDNESDAY_10, caller=caller, services=statuses, staff_number="+4930222")


def start(flow, context):
    return advance(flow, CallState(), CallStarted(), context)


def test_known_caller_is_greeted_by_name_and_hears_the_menu(flow):
    state, actions = start(flow, known_caller())
    assert actions == [
        Say(("Guten Tag, Frau Becker.",), "de"),
        Ask(node="menu", segments=("Bitte wählen.", "Einkauf: die 1.", "Essen: die 2.", "Technik: die 5.",
                                   "Mensch: die 0.", "Notfall: die 9."),
            language="de", timeout_seconds=7, keys=("1", "2", "5", "0", "9", "*"),
            phrases=("einkauf", "lebensmittel", "essen", "technik", "mensch", "notfall", "wiederholen",
                     "nochmal", "noch einmal")),
    ]
    assert (state.node, state.waiting) == ("menu", "menu")


def test_unknown_caller_skips_the_greeting(flow):
    context = CallContext(now=WEDNESDAY_10, services=known_caller().services)
    _, actions = start(flow, context)
    assert isinstance(actions[0], Ask)


def test_unavailable_option_is_not_offered_but_still_answers(flow):
    context = known_caller(meals="unavailable")
    state, actions = start(flow, context)
    assert "Essen: die 2." not in actions[-1].segments
    assert "2" in actions[-1].keys
    state, actions = advance(flow, state, DigitsPressed("2"), context)
    assert actions == [Outcome("service_unavailable", "meals"), Say(("Geht leider nicht.",), "de"),
                       Say(("Auf Wiederhören.",), "de"), Hangup()]
    assert state.finished


def test_key_connects_to_open_partner_with_whisper(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, DigitsPressed("1"), context)
    assert actions == [
        Say(("Ich verbinde mit P-groceries.",), "de"),
        Dial(node="shop", target="partner:P-groceries", numbers=("+4930111",), whisper="Hausruf für groceries",
             language="de", timeout_seconds=30),
    ]
    assert state.waiting == "dial"
    state, actions = advance(flow, state, DialFinished("completed", 95), context)
    assert actions == [Outcome("connected", "groceries", (("seconds", "95"),)), Hangup()]
    assert state.finished


def test_spoken_synonym_picks_the_option_forgiving_case(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, WordsSpoken("Lebensmittel"), context)
    assert isinstance(actions[-1], Dial) and actions[-1].target == "partner:P-groceries"


def test_closed_partner_speaks_its_hours(flow):
    context = known_caller(groceries="closed")
    state, _ = start(flow, context)
    state, actions = advance(flow, state, DigitsPressed("1"), context)
    assert Say(("P-groceries hat zu. Offen montags von 8 bis 9 Uhr.",), "de") in actions


def test_busy_partner_goes_to_fallback_not_dropped(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, _ = advance(flow, state, DigitsPressed("1"), context)
    state, actions = advance(flow, state, DialFinished("busy"), context)
    assert actions[0] == Outcome("dial_failed", "busy")
    assert Say(("Geht leider nicht.",), "de") in actions


def test_no_input_reasks_then_goes_to_a_person(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, NoInput(), context)
    assert actions[0].segments[0] == "Ich habe nichts gehört." and state.no_input == 1
    state, actions = advance(flow, state, NoInput(), context)
    assert actions[0] == Outcome("no_input_exhausted", "menu")
    assert isinstance(actions[-1], Dial) and actions[-1].target == "staff"
    assert actions[-1].whisper == "Anruf vom Haustelefon: Frau Becker"


def test_wrong_key_counts_as_no_match(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, DigitsPressed("7"), context)
    assert actions[0].segments[0] == "Nicht verstanden." and state.no_match == 1


def test_repeat_key_and_word_repeat_the_menu_without_counting(flow):
    context = known_caller()
    state, first = start(flow, context)
    state, actions = advance(flow, state, DigitsPressed("*"), context)
    assert actions == [first[-1]] and state.no_match == 0
    state, actions = advance(flow, state, WordsSpoken("nochmal"), context)
    assert actions == [first[-1]]


def test_emergency_is_reachable_from_every_menu_and_recorded(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, WordsSpoken("Notfall"), context)
    assert actions[:3] == [
        Outcome("emergency", "menu"),
        Say(("Legen Sie auf und wählen Sie 112.",), "de"),
        Say(("Wählen Sie eins eins zwei.",), "de"),
    ]


def test_it_help_books_volunteers_then_records_a_message(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, DigitsPressed("5"), context)
    assert actions[:2] == [BookCallback(node="it", audience="volunteers", topic="Technik"),
                           Outcome("callback", "volunteers", (("topic", "Technik"),))]
    assert actions[-1] == Record(node="note", max_seconds=60, language="de")
    state, actions = advance(flow, state, RecordingFinished("rec-1", 12), context)
    assert actions[0] == BookCallback(node="note", audience="volunteers", topic="Technik", recording="rec-1")
    assert actions[-1] == Hangup() and state.finished


def test_unknown_caller_callback_goes_to_staff(flow):
    context = CallContext(now=WEDNESDAY_10, services=known_caller().services, staff_number="+4930222")
    state, _ = start(flow, context)
    _, actions = advance(flow, state, DigitsPressed("5"), context)
    assert actions[0].audience == "staff"


def test_no_staff_number_falls_back_instead_of_dialling_nobody(flow):
    context = CallContext(now=WEDNESDAY_10, services=known_caller().services, staff_number=None)
    state, _ = start(flow, context)
    _, actions = advance(flow, state, DigitsPressed("0"), context)
    assert Outcome("no_number", "staff") in actions and actions[-1] == Hangup()


def test_state_survives_a_round_trip_through_plain_data(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, _ = advance(flow, state, NoInput(), context)
    plain = state.to_dict()
    assert plain == dataclasses.asdict(state) and json.loads(json.dumps(plain)) == plain
    plain["node"] = "elsewhere"  # a copy: changing it leaves the state alone
    again = CallState.from_dict(state.to_dict())
    assert again == state
    assert advance(flow, again, DigitsPressed("1"), context) == advance(flow, state, DigitsPressed("1"), context)


def test_evolve_is_dataclasses_replace_and_refuses_unknown_fields():
    state = CallState(node="main_menu", waiting="menu", no_input=1, steps=4, service="meals")
    changed = state.evolve(steps=5, waiting=None)
    assert changed == dataclasses.replace(state, steps=5, waiting=None) and changed is not state
    assert state.steps == 4 and hash(changed) == hash(dataclasses.replace(state, steps=5, waiting=None))
    with pytest.raises(dataclasses.FrozenInstanceError):
        changed.steps = 6  # still frozen
    with pytest.raises(TypeError, match="stepz"):
        state.evolve(stepz=5)


def test_hang_up_finishes_and_later_events_only_hang_up(flow):
    context = known_caller()
    state, _ = start(flow, context)
    state, actions = advance(flow, state, CallerHungUp(), context)
    assert state.finished and actions == []
    _, actions = advance(flow, state, DigitsPressed("1"), context)
    assert actions == [Hangup(outcome="already-finished")]


def test_engine_imports_no_framework():
    """The engine stays pure: run in a fresh interpreter so other tests' imports do not hide a leak."""
    import subprocess
    import sys

    code = ("import sys, ivr.engine; banned = ('flask', 'twilio', 'sqlalchemy', 'vosk', 'werkzeug');"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_resume_repeats_the_waiting_menu_without_counting(flow):
    from ivr.engine import Resume

    context = known_caller()
    state, first = start(flow, context)
    state, _ = advance(flow, state, NoInput(), context)
    again, actions = advance(flow, state, Resume(), context)
    assert actions == [first[-1]] and again.no_input == 1 and again.node == "menu"
