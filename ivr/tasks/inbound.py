"""Volunteers' SMS replies: who may do what to which task, the state change, and the confirmation SMS.

The contact of a housing project replies the same way to the requests of their own project (the
offer SMS keys the task to the project, ivr.housing.requests); no other task is theirs to see.

An unknown sender gets no answer at all: a reply would tell a stranger that the number belongs to
a service, costs money per SMS, and could be abused to make us text arbitrary numbers. The message
is stored (masked in logs) so staff can see it. Staff may reply from the staff number too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import CallbackTask, SmsMessage, Volunteer
from ivr.directory.phones import caller_number, mask
from ivr.housing.models import HousingProject
from ivr.housing.requests import contact_projects, project_of, requests_of
from ivr.housing.wording import phrase
from ivr.tasks import escalation
from ivr.tasks.config import TaskConfig
from ivr.tasks.outbox import queue_sms, record_inbound
from ivr.tasks.replies import ParsedReply, parse_reply
from ivr.tasks.states import FINISHED, move
from ivr.tasks.texts import render

log = logging.getLogger("hausruf.sms")


@dataclass(frozen=True)
class Sender:
    """Who wrote: a volunteer, the contact of housing projects, or staff (neither)."""

    volunteer: Volunteer | None
    number: str  # where answers go: the phone number, or the Matrix ID the reply came from
    projects: tuple[str, ...] = ()  # the housing projects this number is the contact of
    contact_name: str = ""
    in_helpers_room: bool = False  # wrote in the helpers' group room, where any helper may take an offered task

    @property
    def via(self) -> str:
        """How the reply came, for the task's history."""
        return "in Matrix" if self.number.startswith("@") else "by SMS"

    @property
    def is_staff(self) -> bool:
        return self.volunteer is None and not self.projects

    @property
    def language(self) -> str:
        return self.volunteer.language if self.volunteer else escalation.STAFF_LANGUAGE

    @property
    def actor(self) -> str:
        if self.volunteer:
            return escalation.volunteer_actor(self.volunteer)
        if self.projects:
            return f"contact of project {', '.join(self.projects)} (SMS)"
        return "staff (SMS)"

    @property
    def name(self) -> str:
        return self.volunteer.name if self.volunteer else self.contact_name


def handle_sms(session: Session, message_sid: str, from_raw: str, to_raw: str, body: str, now: datetime,
               config: TaskConfig, answer_to: str | None = None) -> str:
    """Store one received message and act on it; returns what happened (for the log). The caller commits.

    from_raw is a phone number (SMS) or a Matrix user ID; answer_to is where the answer goes when it
    is not the sender (HAUSRUF_MATRIX_HELPERS_ROOM, for replies written in the helpers' group room).
    """
    inbound = record_inbound(session, message_sid, from_raw or "", to_raw or "", body or "", now)
    if inbound is None:
        return "duplicate"
    in_room = answer_to is not None and answer_to == config.helpers_room
    sender = find_sender(session, from_raw, config, in_helpers_room=in_room)
    if sender is None:
        log.info("message from unknown sender %s: no answer", mask(caller_number(from_raw) or from_raw))
        return "unknown sender"
    parsed = parse_reply(body)
    text, task = _answer(session, sender, parsed, now, config)
    if not message_sid:
        session.flush()  # without a provider id, our own row id keeps each reply answered exactly once
    queue_sms(session, answer_to or sender.number, text, f"reply:{message_sid or f'in{inbound.id}'}", now, task)
    log.info("SMS from %s: %s #%s", sender.actor, parsed.intent, task.number if task else "-")
    return parsed.intent


def find_sender(session: Session, address: str | None, config: TaskConfig, in_helpers_room: bool = False
                ) -> Sender | None:
    """The active volunteer with this number or Matrix ID, staff, the contact of active housing projects, or None."""
    if address and address.startswith("@"):
        if not config.matrix:
            return None
        volunteer = session.scalar(select(Volunteer).where(Volunteer.matrix == address, Volunteer.active.is_(True)))
        return Sender(volunteer, address, in_helpers_room=in_helpers_room) if volunteer is not None else None
    number = caller_number(address)
    if number is None:
        return None
    projects = contact_projects(session, number)
    volunteer = session.scalar(select(Volunteer).where(Volunteer.phone == number, Volunteer.active.is_(True)))
    if volunteer is not None:
        return Sender(volunteer, number, projects)
    if number == config.staff_number:
        return Sender(None, number)
    if projects:
        first = session.get(HousingProject, projects[0])
        return Sender(None, number, projects, first.contact_name or first.name)
    return None


def tasks_of(session: Session, volunteer: Volunteer) -> list[CallbackTask]:
    """Tasks offered to or accepted by the volunteer, oldest first."""
    return list(session.scalars(select(CallbackTask).where(
        CallbackTask.assigned_volunteer_id == volunteer.id,
        CallbackTask.state.in_(("offered", "accepted"))).order_by(CallbackTask.number)))


def contact_tasks(session: Session, sender: Sender) -> list[CallbackTask]:
    """Open requests of the sender's housing projects that no helper holds, oldest first."""
    return [task for _project, task in requests_of(session, sender.projects, ("offered", "accepted"))
            if task.assigned_volunteer_id is None]


def _may_see(session: Session, sender: Sender, task: CallbackTask) -> bool:
    """Staff see every task; a volunteer only those offered to them (the offer SMS already told them who);
    a project's contact only the requests of their own projects."""
    if sender.is_staff:
        return True
    if _for_contact(session, sender, task):
        return True
    if sender.in_helpers_room and escalation.offered_to_room(session, task):
        return True
    return sender.volunteer is not None and (
        task.assigned_volunteer_id == sender.volunteer.id or was_offered(session, task, sender.volunteer))


