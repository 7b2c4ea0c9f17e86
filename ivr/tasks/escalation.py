"""Who gets a task when: one volunteer of the house, then the other, then staff; reminders and expiry.

Every step is driven by CallbackTask.next_step_at and a clock argument, so the worker's periodic job
and the tests call the same run_due_steps(session, now) and tests move the clock instead of sleeping.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ivr.db.models import CallbackTask, SmsMessage, Volunteer
from ivr.directory.phones import mask
from ivr.hours import in_quiet_hours
from ivr.tasks.config import TaskConfig
from ivr.tasks.outbox import queue_sms
from ivr.tasks.states import move
from ivr.tasks.texts import render, word

log = logging.getLogger("hausruf.tasks")

WORKER = "worker"
STAFF_LANGUAGE = "de"  # the cooperative's office
WAITING = ("open", "offered", "declined", "escalated")  # nobody has taken the task yet


def address(volunteer: Volunteer, config: TaskConfig) -> str:
    """Where a volunteer gets messages: their Matrix ID when the Matrix channel is on, else their phone."""
    return volunteer.matrix if config.matrix and volunteer.matrix else volunteer.phone


def addresses(volunteer: Volunteer) -> set[str]:
    """Every address a volunteer may have been written to (offers count on both channels)."""
    return {a for a in (volunteer.phone, volunteer.matrix) if a}


def room_key(task: CallbackTask) -> str:
    """The outbox key of a task's offer to the helpers' group room."""
    return f"offer:{task.id}:room"


def offered_to_room(session: Session, task: CallbackTask) -> bool:
    """Whether the task was offered in the helpers' group room (any helper there may take it)."""
    return session.scalar(select(SmsMessage.id).where(SmsMessage.idempotency_key == room_key(task))) is not None


def volunteer_actor(volunteer: Volunteer) -> str:
    """How a volunteer appears in the audit trail."""
    return f"volunteer {volunteer.id} ({volunteer.name})"


def start(session: Session, task: CallbackTask, now: datetime, config: TaskConfig) -> None:
    """A newly booked task: staff tasks go to staff, volunteer tasks to the first volunteer that fits."""
    if task.audience == "staff":
        _to_staff(session, task, now, config, "offered", "staff", "callback for staff", WORKER)
    elif task.house_id is None:
        escalate(session, task, now, config, word(STAFF_LANGUAGE, "why_no_helper"), WORKER)
    else:
        offer_next(session, task, now, config, "new task", WORKER)


def offer_next(session: Session, task: CallbackTask, now: datetime, config: TaskConfig, reason: str,
               actor: str, exclude: Volunteer | None = None) -> None:
    """Offer the task to the fairest awake volunteer not asked yet; wait out quiet hours; else staff."""
    candidates = [v for v in _candidates(session, task, now, config) if v is not exclude]
    if not candidates and config.helpers_room and not offered_to_room(session, task):
        _offer_to_room(session, task, now, config, reason, actor)
        return
    if not candidates:
        escalate(session, task, now, config, word(STAFF_LANGUAGE, "why_no_one"), actor, reason)
        return
    local = now.astimezone(ZoneInfo(config.timezone))
    awake = [v for v in candidates if not in_quiet_hours(v.quiet_hours, local)]
    if not awake:
        # Everyone left is asleep: wait for the first to wake; whoever holds an offer may still accept.
        task.next_step_at = min(quiet_end(v.quiet_hours, local) for v in candidates)
        log.info("task #%s waits for quiet hours to end at %s", task.number, task.next_step_at.isoformat())
        return
    volunteer = awake[0]
    move(task, "offered", actor, f"{reason}; offered to {volunteer_actor(volunteer)}", now)
    task.assigned_volunteer_id = volunteer.id
    task.assigned_volunteer = volunteer
    task.escalation_level += 1
    task.next_step_at = min(now + config.offer_after, _expiry(task, config))
    queue_sms(session, address(volunteer, config), render("offer", volunteer.language, task),
              f"offer:{task.id}:{volunteer.id}", now, task)


