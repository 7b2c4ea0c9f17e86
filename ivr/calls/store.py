"""The call rows a step reads and writes, through the ORM: find a call, store a step with its audit event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import Call, CallEvent


def find_call(session: Session, provider: str, provider_call_id: str) -> Call | None:
    """The call the provider knows by provider_call_id, or None."""
    return session.scalar(select(Call).where(Call.provider == provider, Call.provider_call_id == provider_call_id))


def record_step(session: Session, call: Call, now: datetime, kind: str, node: str | None, detail: str,
                outcome: str, changes: dict) -> None:
    """Change the call and add its audit event; the caller commits both in one transaction.

    The ORM's version_id_col turns the UPDATE into "... WHERE version = <the version read>", so a
    call changed meanwhile raises StaleDataError at the flush instead of being overwritten.
    """
    for name, value in changes.items():
        setattr(call, name, value)
    call.last_update = now
    if call.id is None:  # a new call: its INSERT gives the id the event refers to
        session.add(call)
        session.flush()
    # By id, not through Call.events: appending to that collection would load every earlier event.
    session.add(CallEvent(call_id=call.id, at=now, kind=kind, node=node, detail=detail[:500], outcome=outcome))
