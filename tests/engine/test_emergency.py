"""The emergency path does what it must: the advice first, however it is reached; never a dial to 110 or 112."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.engine import (
    CallContext, Caller, CallStarted, CallState, Dial, DigitsPressed, NoInput, Outcome, Say, ServiceStatus, advance,
)
from ivr.engine.emergency import is_emergency_number
from ivr.flows.loader import parse_flow_text

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ADVICE = "Wenn Sie in Gefahr sind: Legen Sie auf und wählen Sie 112."
FLOW = f"""
version: 1
name: t
language: de
start: menu
defaults: {{retries: 0}}
globals:
  person: {{key: "0", keywords: [mensch], goto: staff}}
  emergency: {{key: "9", keywords: [notfall], say: "Im Notfall: die 9.", advice: "{ADVICE}", goto: sos}}
nodes:
  menu:
    kind: menu
    prompt: "Bitte wählen."
    options:
      - {{key: "1", label: Eins, keywords: [eins], goto: staff}}
    no_input: {{then: sos}}
    no_match: {{then: staff}}
  sos:
    kind: connect
    target: {{service: home_emergency}}
    prompt: "Ich verbinde Sie mit dem Hausnotruf."
    fallback: staff
  staff: {{kind: connect, target: staff, fallback: bye}}
  bye: {{kind: hangup}}
"""


@pytest.fixture(scope="module")
def flow():
    flow, problems = parse_flow_text(FLOW, "t.yaml")
    assert flow is not None, [str(p) for p in problems]
    return flow


def context(partner_number: str = "+4930555001", staff: str = "+4930999000") -> CallContext:
    partner = ServiceStatus(kind="home_emergency", status="open", partner_name="Hausnotruf", numbers=(partner_number,))
    return CallContext(now=NOW, caller=Caller(), services={"home_emergency": partner}, staff_number=staff)


def spoken(actions) -> list[str]:
    return [segment for action in actions if isinstance(action, Say) for segment in action.segments]


@pytest.mark.parametrize("event", [DigitsPressed("9"), NoInput()], ids=["emergency key", "a goto from a retry"])
def test_the_advice_comes_first_however_the_path_is_reached(flow, event):
    state, _ = advance(flow, CallState(), CallStarted(), context())
    state, actions = advance(flow, state, event, context())
    said = [a for a in actions if not isinstance(a, Outcome)]
    assert said[0] == Say((ADVICE,), "de")
    assert said[1:] == [Say(("Ich verbinde Sie mit dem Hausnotruf.",), "de"),
                        Dial(node="sos", target="partner:Hausnotruf", numbers=("+4930555001",), whisper="",
                             language="de", timeout_seconds=30)]


@pytest.mark.parametrize("number", ["112", "+49112", "+49 110"])
def test_a_directory_number_that_is_110_or_112_is_never_dialed(flow, number):
    state, _ = advance(flow, CallState(), CallStarted(), context(partner_number=number))
    state, actions = advance(flow, state, DigitsPressed("9"), context(partner_number=number))
    assert Outcome("emergency_number_refused", "partner:Hausnotruf") in actions
    dials = [a for a in actions if isinstance(a, Dial)]
    assert dials == [Dial(node="staff", target="staff", numbers=("+4930999000",), whisper="", language="de",
                          timeout_seconds=30)]


@pytest.mark.parametrize("number, emergency", [
    ("112", True), ("110", True), ("+49112", True), ("0049 110", True), ("+43 112", True),
    ("+4930112", False), ("+49301120", False), ("0301 12", False), ("+4930555001", False),
])
def test_emergency_numbers_are_recognised_in_any_writing(number, emergency):
    assert is_emergency_number(number) is emergency
