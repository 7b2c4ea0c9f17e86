"""What staff do to tasks outside SMS: finish or cancel one (from `hausruf tasks done|cancel N`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import CallbackTask
from ivr.tasks.config import TaskConfig
from ivr.tasks.outbox import queue_sms
from ivr.tasks.states import move
from ivr.tasks.texts import render, word


class UnknownTask(LookupError):
    """No task has this number."""


def task_by_number(session: Session, number: int) -> CallbackTask:
    """The task with this public number; UnknownTask if none."""
    task = session.scalar(select(CallbackTask).where(CallbackTask.number == number))
    if task is None:
        raise UnknownTask(f"there is no task #{number}; `hausruf tasks` lists the open ones")
    return task


def close_by_staff(session: Session, number: int, to_state: str, actor: str, reason: str, now: datetime,
                   config: TaskConfig) -> CallbackTask:
    """Mark a task done or cancelled; a volunteer who holds it is told not to call. The caller commits."""
    task = task_by_number(session, number)
    holder = task.assigned_volunteer if task.state in ("offered", "accepted") else None
    move(task, to_state, actor, reason or f"{to_state} by staff", now)
    task.next_step_at = None
    if holder is not None:
        how = word(holder.language, "how_done" if to_state == "done" else "how_cancelled")
        queue_sms(session, holder.phone, render("closed_by_staff", holder.language, task, how=how),
                  f"closed:{task.id}:{holder.id}", now, task)
    return task
