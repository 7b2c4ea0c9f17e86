"""Booking a callback task from a call (or a spooled missed call), with its first SMS in the same transaction."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ivr.db.models import Call, CallbackTask, TaskTransition
from ivr.directory.routing import find_caller
from ivr.engine.actions import BookCallback
from ivr.engine.context import Caller, CallContext
from ivr.tasks import escalation
from ivr.tasks.config import TaskConfig
from ivr.tasks.states import open_task
from ivr.tasks.texts import word

log = logging.getLogger("hausruf.tasks")

# Any constant works; it only has to be the same in every process that books tasks.
NUMBER_LOCK = 0x48415553  # "HAUS"
SPOOL_LOCK = 0x53504F4F  # "SPOO": one spool sweep at a time, across threads, processes and machines


def lock_spool(session: Session) -> None:
    """Hold the spool lock until the session's transaction ends (PostgreSQL advisory lock; SQLite write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SPOOL_LOCK})
    else:
        # The engine begins every transaction IMMEDIATE (ivr.db.engine): this first statement takes
        # SQLite's write lock, which the other sweeps wait for (busy timeout).
        session.execute(text("SELECT 1"))


def book_callback(session: Session, call: Call, action: BookCallback, context: CallContext,
                  now: datetime, config: TaskConfig | None = None) -> CallbackTask:
    """Create the call's task for action.audience (or attach a recording to it) and queue the first SMS.

    Runs inside the webhook's transaction and does not commit: the task, its transition and the SMS
    are stored together or not at all.
    """
    existing = session.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id,
                                                         CallbackTask.audience == action.audience))
    if existing is not None:
        # The flow books first and records a message after: one task per call and audience.
        if action.recording:
            existing.recording_ref = action.recording[:500]
        return existing
    if config is None:  # callers without the app's wiring (tests, tools)
        zone = getattr(context.now.tzinfo, "key", None) or "UTC"
        config = TaskConfig.from_env(context.staff_number, zone)
    task = _new_task(session, context.caller, action.audience, action.topic, now, call=call,
                     recording=action.recording)
    open_task(task, f"call {call.provider_call_id}", f"caller chose a callback in node {action.node}", now)
    session.flush()
    escalation.start(session, task, now, config)
    log.info("task #%s booked for %s (call %s)", task.number, action.audience, call.provider_call_id)
    return task


def book_spooled(session: Session, entries: list[dict], now: datetime, config: TaskConfig) -> list[CallbackTask]:
    """Staff callback tasks for calls that reached the hotline while the database was down (ivr.calls.spool)."""
    booked = []
    for entry in entries:
        # One task per call: every failing webhook of a call spools it again, and take_spooled hands
        # out entries again after a crash before finish_spooled.
        # Entries spooled before 0011_simple_call_path name the call by its Twilio "call_sid".
        call_id = entry.get("call_id") or entry.get("call_sid") or ""
        marker = f"spooled call {call_id}" if call_id else f"spooled call at {entry.get('at', '')}"
        if session.scalar(select(TaskTransition.id).where(TaskTransition.reason == marker)) is not None:
            continue
        caller = find_caller(session, entry.get("from"))
        if caller.number is None:
            caller = Caller(number=(entry.get("from") or "")[:20] or None)
        task = _new_task(session, caller, "staff", word("de", "missed"), now)
        open_task(task, "worker", marker, now)
        session.flush()
        escalation.start(session, task, now, config)
        booked.append(task)
    return booked


def _new_task(session: Session, caller: Caller, audience: str, topic: str, now: datetime,
              call: Call | None = None, recording: str | None = None) -> CallbackTask:
    name = caller.salutation or " ".join(p for p in (caller.first_name, caller.last_name) if p)
    task = CallbackTask(number=next_number(session), audience=audience, topic=topic[:100],
                        house_id=caller.house_id, tenant_id=call.tenant_id if call else None, call=call,
                        callback_number=caller.number or (call.from_number if call else "") or "",
                        caller_name=name[:200], recording_ref=recording[:500] if recording else None,
                        created_at=now, escalation_level=0)
    session.add(task)
    return task


def next_number(session: Session) -> int:
    """The next short public task number; concurrent bookings never get the same one.

    PostgreSQL: a transaction-scoped advisory lock serialises bookings until commit. SQLite: every
    transaction begins IMMEDIATE (ivr.db.engine), so writers are serialised already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBER_LOCK})
    return (session.scalar(select(func.max(CallbackTask.number))) or 0) + 1
