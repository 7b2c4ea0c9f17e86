"""Engine actions as plain lines of text: what the caller hears and what the hotline does."""

from __future__ import annotations

from ivr.engine.actions import (Action, Ask, BookCallback, Dial, DiscardHouseMessage, DraftHouseMessage, Hangup,
                                Outcome, Poll, Record, Say, SendHouseMessage)
from ivr.engine.context import Caller
from ivr.housing.actions import BookProjectCallback, HousingMatched, SendDetails


def describe_caller(number: str, caller: Caller) -> str:
    """First line of a simulated call."""
    if not caller.known:
        return f"call from {number}: unknown caller"
    place = ", ".join(p for p in (caller.house_name, caller.region_name) if p)
    return f"call from {number}: {caller.salutation or caller.first_name} ({place}), language {caller.language}"


def describe(action: Action) -> list[str]:
    """Lines for one action; outcomes are shown indented as the hotline's bookkeeping."""
    if isinstance(action, Say):
        return [f"hotline says: {segment}" for segment in action.segments]
    if isinstance(action, Ask):
        lines = [f"hotline says: {segment}" for segment in action.segments]
        keys = " ".join(action.keys)
        words = ", ".join(action.phrases)
        lines.append(f"hotline listens [{action.node}]: keys {keys}; words {words}; waits {action.timeout_seconds} s")
        return lines
    if isinstance(action, Dial):
        return [f"hotline dials {action.target} ({', '.join(action.numbers)}), rings {action.timeout_seconds} s",
                f"  whisper to callee: {action.whisper or '-'}"]
    if isinstance(action, Record):
        return [f"hotline records a message [{action.node}], up to {action.max_seconds} s"]
    if isinstance(action, BookCallback):
        extra = " with the recorded message" if action.recording else ""
        return [f"hotline books a callback for {action.audience}: {action.topic}{extra}"]
    if isinstance(action, Hangup):
        return ["hotline hangs up"]
    if isinstance(action, HousingMatched):
        stored = "answers stored (consent given)" if action.keep else "nothing stored (no consent)"
        return [f"hotline counts the enquiry anonymously; {stored}"]
    if isinstance(action, SendDetails):
        return [f"hotline sends the details by SMS: {', '.join(action.projects)}"]
    if isinstance(action, BookProjectCallback):
        whom = f"the contact of {action.project}" if action.project else "staff"
        return [f"hotline books a callback for {whom}, with the caller's answers"]
    if isinstance(action, DraftHouseMessage):
        return ["hotline keeps the message as a draft; the worker transcribes it (here: the typed words)"]
    if isinstance(action, Poll):
        return [f"hotline waits {action.seconds} s for the transcript"] if action.seconds else []
    if isinstance(action, SendHouseMessage):
        return ["hotline posts the message to the house chat room (the worker, with the recording)"]
    if isinstance(action, DiscardHouseMessage):
        return ["hotline deletes the draft: nothing is posted"]
    if isinstance(action, Outcome):
        detail = f" {action.detail}" if action.detail else ""
        return [f"  outcome: {action.kind}{detail}"]
    return [repr(action)]
