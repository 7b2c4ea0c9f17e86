"""Task lists and details for staff, as plain text lines (the CLI prints them, tests read them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import CallbackTask, SmsMessage
from ivr.directory.phones import mask
from ivr.tasks.states import ACTIVE
from ivr.tasks.texts import spoken_phone


def age(delta: timedelta) -> str:
    """'5 min', '3 h', '2 d': how long a task has waited."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


def holder(task: CallbackTask) -> str:
    """Who has the task now."""
    if task.assigned_volunteer is not None:
        return task.assigned_volunteer.name
    return "staff" if task.audience == "staff" or task.state in ("escalated", "expired") else "-"


def open_tasks(session: Session, now: datetime, include_expired: bool = True) -> list[str]:
    """One line per task that still needs someone: number, age, state, audience, house, holder, topic."""
    states = ACTIVE + (("expired",) if include_expired else ())
    tasks = session.scalars(select(CallbackTask).where(CallbackTask.state.in_(states))
                            .order_by(CallbackTask.number)).all()
    lines = [f"{'#':>5}  {'age':>7}  {'state':<9}  {'for':<10}  {'house':<14}  {'who has it':<16}  topic"]
    for task in tasks:
        house = task.house.name if task.house else "-"
        lines.append(f"{task.number:>5}  {age(now - task.created_at):>7}  {task.state:<9}  {task.audience:<10}  "
                     f"{house[:14]:<14}  {holder(task)[:16]:<16}  {task.topic}")
    return lines


def task_details(session: Session, task: CallbackTask, timezone: str) -> list[str]:
    """Everything about one task: who called, transitions with who/when/why, every SMS and its status."""
    zone = ZoneInfo(timezone)

    def local(when: datetime | None) -> str:
        return when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else "-"

    lines = [
        f"task #{task.number}: {task.state} ({task.audience})",
        f"  caller:     {task.caller_name or 'unknown'}, {spoken_phone(task.callback_number) or '-'}",
        f"  house:      {task.house.name if task.house else '-'}",
        f"  topic:      {task.topic}",
        f"  booked:     {local(task.created_at)}" + (f" (call {task.call.provider_call_id})" if task.call else ""),
        f"  who has it: {holder(task)}",
        f"  next step:  {local(task.next_step_at)}",
    ]
    if task.recording_ref:
        lines.append(f"  recording:  {task.recording_ref}")
    if task.transcript:
        lines.append(f"  transcript: {task.transcript}")
    lines.append("  transitions:")
    for t in task.transitions:
        lines.append(f"    {local(t.at)}  {t.from_state or '-'} -> {t.to_state}  by {t.actor}: {t.reason}")
    lines.append("  SMS:")
    messages = session.scalars(select(SmsMessage).where(SmsMessage.task_id == task.id).order_by(SmsMessage.id))
    for m in messages:
        error = f" error {m.last_error_code}" if m.last_error_code else ""
        lines.append(f"    {local(m.created_at)}  to {mask(m.to_number)}  {m.status}{error}  "
                     f"(attempts {m.attempts})  {m.body}")
    return lines