def _for_contact(session: Session, sender: Sender, task: CallbackTask) -> bool:
    """Whether task is a request of one of the sender's housing projects."""
    return bool(sender.projects) and task.audience == "project" and project_of(session, task) in sender.projects


def was_offered(session: Session, task: CallbackTask, volunteer: Volunteer) -> bool:
    """Whether this task was ever offered to this volunteer (escalation.offer_next keys the offer SMS so)."""
    key = f"offer:{task.id}:{volunteer.id}"
    return session.scalar(select(SmsMessage.id).where(SmsMessage.idempotency_key == key)) is not None


def _answer(session: Session, sender: Sender, parsed: ParsedReply, now: datetime,
            config: TaskConfig) -> tuple[str, CallbackTask | None]:
    lang = sender.language
    mine = tasks_of(session, sender.volunteer) if sender.volunteer else []
    if sender.projects:
        mine = sorted({t.id: t for t in mine + contact_tasks(session, sender)}.values(), key=lambda t: t.number)
    listing = (render("mine", lang, numbers=", ".join(f"#{t.number}" for t in mine)) if mine
               else render("none_mine", lang))
    if parsed.intent == "help":
        return render("help", lang, mine=listing), None
    if parsed.intent == "unknown":
        return render("not_understood", lang), None
    if parsed.ambiguous:
        example = mine[0].number if mine else 17
        return render("which", lang, example=example, mine=listing if mine else ""), None
    if parsed.number is None:
        if len(mine) != 1:
            example = mine[0].number if mine else 17
            return render("which", lang, example=example, mine=listing if mine else ""), None
        task = mine[0]
    else:
        task = session.scalar(select(CallbackTask).where(CallbackTask.number == parsed.number))
        if task is None or not _may_see(session, sender, task):
            # The same answer for "no such task" and "not yours": numbers reveal nothing.
            return render("unknown_task", lang, n=parsed.number), None
    return _act(session, sender, parsed.intent, task, now, config), task


def _act(session: Session, sender: Sender, intent: str, task: CallbackTask, now: datetime,
         config: TaskConfig) -> str:
    lang, volunteer = sender.language, sender.volunteer
    if task.state in FINISHED:
        return render("finished", lang, task)
    if intent == "accept":
        return _accept(session, sender, task, now, config)
    holds = _holds(session, sender, task)
    if intent == "done":
        # Accepted by one helper: closed only by that helper or staff. A task nobody holds (escalated,
        # expired) may still be reported done by a helper it was offered to, or by the project's contact.
        if not sender.is_staff and not holds and (task.state == "accepted" or task.assigned_volunteer_id):
            return render("elsewhere", lang, task)
        move(task, "done", sender.actor, f"reported done {sender.via}", now)
        task.next_step_at = None
        return render("done", lang, task)
    if not holds or task.state not in ("offered", "accepted"):
        return render("not_yours", lang, task)
    move(task, "declined", sender.actor, f"declined {sender.via}", now)
    if _for_contact(session, sender, task):
        # A project has no second contact to ask: the office calls the seeker back.
        escalation.escalate(session, task, now, config, phrase(escalation.STAFF_LANGUAGE, "contact_declined"),
                            sender.actor, f"{sender.actor} declined")
    else:
        escalation.offer_next(session, task, now, config, f"{sender.actor} declined", sender.actor,
                              exclude=volunteer)
    return render("declined", lang, task)


def _holds(session: Session, sender: Sender, task: CallbackTask) -> bool:
    """Whether the sender has the task: offered to or taken by this helper, or a request of the
    contact's project that no helper holds."""
    if sender.volunteer is not None and task.assigned_volunteer_id == sender.volunteer.id:
        return True
    return (task.assigned_volunteer_id is None and _for_contact(session, sender, task)
            and not (task.state == "accepted" and _accepted_by_staff(task)))


def _accept(session: Session, sender: Sender, task: CallbackTask, now: datetime, config: TaskConfig) -> str:
    lang, volunteer = sender.language, sender.volunteer
    contact = _for_contact(session, sender, task)
    if task.state == "accepted":
        if _holds(session, sender, task):
            return render("yours", lang, task)
        holder = task.assigned_volunteer.name if task.assigned_volunteer else "das Büro"
        return render("taken", lang, task, name=holder)
    staff_knew = task.state in ("escalated", "expired")
    move(task, "accepted", sender.actor, f"accepted {sender.via}", now)
    if contact:
        # The project's contact holds it; staff are told if it is not reported done within two reminder
        # periods (a helper gets a reminder after one and staff hear after the second).
        task.assigned_volunteer, task.assigned_volunteer_id = None, None
        task.next_step_at = now + 2 * config.reminder_after
    else:
        task.assigned_volunteer = volunteer
        task.assigned_volunteer_id = volunteer.id if volunteer else None
        # Volunteers get a reminder if it is not done in time; staff watch their own list.
        task.next_step_at = now + config.reminder_after if volunteer else None
    if staff_knew and not sender.is_staff:
        escalation.tell_staff(session, task, now, config, "taken_late",
                              f"staff:{task.id}:taken:{volunteer.id if volunteer and not contact else sender.number}",
                              name=sender.name)
    return render("accepted", lang, task)


def _accepted_by_staff(task: CallbackTask) -> bool:
    """Whether the last move to accepted was made by staff (then the task is the office's, not the contact's)."""
    accepted = [t for t in task.transitions if t.to_state == "accepted"]
    return bool(accepted) and accepted[-1].actor.startswith("staff")
