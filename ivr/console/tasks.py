"""/tasks: callback tasks with filters, a task's whole history, and staff actions through the state machine."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm.exc import StaleDataError

from ivr.console.audit import record
from ivr.console.web import _, bp, db_read, db_write, now_utc
from ivr.db.models import CallbackTask, House, SmsMessage, StaffAuditEntry, Volunteer
from ivr.housing.models import HousingProject
from ivr.housing.requests import project_of
from ivr.tasks.config import TaskConfig
from ivr.tasks.outbox import queue_sms
from ivr.tasks.report import age, holder
from ivr.tasks.staff import UnknownTask, close_by_staff, task_by_number
from ivr.tasks.states import ACTIVE, ALLOWED, IllegalTransition, move
from ivr.tasks.texts import render

STATE_LABELS = {"open": "offen", "offered": "angeboten", "accepted": "übernommen", "done": "erledigt",
                "declined": "abgelehnt", "escalated": "beim Büro", "expired": "abgelaufen",
                "cancelled": "abgesagt"}
SMS_LABELS = {"queued": "wartet", "sending": "wird gesendet", "sent": "gesendet", "delivered": "zugestellt",
              "failed": "fehlgeschlagen", "undelivered": "nicht zugestellt", "received": "empfangen"}
FILTERS = {"open": ACTIVE + ("expired",), "staff": ("escalated", "expired"), "done": ("done", "cancelled"),
           "all": None}
NOTE_ACTION = "task.note"


def state_label(state: str) -> str:
    return _(STATE_LABELS.get(state, state))


@bp.get("/tasks")
def tasks():
    """Open and recent tasks: number, age, state, house, topic; filter by state, house and text."""
    db = db_read()
    now = now_utc()
    state = request.args.get("state", "open")
    house = request.args.get("house", "")
    text = request.args.get("q", "").strip()
    query = select(CallbackTask).order_by(CallbackTask.created_at.desc()).limit(300)
    if FILTERS.get(state):
        query = query.where(CallbackTask.state.in_(FILTERS[state]))
    if house:
        query = query.where(CallbackTask.house_id == house)
    if text:
        like = f"%{text}%"
        conditions = [CallbackTask.topic.ilike(like), CallbackTask.caller_name.ilike(like)]
        if text.lstrip("#").isdigit():
            conditions.append(CallbackTask.number == int(text.lstrip("#")))
        query = query.where(or_(*conditions))
    if request.args.get("show") == "sms_failed":
        failed = select(SmsMessage.task_id).where(SmsMessage.status.in_(("failed", "undelivered")))
        query = select(CallbackTask).where(CallbackTask.id.in_(failed)).order_by(CallbackTask.created_at.desc())
    rows = list(db.scalars(query))
    houses = list(db.scalars(select(House).order_by(House.name)))
    return render_template("console/tasks.html", title=_("Aufgaben"), rows=rows, now=now, age=age, holder=holder,
                           state_label=state_label, houses=houses, state=state, house=house, q=text,
                           filters=FILTERS)


@bp.get("/tasks/<int:number>")
def task(number: int):
    """One task: caller, transcript and recording, every transition, SMS and note, and what staff may do."""
    db = db_read()
    try:
        task = task_by_number(db, number)
    except UnknownTask:
        abort(404)
    messages = list(db.scalars(select(SmsMessage).where(SmsMessage.task_id == task.id).order_by(SmsMessage.id)))
    # A helper's reply is stored unlinked; our answer to it carries the task and the reply's MessageSid.
    reply_sids = [m.idempotency_key[len("reply:"):] for m in messages
                  if (m.idempotency_key or "").startswith("reply:")]
    if reply_sids:
        messages += list(db.scalars(select(SmsMessage).where(SmsMessage.provider_message_id.in_(reply_sids),
                                                             SmsMessage.direction == "inbound")))
    notes = list(db.scalars(select(StaffAuditEntry).where(StaffAuditEntry.action == NOTE_ACTION,
                                                          StaffAuditEntry.target == f"task #{task.number}")
                            .order_by(StaffAuditEntry.id)))
    history = ([(t.at, "transition", t) for t in task.transitions] + [(m.created_at, "sms", m) for m in messages]
               + [(n.at, "note", n) for n in notes])
    # At the same moment a helper's reply comes before our answer to it.
    history.sort(key=lambda item: (item[0], not (item[1] == "sms" and item[2].direction == "inbound")))
    volunteers = list(db.scalars(select(Volunteer).where(Volunteer.active.is_(True))
                                 .order_by(Volunteer.house_id != (task.house_id or ""), Volunteer.name)))
    project = db.get(HousingProject, project_of(db, task) or "") if task.audience == "project" else None
    return render_template("console/task.html", title=_("Aufgabe #%(n)s", n=task.number), task=task, project=project,
                           history=history, volunteers=volunteers, allowed=ALLOWED[task.state],
                           state_label=state_label, sms_label=lambda s: _(SMS_LABELS.get(s, s)), holder=holder,
                           has_recording=_recording_path(task) is not None, now=now_utc(), age=age)


@bp.get("/tasks/<int:number>/recording")
def task_recording(number: int):
    """The caller's spoken message (our local copy), for the player on the task page."""
    try:
        task = task_by_number(db_read(), number)
    except UnknownTask:
        abort(404)
    path = _recording_path(task)
    if path is None:
        abort(404)
    return send_file(path, mimetype="audio/wav", max_age=0)


