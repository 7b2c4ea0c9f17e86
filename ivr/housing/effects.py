"""The housing actions carried out in the webhook's transaction: counts, seekers, details SMS, project callbacks.

Runs where tasks.booking.book_callback runs (ivr.calls.handler stores a step and its effects together).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import Call, CallbackTask
from ivr.engine.context import CallContext
from ivr.housing.actions import BookProjectCallback, HousingMatched, SendDetails
from ivr.housing.models import HousingProject, HousingSeeker
from ivr.housing.ranking import Project
from ivr.housing.report import count_demand
from ivr.housing.requests import offer_key
from ivr.housing.wording import PHRASES, lang_of, phrase
from ivr.tasks import escalation
from ivr.tasks.booking import book_callback, next_number
from ivr.tasks.config import TaskConfig
from ivr.tasks.outbox import queue_sms
from ivr.tasks.states import move, open_task
from ivr.tasks.texts import spoken_phone, to_gsm

log = logging.getLogger("hausruf.housing")


def perform(session: Session, call: Call, action, context: CallContext, now: datetime,
            config: TaskConfig | None = None):
    """Carry out one effect of a step: housing actions here, callbacks through the task machinery."""
    if isinstance(action, HousingMatched):
        return matched(session, call, action, context, now)
    if isinstance(action, SendDetails):
        return send_details(session, call, action, context, now)
    if isinstance(action, BookProjectCallback):
        return book_project_callback(session, call, action, context, now, config)
    return book_callback(session, call, action, context, now, config)


def matched(session: Session, call: Call, action: HousingMatched, context: CallContext,
            now: datetime) -> HousingSeeker | None:
    """Count the caller (anonymous, always); store their answers only with their consent."""
    if action.count:
        count_demand(session, context.now, action.seeker, action.found)
    if not action.keep or not context.caller.number:
        return None
    seeker = _seeker_of(session, call)
    if seeker is None:
        seeker = HousingSeeker(phone=context.caller.number, call=call, created_at=now)
        session.add(seeker)
    seeker.answers = dict(action.answers)
    seeker.matched = list(action.projects)
    return seeker


def _seeker_of(session: Session, call: Call) -> HousingSeeker | None:
    return session.scalar(select(HousingSeeker).where(HousingSeeker.call_id == call.id)) if call.id else None


def send_details(session: Session, call: Call, action: SendDetails, context: CallContext, now: datetime):
    """One SMS with the details of the projects the caller heard (the engine checked the number takes SMS)."""
    projects = _projects(session, action.projects)
    if not projects or not context.caller.number:
        return None
    body = details_sms(projects, action.language)
    return queue_sms(session, context.caller.number, body, f"housing:{call.provider_call_id}:{action.node}", now)


def book_project_callback(session: Session, call: Call, action: BookProjectCallback, context: CallContext,
                          now: datetime, config: TaskConfig | None = None) -> CallbackTask | None:
    """A callback task for the project's contact (or staff), offered by SMS with the caller's answers."""
    existing = session.scalar(select(CallbackTask).where(CallbackTask.call_id == call.id,
                                                         CallbackTask.audience.in_(("project", "staff"))))
    if existing is not None:
        return existing
    project = session.get(HousingProject, action.project) if action.project else None
    if config is None:  # outside the app (tests, the simulator): the settings as they are now
        zone = getattr(context.now.tzinfo, "key", None) or "UTC"
        config = TaskConfig.from_env(context.staff_number, zone)
    number = context.caller.number or call.from_number or ""
    topic = phrase(action.language, "task_topic").format(name=project.name if project else "-")
    task = CallbackTask(number=next_number(session), audience="project" if project else "staff", topic=topic[:100],
                        call=call, callback_number=number, caller_name="", created_at=now, escalation_level=0)
    session.add(task)
    open_task(task, f"call {call.provider_call_id}", f"housing seeker asked for a call in node {action.node}", now)
    session.flush()
    seeker = _seeker_of(session, call)
    if seeker is not None:
        seeker.share_consent = True
    answers = "; ".join(f"{k} {v}" for k, v in action.answers)
    if project is None:
        escalation.start(session, task, now, config)
        return task
    text = to_gsm(phrase(action.language, "task_sms").format(n=task.number, name=project.name,
                                                             phone=spoken_phone(number), answers=answers))
    move(task, "offered", "worker", f"offered to the contact of project {project.id} by SMS", now)
    task.escalation_level = 1
    # The contact is not a helper who replies by SMS: staff follow up on the task once it expires.
    task.next_step_at = task.created_at + config.expire_after
    queue_sms(session, project.contact_phone, text, offer_key(task.id, project.id), now, task)
    log.info("task #%s booked for the contact of project %s (call %s)", task.number, project.id, call.provider_call_id)
    return task


def details_sms(projects: list[Project], language: str) -> str:
    """The SMS with the chosen projects: name, town, SMS text, contact and number."""
    lang = lang_of(language)
    parts = [PHRASES[lang]["sms_head"]]
    for index, p in enumerate(projects, 1):
        contact = f"{PHRASES[lang]['sms_contact']}: {p.contact_name + ', ' if p.contact_name else ''}" \
                  f"{spoken_phone(p.contact_phone)}"
        parts.append(f"{index}) {p.name}, {p.town}. {p.sms_text} {contact}.")
    return to_gsm(" ".join(parts))


def _projects(session: Session, ids: tuple[str, ...]) -> list[Project]:
    from ivr.housing.directory import as_project

    rows = {p.id: p for p in session.scalars(select(HousingProject).where(HousingProject.id.in_(ids)))}
    return [as_project(rows[i]) for i in ids if i in rows]


def init_app(app: Flask) -> None:
    """Voice webhooks carry out housing actions too (they go where callbacks are booked)."""
    from ivr.wiring import hausruf

    wiring = hausruf(app)
    wiring.book_callback = functools.partial(perform, config=wiring.tasks)  # settings read once
