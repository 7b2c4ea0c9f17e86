"""Retention: calls, call events, finished tasks, SMS and transcripts older than HAUSRUF_RETENTION_DAYS go.

Recordings keep their own, shorter period (HAUSRUF_RECORDING_RETENTION_DAYS, ivr.calls.recordings).
The housing line's seekers (answers, possibly health data) go after HAUSRUF_RETENTION_DAYS too, and
so do the house rooms' messages the worker keeps (it trims them itself after 31 days).
The staff audit log has its own, longer period (HAUSRUF_AUDIT_RETENTION_DAYS, default 365): it is
what holds staff accountable for what they did with tenants' data (who closed, reassigned or deleted
what), and such questions (a complaint, the yearly review) come later than 90 days. So that it does
not keep personal data longer than the rest, an entry about a task loses its detail (a note may
name the caller) and its link to the task when the task itself is purged; who, when and what
action stays until the audit period ends.
Nothing an open task still needs is touched: tasks not finished (or finished within the period) and
SMS still waiting in the outbox stay. Every delete is a plain SQL statement with its count, so
`hausruf purge --dry-run` reports exactly what `hausruf purge` would remove.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ivr.db.models import (Call, CallbackTask, CallEvent, HouseChatMessage, HouseMessage, SmsMessage, StaffAuditEntry,
                           TaskTransition)
from ivr.housing.models import HousingSeeker

log = logging.getLogger("hausruf.privacy")
# Tasks in these states are finished for retention: nobody acts on them any more.
FINISHED_STATES = ("done", "cancelled", "expired")
PENDING_SMS = ("queued", "sending")
DEFAULT_AUDIT_RETENTION_DAYS = 365  # ivr.config: HAUSRUF_AUDIT_RETENTION_DAYS


@dataclass
class PurgeReport:
    """What a purge removed (or, dry, would remove)."""

    calls: int = 0
    call_events: int = 0
    tasks: int = 0
    task_transitions: int = 0
    sms: int = 0
    housing_seekers: int = 0
    house_chat_messages: int = 0  # the house rooms as the worker keeps them (it trims them itself after 31 days)
    audit_entries: int = 0  # older than the audit period: deleted
    audit_details_cleared: int = 0  # about a task purged now: detail and task link removed
    recordings: int = 0
    personal_prompts: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{f.name.replace('_', ' ')}: {getattr(self, f.name)}" for f in fields(self))


def purge(session: Session, now: datetime, days: int, dry_run: bool = False,
          audit_days: int = DEFAULT_AUDIT_RETENTION_DAYS) -> PurgeReport:
    """Delete what is older than days (the audit log: audit_days); with dry_run only count. The caller commits."""
    cutoff = now - timedelta(days=days)
    # No call lasts days (Twilio ends calls after 4 hours), so age alone decides, whatever status was last stored.
    old_calls = select(Call.id).where(Call.started_at < cutoff)
    # A finished task's age is its last change: one finished yesterday stays, however old it is.
    last_change = (select(TaskTransition.task_id).group_by(TaskTransition.task_id)
                   .having(func.max(TaskTransition.at) >= cutoff))
    old_tasks = select(CallbackTask.id).where(CallbackTask.state.in_(FINISHED_STATES),
                                              CallbackTask.created_at < cutoff,
                                              CallbackTask.id.not_in(last_change))
    old_sms = select(SmsMessage.id).where(SmsMessage.created_at < cutoff, SmsMessage.status.not_in(PENDING_SMS))
    old_sms = old_sms.union(select(SmsMessage.id).where(SmsMessage.task_id.in_(old_tasks)))
    report = PurgeReport(
        calls=_count(session, old_calls),
        call_events=_count(session, select(CallEvent.id).where(CallEvent.call_id.in_(old_calls))),
        tasks=_count(session, old_tasks),
        task_transitions=_count(session, select(TaskTransition.id).where(TaskTransition.task_id.in_(old_tasks))),
        sms=_count(session, old_sms),
    )
    old_seekers = select(HousingSeeker.id).where(HousingSeeker.created_at < cutoff)
    report.housing_seekers = _count(session, old_seekers)
    old_chat = select(HouseChatMessage.id).where(HouseChatMessage.sent_at < cutoff)
    report.house_chat_messages = _count(session, old_chat)
    old_audit = select(StaffAuditEntry.id).where(StaffAuditEntry.at < now - timedelta(days=audit_days))
    report.audit_entries = _count(session, old_audit)
    # The console names a task "task #<number>" in the audit log (ivr.console.tasks).
    task_targets = [f"task #{n}" for n in session.scalars(select(CallbackTask.number).where(
        CallbackTask.id.in_(old_tasks)))]
    about_old_tasks = select(StaffAuditEntry.id).where(StaffAuditEntry.target.in_(task_targets),
                                                       StaffAuditEntry.id.not_in(old_audit))
    report.audit_details_cleared = _count(session, about_old_tasks)
    if dry_run:
        return report
    options = {"synchronize_session": False}
    session.execute(delete(HousingSeeker).where(HousingSeeker.id.in_(old_seekers)), execution_options=options)
    session.execute(delete(HouseChatMessage).where(HouseChatMessage.id.in_(old_chat)), execution_options=options)
    session.execute(delete(StaffAuditEntry).where(StaffAuditEntry.id.in_(old_audit)), execution_options=options)
    # Task numbers are reused once every task is gone: "(purged)" keeps an old entry off the new task.
    session.execute(update(StaffAuditEntry).where(StaffAuditEntry.target.in_(task_targets))
                    .values(target=StaffAuditEntry.target + " (purged)", detail=""), execution_options=options)
    # Children first: both databases cascade, but a SQLite connection with foreign keys off would not.
    session.execute(delete(TaskTransition).where(TaskTransition.task_id.in_(old_tasks)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(SmsMessage).where(SmsMessage.id.in_(old_sms)), execution_options={"synchronize_session": False})
    session.execute(delete(CallbackTask).where(CallbackTask.id.in_(old_tasks)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(CallEvent).where(CallEvent.call_id.in_(old_calls)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(HouseMessage).where(HouseMessage.call_id.in_(old_calls)),
                    execution_options={"synchronize_session": False})
    session.execute(delete(Call).where(Call.id.in_(old_calls)), execution_options={"synchronize_session": False})
    return report


def _count(session: Session, ids) -> int:
    return session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def purge_all(settings, now: datetime, dry_run: bool = False) -> PurgeReport:
    """Apply both retention periods: the database (HAUSRUF_RETENTION_DAYS) and local recordings."""
    from ivr.calls.recordings import purge_recordings, retention_days
    from ivr.db.engine import make_engine, session_factory
    from ivr.db.migrate import upgrade

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            report = purge(session, now, settings.retention_days, dry_run, settings.audit_retention_days)
            if not dry_run:
                session.commit()
    finally:
        engine.dispose()
    if dry_run:
        report.recordings = _old_recordings(settings, now, retention_days())
    else:
        report.recordings = purge_recordings(settings, now)
    report.personal_prompts = purge_personal_prompts(settings, now, settings.retention_days, dry_run)
    if not dry_run:
        log.info("retention purge: %s", report)
    return report


def purge_personal_prompts(settings, now: datetime, days: int, dry_run: bool = False) -> int:
    """Delete rendered sentences that speak someone's name once they are older than the period."""
    from ivr.privacy.personal import FOLDER

    folder = Path(settings.prompts_dir) / FOLDER
    cutoff = now.timestamp() - days * 86400
    old = [p for p in folder.rglob("*.wav") if p.stat().st_mtime < cutoff] if folder.is_dir() else []
    if not dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    return len(old)


def _old_recordings(settings, now: datetime, days: int) -> int:
    folder = settings.recordings_dir
    cutoff = now.timestamp() - days * 86400
    return sum(1 for path in folder.glob("*.wav") if path.stat().st_mtime < cutoff) if folder.is_dir() else 0