def _recording_path(task: CallbackTask) -> Path | None:
    """The local file of the task's recording, only inside the recordings folder."""
    if not task.recording_ref:
        return None
    folder = Path(current_app.config["HAUSRUF"].recordings_dir).resolve()
    path = Path(task.recording_ref)
    path = (path if path.is_absolute() else folder / path).resolve()
    if folder not in path.parents or not path.is_file():
        return None
    return path


@bp.post("/tasks/<int:number>/<action>")
def task_action(number: int, action: str):
    """done, cancel, assign (to a volunteer or to staff) or note; refused with a message if the state forbids it."""
    if action not in ("done", "cancel", "assign", "note"):
        abort(404)
    db = db_write()
    now = now_utc()
    settings = current_app.config["HAUSRUF"]
    config = TaskConfig.for_settings(settings)
    actor = f"staff ({current_user.email})"
    reason = request.form.get("reason", "").strip()
    try:
        task = task_by_number(db, number)
        if action in ("done", "cancel"):
            to_state = "done" if action == "done" else "cancelled"
            close_by_staff(db, number, to_state, actor, reason or _("im Büro erledigt") if action == "done"
                           else reason or _("im Büro abgesagt"), now, config)
            record(db, f"task.{action}", f"task #{number}", reason)
            message = _("Aufgabe #%(n)s ist jetzt: %(state)s.", n=number, state=state_label(task.state))
        elif action == "assign":
            message = _assign(db, task, request.form.get("to", ""), actor, now, config)
            record(db, "task.assign", f"task #{number}", request.form.get("to", ""))
        else:
            note = request.form.get("note", "").strip()
            if not note:
                flash(_("Die Notiz ist leer."), "error")
                return redirect(url_for("console.task", number=number), 303)
            record(db, NOTE_ACTION, f"task #{number}", note[:2000])
            message = _("Notiz gespeichert.")
        db.commit()
    except UnknownTask:
        abort(404)
    except IllegalTransition as exc:
        db.rollback()
        allowed = ", ".join(state_label(s) for s in sorted(ALLOWED[exc.task.state])) or _("nichts mehr")
        flash(_("Nicht möglich: Aufgabe #%(n)s ist %(state)s und kann nicht %(to)s werden (möglich: %(allowed)s).",
                n=number, state=state_label(exc.task.state), to=state_label(exc.to_state), allowed=allowed), "error")
        return redirect(url_for("console.task", number=number), 303)
    except StaleDataError:
        db.rollback()
        flash(_("Die Aufgabe wurde gerade von jemand anderem geändert. Bitte prüfen Sie sie und versuchen Sie "
                "es noch einmal."), "error")
        return redirect(url_for("console.task", number=number), 303)
    except ValueError as exc:
        db.rollback()
        flash(str(exc), "error")
        return redirect(url_for("console.task", number=number), 303)
    flash(message)
    return redirect(url_for("console.task", number=number), 303)


def _assign(db, task: CallbackTask, to: str, actor: str, now, config: TaskConfig) -> str:
    """Give the task to a volunteer (told by SMS, reminded later as if they had said OK) or to staff."""
    if to == "staff":
        move(task, "accepted", actor, _("vom Büro übernommen"), now)
        task.assigned_volunteer = None
        task.assigned_volunteer_id = None
        task.next_step_at = None  # staff watch their own list; no reminders
        return _("Aufgabe #%(n)s liegt jetzt beim Büro.", n=task.number)
    volunteer = db.get(Volunteer, int(to)) if to.isdigit() else None
    if volunteer is None or not volunteer.active:
        raise ValueError(_("Bitte wählen Sie eine aktive Helferin oder einen aktiven Helfer."))
    move(task, "accepted", actor, _("vom Büro an %(name)s gegeben", name=volunteer.name), now)
    task.assigned_volunteer = volunteer
    task.assigned_volunteer_id = volunteer.id
    task.next_step_at = now + config.reminder_after
    queue_sms(db, volunteer.phone, render("accepted", volunteer.language, task),
              f"assigned:{task.id}:{volunteer.id}:{len(task.transitions)}", now, task)
    return _("Aufgabe #%(n)s ist jetzt bei %(name)s (per SMS benachrichtigt).", n=task.number, name=volunteer.name)
