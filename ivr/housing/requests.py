"""Which project a callback request belongs to, and which projects a phone number is the contact of.

A project's request is a CallbackTask (audience "project") whose offer SMS to the project's contact is
keyed `project:<task id>:<project id>` (ivr.housing.effects). That key is the link between task and
project: the console counts a project's open requests by it, and an SMS reply from a contact may act
only on the requests of the contact's own projects (ivr.tasks.inbound).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import CallbackTask, SmsMessage
from ivr.housing.models import HousingProject

PREFIX = "project:"


def offer_key(task_id: int, project_id: str) -> str:
    """The idempotency key of the SMS that offers a request to the project's contact."""
    return f"{PREFIX}{task_id}:{project_id}"


def project_of(session: Session, task: CallbackTask) -> str | None:
    """The project a request was booked for, or None (not a project request)."""
    key = session.scalar(select(SmsMessage.idempotency_key).where(
        SmsMessage.task_id == task.id, SmsMessage.idempotency_key.like(f"{PREFIX}{task.id}:%")).limit(1))
    return key.split(":", 2)[2] if key else None


def contact_projects(session: Session, number: str) -> tuple[str, ...]:
    """The active projects whose contact has this number (a network's office may be the contact of several)."""
    return tuple(session.scalars(select(HousingProject.id).where(
        HousingProject.contact_phone == number, HousingProject.active.is_(True)).order_by(HousingProject.id)))


def requests_of(session: Session, projects: tuple[str, ...] | list[str], states: tuple[str, ...] | None = None
                ) -> list[tuple[str, CallbackTask]]:
    """(project id, task) for the requests of these projects, oldest first; only tasks in states if given."""
    if not projects:
        return []
    query = (select(SmsMessage.idempotency_key, CallbackTask).join(CallbackTask, SmsMessage.task_id == CallbackTask.id)
             .where(SmsMessage.idempotency_key.like(f"{PREFIX}%"))
             .order_by(CallbackTask.number))
    if states is not None:
        query = query.where(CallbackTask.state.in_(states))
    wanted = set(projects)
    found = []
    for key, task in session.execute(query):
        project = key.split(":", 2)[2]
        if project in wanted:
            found.append((project, task))
    return found


def open_request_counts(session: Session, states: tuple[str, ...]) -> Counter:
    """How many requests in states each project has."""
    query = (select(SmsMessage.idempotency_key).join(CallbackTask, SmsMessage.task_id == CallbackTask.id)
             .where(SmsMessage.idempotency_key.like(f"{PREFIX}%"), CallbackTask.state.in_(states)))
    return Counter(key.split(":", 2)[2] for key in session.scalars(query))
