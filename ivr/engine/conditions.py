"""Evaluate a condition node's test against the call context (caller facts and the moment)."""

from __future__ import annotations

from ivr.engine.context import CallContext
from ivr.flows.model import Test


def holds(test: Test, context: CallContext, answers: dict | None = None) -> bool:
    """True when the test is met for this caller now (and, for answer tests, with these answers)."""
    caller = context.caller
    if test.kind == "answer":
        name, expected = test.value
        given = (answers or {}).get(name)
        values = given if isinstance(given, (list, tuple)) else (given,)
        return any(str(v) in expected for v in values if v is not None)
    if test.kind == "known":
        return caller.known == bool(test.value)
    if test.kind == "house_chat":
        return caller.house_chat == bool(test.value)
    if test.kind == "house":
        return caller.house_id in test.value
    if test.kind == "region":
        return caller.region_id in test.value
    if test.kind == "language":
        return (caller.language or "") in test.value
    if test.kind == "hours":
        # The context's `now` is already in the cooperative's time zone (the adapter's job).
        return test.value.is_open(context.now.replace(tzinfo=None), holiday=context.public_holiday)
    if test.kind == "service_available":
        return context.service(test.value).status != "unavailable"
    if test.kind == "service_open":
        return context.service(test.value).status == "open"
    raise ValueError(f"unknown test kind {test.kind!r}")
