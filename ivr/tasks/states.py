"""The callback task state machine: allowed moves, and one function that makes a move and records it."""

from __future__ import annotations

from datetime import datetime

from ivr.db.models import TASK_STATES, CallbackTask, TaskTransition

# declined is a resting state only while the next volunteer is in quiet hours; the worker moves on.
ALLOWED: dict[str, frozenset[str]] = {
    "open": frozenset({"offered", "accepted", "done", "escalated", "expired", "cancelled"}),
    "offered": frozenset({"offered", "accepted", "declined", "done", "escalated", "expired", "cancelled"}),
    "declined": frozenset({"offered", "accepted", "done", "escalated", "expired", "cancelled"}),
    "accepted": frozenset({"done", "declined", "escalated", "cancelled"}),
    "escalated": frozenset({"accepted", "done", "expired", "cancelled"}),
    "expired": frozenset({"accepted", "done", "cancelled"}),
    "done": frozenset(),
    "cancelled": frozenset(),
}
ACTIVE = ("open", "offered", "declined", "accepted", "escalated")
FINISHED = ("done", "cancelled")
assert set(ALLOWED) == set(TASK_STATES)


class IllegalTransition(ValueError):
    """A move the state machine does not allow, e.g. done -> accepted."""

    def __init__(self, task: CallbackTask, to_state: str):
        allowed = ", ".join(sorted(ALLOWED.get(task.state, ()))) or "nothing (it is finished)"
        super().__init__(f"task #{task.number} is {task.state}; it cannot become {to_state} (allowed: {allowed})")
        self.task = task
        self.to_state = to_state


def move(task: CallbackTask, to_state: str, actor: str, reason: str, now: datetime) -> TaskTransition:
    """Change the task's state and append who, when and why; IllegalTransition if not allowed.

    The flush that writes the change checks CallbackTask.version, so two workers moving the same
    task at once cannot both win (sqlalchemy.orm.exc.StaleDataError for the loser).
    """
    if to_state not in TASK_STATES:
        raise ValueError(f"unknown task state {to_state!r}; expected one of: {', '.join(TASK_STATES)}")
    if to_state not in ALLOWED[task.state]:
        raise IllegalTransition(task, to_state)
    return _record(task, task.state, to_state, actor, reason, now)


def open_task(task: CallbackTask, actor: str, reason: str, now: datetime) -> TaskTransition:
    """Put a new task in its first state, open, with the transition that says who booked it."""
    return _record(task, None, "open", actor, reason, now)


def _record(task: CallbackTask, from_state: str | None, to_state: str, actor: str, reason: str,
            now: datetime) -> TaskTransition:
    transition = TaskTransition(at=now, from_state=from_state, to_state=to_state, actor=actor[:200], reason=reason)
    task.transitions.append(transition)
    task.state = to_state
    return transition