def _offer_to_room(session: Session, task: CallbackTask, now: datetime, config: TaskConfig, reason: str,
                   actor: str) -> None:
    """Before staff: ask all IT helpers in their group room; the first "ok N" there takes it."""
    move(task, "offered", actor, f"{reason}; offered in the helpers' room", now)
    task.assigned_volunteer_id = None
    task.assigned_volunteer = None
    task.escalation_level += 1
    task.next_step_at = min(now + config.offer_after, _expiry(task, config))
    queue_sms(session, config.helpers_room, render("room_offer", STAFF_LANGUAGE, task), room_key(task), now, task)


def escalate(session: Session, task: CallbackTask, now: datetime, config: TaskConfig, why: str, actor: str,
             reason: str = "") -> None:
    """Hand the task to staff: state escalated, one SMS to the staff number."""
    _to_staff(session, task, now, config, "escalated", "escalated", "; ".join(p for p in (reason, why) if p),
              actor, why=why)


def _to_staff(session: Session, task: CallbackTask, now: datetime, config: TaskConfig, state: str, text: str,
              reason: str, actor: str, **fields) -> None:
    move(task, state, actor, f"{reason}; SMS to staff" if config.staff_number else f"{reason}; no staff number set",
         now)
    task.assigned_volunteer_id = None
    task.assigned_volunteer = None
    task.escalation_level += 1
    task.next_step_at = _expiry(task, config)
    tell_staff(session, task, now, config, text, f"staff:{task.id}:{text}:{task.escalation_level}", **fields)


def tell_staff(session: Session, task: CallbackTask, now: datetime, config: TaskConfig, text: str, key: str,
               **fields) -> None:
    """One SMS about the task to the staff number (logged instead when none is configured)."""
    if not config.staff_number:
        log.warning("task #%s needs staff but HAUSRUF_STAFF_NUMBER is not set; see `hausruf tasks`", task.number)
        return
    queue_sms(session, config.staff_number, render(text, STAFF_LANGUAGE, task, **fields), key, now, task)


def _expiry(task: CallbackTask, config: TaskConfig) -> datetime:
    return task.created_at + config.expire_after


def _candidates(session: Session, task: CallbackTask, now: datetime, config: TaskConfig) -> list[Volunteer]:
    """Active volunteers of the house not offered this task yet, fairest first."""
    asked = set(session.scalars(select(SmsMessage.to_number).where(
        SmsMessage.task_id == task.id, SmsMessage.idempotency_key.like(f"offer:{task.id}:%"))))
    volunteers = session.scalars(select(Volunteer).where(
        Volunteer.house_id == task.house_id, Volunteer.active.is_(True)).order_by(Volunteer.id)).all()
    fresh = [v for v in volunteers if not addresses(v) & asked]
    load = {number: (count, last) for number, count, last in session.execute(
        select(SmsMessage.to_number, func.count(), func.max(SmsMessage.created_at))
        .where(SmsMessage.idempotency_key.like("offer:%"), SmsMessage.created_at >= now - config.fairness_window,
               SmsMessage.to_number.in_([a for v in fresh for a in addresses(v)]))
        .group_by(SmsMessage.to_number))}
    never = datetime.min.replace(tzinfo=timezone.utc)

    def fairness(volunteer: Volunteer):
        # Fewer recent offers first (SMS and Matrix together); on a tie, the one asked longest ago (or never).
        counted = [load[a] for a in addresses(volunteer) if a in load]
        count = sum(c for c, _ in counted)
        last = max((_aware(t) for _, t in counted if t is not None), default=None)
        return count, last or never, volunteer.id

    return sorted(fresh, key=fairness)


def _aware(value: datetime | None) -> datetime | None:
    # func.max() bypasses the column type on SQLite, which hands back naive UTC (or text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def quiet_end(quiet: str, local: datetime) -> datetime:
    """When quiet hours like '22:00-08:00' that include `local` end, in UTC."""
    end_text = quiet.split("-")[1].strip()
    hours, minutes = (int(part) for part in end_text.split(":"))
    end_minute = hours * 60 + minutes
    day: date = local.date() if local.hour * 60 + local.minute < end_minute else local.date() + timedelta(days=1)
    # Aware + timedelta is wall-clock arithmetic in Python, so a DST night still ends at 08:00 local.
    end = datetime.combine(day, time(0), tzinfo=local.tzinfo) + timedelta(minutes=end_minute)
    return end.astimezone(timezone.utc)


