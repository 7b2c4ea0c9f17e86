"""Several numbers, several flows: HAUSRUF_NUMBERS maps the number that was called to the flow that answers.

    HAUSRUF_NUMBERS=+4927150000001=hotline,+4927150000002=wohnen

Numbers may be written in any usual form; unmapped numbers (and calls whose called number is not
known) get HAUSRUF_FLOW. Every flow named must exist: the server refuses to start otherwise.
"""

from __future__ import annotations

import re

from ivr.directory.phones import PhoneNumberError, caller_number, normalise

EXAMPLE = "+4927150000001=hotline,+4927150000002=wohnen"
_FLOW_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_numbers(text: str | None) -> dict[str, str]:
    """'NUMBER=FLOW,NUMBER=FLOW' -> {E.164 number: flow name}; ValueError saying what is wrong and the form.

    The settings registry (ivr.config) names the variable and its value in front of the message.
    """
    mapping: dict[str, str] = {}
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        number, sep, flow = (p.strip() for p in item.partition("="))
        if not sep or not number or not flow:
            raise ValueError(f"{item!r} is not NUMBER=FLOW; write it like {EXAMPLE}")
        try:
            e164 = normalise(number)
        except PhoneNumberError as exc:
            raise ValueError(str(exc)) from None
        if not _FLOW_NAME.match(flow):
            raise ValueError(f"{flow!r} is not a flow name; use the `name:` of a flow file, like hotline or wohnen")
        if e164 in mapping and mapping[e164] != flow:
            raise ValueError(f"{number} is mapped twice ({mapping[e164]} and {flow})")
        mapping[e164] = flow
    return mapping


def flow_for(numbers: dict[str, str], default_flow: str, called: str | None) -> str:
    """The flow that answers a call to `called` (any formatting)."""
    return numbers.get(caller_number(called) or "", default_flow)


def missing_flows(numbers: dict[str, str], known: set[str]) -> str | None:
    """What is wrong when a mapped number's flow does not exist (None when every flow does)."""
    missing = [f"{number} should be answered by flow '{flow}', which does not exist"
               for number, flow in sorted(numbers.items()) if flow not in known]
    if not missing:
        return None
    return f"{'; '.join(missing)}; allowed: {', '.join(sorted(known)) or '(no flows)'}"