def run_due_steps(session: Session, now: datetime, config: TaskConfig | None = None, limit: int = 200) -> int:
    """Take every task whose next step is due one step further; commits after each task; returns the count."""
    config = config or TaskConfig.from_env()
    due = session.scalars(select(CallbackTask.id).where(
        CallbackTask.next_step_at <= now, CallbackTask.state.in_(WAITING + ("accepted",)))
        .order_by(CallbackTask.next_step_at).limit(limit)).all()
    done = 0
    for task_id in due:
        try:
            task = session.get(CallbackTask, task_id)
            if task is not None and task.next_step_at is not None and task.next_step_at <= now:
                step(session, task, now, config)
                done += 1
            session.commit()
        except StaleDataError:
            # A volunteer's reply changed the task meanwhile; the next sweep looks again.
            session.rollback()
            log.info("task %s changed while the worker looked; skipped this round", task_id)
    return done


def step(session: Session, task: CallbackTask, now: datetime, config: TaskConfig) -> None:
    """One due step of one task."""
    if task.state in WAITING and now >= _expiry(task, config):
        move(task, "expired", WORKER, f"nobody took it within {config.expire_after}", now)
        task.next_step_at = None
        tell_staff(session, task, now, config, "expired", f"staff:{task.id}:expired")
        return
    if task.state in ("open", "declined"):
        offer_next(session, task, now, config, "offer due", WORKER)
    elif task.state == "offered" and task.assigned_volunteer is not None:
        offer_next(session, task, now, config, f"no answer from {volunteer_actor(task.assigned_volunteer)} "
                                               f"within {config.offer_after}", WORKER)
    elif task.state == "offered" and task.audience == "volunteers" and offered_to_room(session, task):
        offer_next(session, task, now, config, f"nobody in the helpers' room took it within {config.offer_after}",
                   WORKER)
    elif task.state == "accepted":
        _remind_or_escalate(session, task, now, config)
    else:  # offered to staff, or escalated: only expiry is left
        task.next_step_at = _expiry(task, config)


def _remind_or_escalate(session: Session, task: CallbackTask, now: datetime, config: TaskConfig) -> None:
    volunteer = task.assigned_volunteer
    if volunteer is None:
        escalate(session, task, now, config, word(STAFF_LANGUAGE, "why_not_done"), WORKER)
        return
    key = f"reminder:{task.id}:{volunteer.id}"
    if session.scalar(select(SmsMessage.id).where(SmsMessage.idempotency_key == key)) is not None:
        escalate(session, task, now, config, word(STAFF_LANGUAGE, "why_not_done"), WORKER,
                 f"{volunteer_actor(volunteer)} accepted but did not report done")
        return
    local = now.astimezone(ZoneInfo(config.timezone))
    if in_quiet_hours(volunteer.quiet_hours, local):
        task.next_step_at = quiet_end(volunteer.quiet_hours, local)
        return
    queue_sms(session, address(volunteer, config), render("reminder", volunteer.language, task), key, now, task)
    task.next_step_at = now + config.reminder_after


def on_sms_failed(session: Session, message: SmsMessage, now: datetime, config: TaskConfig) -> None:
    """An SMS could not be delivered: if it was the offer the task waits on, move on at once."""
    task = message.task
    if task is None:
        return
    volunteer = task.assigned_volunteer
    waiting_on_it = (task.state == "offered" and volunteer is not None and message.to_number in addresses(volunteer)
                     and (message.idempotency_key or "").startswith("offer:"))
    if not waiting_on_it:
        if message.to_number == config.staff_number:
            log.error("SMS to staff about task #%s failed (error %s); see `hausruf tasks show %s`",
                      task.number, message.last_error_code, task.number)
        return
    log.warning("offer of task #%s to %s failed (error %s); offering it to the next",
                task.number, mask(message.to_number), message.last_error_code)
    offer_next(session, task, now, config,
               f"SMS to {volunteer_actor(volunteer)} failed (error {message.last_error_code})", WORKER)
