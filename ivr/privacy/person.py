"""Access and erasure by phone number (GDPR Art. 15 and 17): everything the hotline holds about one number.

What belongs to a number: the directory entry whose phone it is (tenant or volunteer), the calls from
it or from its tenant, the callback tasks for it (with their history, transcript and recording), every
SMS to or from it and every SMS about its tasks (an offer to a helper names the caller), the spooled
missed calls from it, the rendered prompts that speak its tenant's name, the housing line's seekers
with their answers, the housing projects and partners whose contact it is, and the staff audit
entries about any of these. Erasure removes all of that here and at the provider (call and message
records, recordings), anonymises the audit entries (who did what and when stays, whom it concerned
goes), then makes SQLite forget the deleted rows (secure_delete, VACUUM, a truncating WAL
checkpoint). The log names the number masked. ivr.privacy.coverage lists every personal column.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from ivr.db.models import (Call, CallbackTask, CallEvent, HouseChatMessage, HouseMessage, Partner, SmsMessage, StaffAuditEntry,
                           TaskTransition, Tenant, TenantPhone, Volunteer)
from ivr.directory.phones import PhoneNumberError, mask, normalise
from ivr.housing.models import HousingProject, HousingSeeker

log = logging.getLogger("hausruf.privacy")


class PersonError(ValueError):
    """The number given is not a phone number (nothing was looked up)."""


@dataclass
class Holdings:
    """The rows that belong to one number."""

    number: str
    tenants: list[Tenant] = field(default_factory=list)
    volunteers: list[Volunteer] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    tasks: list[CallbackTask] = field(default_factory=list)
    sms: list[SmsMessage] = field(default_factory=list)
    seekers: list[HousingSeeker] = field(default_factory=list)
    projects: list[HousingProject] = field(default_factory=list)  # whose contact this number is
    partners: list[Partner] = field(default_factory=list)  # whose line this number is
    audit: list[StaffAuditEntry] = field(default_factory=list)
    chat_posts: list[HouseChatMessage] = field(default_factory=list)  # posted to the house chat for her
    house_messages: list[HouseMessage] = field(default_factory=list)  # her spoken messages to the house chat

    @property
    def recording_sids(self) -> list[str]:
        return ([t.recording_ref for t in self.tasks if t.recording_ref and t.recording_ref.startswith("RE")]
                + [m.recording_ref for m in self.house_messages if m.recording_ref.startswith("RE")])

    @property
    def names(self) -> list[str]:
        """How the person's name may appear in texts (salutation, names)."""
        found = []
        for tenant in self.tenants:
            found += [tenant.salutation, tenant.first_name, tenant.last_name,
                      f"{tenant.first_name} {tenant.last_name}".strip()]
        found += [v.name for v in self.volunteers]
        found += [t.caller_name for t in self.tasks if t.caller_name]
        return sorted({name for name in found if name and len(name) > 2})


def parse_number(raw: str) -> str:
    """E.164 of what staff typed; PersonError with the allowed forms otherwise."""
    try:
        return normalise(raw)
    except PhoneNumberError as exc:
        raise PersonError(str(exc)) from None


def find_holdings(session: Session, number: str) -> Holdings:
    """Everything the database holds about number (E.164)."""
    held = Holdings(number)
    held.tenants = list(session.scalars(select(Tenant).join(TenantPhone).where(TenantPhone.number == number)))
    held.volunteers = list(session.scalars(select(Volunteer).where(Volunteer.phone == number)))
    tenant_ids = [t.id for t in held.tenants]
    held.calls = list(session.scalars(select(Call).where(
        or_(Call.from_number == number, Call.tenant_id.in_(tenant_ids))).order_by(Call.id)))
    call_ids = [c.id for c in held.calls]
    held.tasks = list(session.scalars(select(CallbackTask).where(or_(
        CallbackTask.callback_number == number, CallbackTask.tenant_id.in_(tenant_ids),
        CallbackTask.call_id.in_(call_ids))).order_by(CallbackTask.id)))
    task_ids = [t.id for t in held.tasks]
    national = number.lstrip("+")[2:] if number.startswith("+49") else number.lstrip("+")
    addresses = [number] + [v.matrix for v in held.volunteers if v.matrix]  # a helper's messages in Matrix too
    held.sms = list(session.scalars(select(SmsMessage).where(or_(
        SmsMessage.to_number.in_(addresses), SmsMessage.from_number.in_(addresses), SmsMessage.task_id.in_(task_ids),
        SmsMessage.body.contains(national[-8:]))).order_by(SmsMessage.id)))
    held.seekers = list(session.scalars(select(HousingSeeker).where(or_(
        HousingSeeker.phone == number, HousingSeeker.call_id.in_(call_ids))).order_by(HousingSeeker.id)))
    held.projects = list(session.scalars(select(HousingProject).where(HousingProject.contact_phone == number)
                                         .order_by(HousingProject.id)))
    held.partners = list(session.scalars(select(Partner).where(Partner.phone == number).order_by(Partner.id)))
    held.audit = audit_entries(session, held)
    held.chat_posts = list(session.scalars(select(HouseChatMessage).where(HouseChatMessage.tenant_id.in_(tenant_ids))
                                           .order_by(HouseChatMessage.sent_at)))
    held.house_messages = list(session.scalars(select(HouseMessage).where(or_(
        HouseMessage.tenant_id.in_(tenant_ids), HouseMessage.call_id.in_(call_ids))).order_by(HouseMessage.id)))
    return held


def audit_entries(session: Session, held: Holdings) -> list[StaffAuditEntry]:
    """Staff audit entries about the person: on their directory entries or tasks, or naming them in the detail.

    The console names targets "<kind> <id>" and "task #<number>" (ivr.console.directory, .tasks); an
    assignment's detail is the helper's id. A detail (e.g. a note) concerns the person when its digits
    hold their number or it names them ("Frau Becker", "Erika Becker").
    """
    targets = ({f"tenants {t.id}" for t in held.tenants} | {f"volunteers {v.id}" for v in held.volunteers}
               | {f"task #{t.number}" for t in held.tasks}
               | {f"{kind} {p.id}" for p in held.projects for kind in ("projects", "housing_projects")})
    helpers = {str(v.id) for v in held.volunteers}
    digits = _national_digits(held.number)
    names = [n.casefold() for n in _full_names(held)]
    found = []
    for entry in session.scalars(select(StaffAuditEntry).where(or_(
            StaffAuditEntry.target.in_(targets), StaffAuditEntry.detail != "")).order_by(StaffAuditEntry.id)):
        detail = entry.detail or ""
        if (entry.target in targets or (entry.action == "task.assign" and detail in helpers)
                or digits in re.sub(r"\D", "", detail) or any(name in detail.casefold() for name in names)):
            found.append(entry)
    return found


def _national_digits(number: str) -> str:
    """The digits that every written form of the number contains ('+493023125301' -> '3023125301')."""
    return number[3:] if number.startswith("+49") else number.lstrip("+")


def _full_names(held: Holdings) -> list[str]:
    """Names specific enough to say a text is about this person (a surname alone is not)."""
    found = [t.salutation for t in held.tenants] + [f"{t.first_name} {t.last_name}" for t in held.tenants]
    found += [v.name for v in held.volunteers] + [t.caller_name for t in held.tasks]
    found += [p.contact_name for p in held.projects]
    return sorted({n.strip() for n in found if n and len(n.strip()) > 4 and " " in n.strip()})


def export_person(settings, raw_number: str) -> dict:
    """Everything held about the number, as one JSON-ready dict."""
    number = parse_number(raw_number)
    with _session(settings) as session:
        held = find_holdings(session, number)
        result = {
            "number": number,
            "directory": {
                "tenants": [_tenant(t) for t in held.tenants],
                "volunteers": [{"name": v.name, "phone": v.phone, "matrix": v.matrix, "house": v.house_id,
                                "active": v.active}
                               for v in held.volunteers],
                "housing_projects": [{"id": p.id, "name": p.name, "contact_name": p.contact_name,
                                      "contact_phone": p.contact_phone} for p in held.projects],
                "partners": [{"id": p.id, "name": p.name, "phone": p.phone} for p in held.partners],
            },
            "calls": [_call(c) for c in held.calls],
            "tasks": [_task(t) for t in held.tasks],
            "sms": [{"direction": m.direction, "to": m.to_number, "from": m.from_number, "body": m.body,
                     "status": m.status, "created_at": m.created_at, "task": m.task.number if m.task else None}
                    for m in held.sms],
            "recordings": [str(path) for path in _recording_files(settings, held)],
            "spooled_missed_calls": [e for e in _spooled(settings) if e.get("from") == number],
            "rendered_personal_prompts": [str(p) for p in personal_prompt_files(settings, held)],
            "housing_seekers": [{"phone": h.phone, "answers": h.answers, "matched_projects": h.matched,
                                 "share_consent": h.share_consent, "created_at": h.created_at,
                                 "call": h.call.provider_call_id if h.call else None} for h in held.seekers],
            "staff_audit_entries": [{"at": e.at, "by": e.actor, "action": e.action, "target": e.target,
                                     "detail": e.detail} for e in held.audit],
            # What the hotline posted to the house chat for her (the chat room's own copy is the Matrix server's).
            "chat_messages": [{"room": m.room_id, "event": m.event_id, "body": m.body, "sent_at": m.sent_at}
                              for m in held.chat_posts],
            # Her spoken messages to the house chat (ivr.tasks.housemessages): only confirmed ones outlive the call.
            "house_messages": [{"status": m.status, "transcript": m.transcript, "created_at": m.created_at,
                                "posted_at": m.posted_at, "events": m.event_ids} for m in held.house_messages],
        }
    log.info("person export for %s: %d calls, %d tasks, %d SMS", mask(number), len(held.calls), len(held.tasks),
             len(held.sms))
    return result


def erase_person(settings, raw_number: str, keep_directory: bool = False,
                 erase_at_provider: Callable[[list[str]], str] | None = None) -> list[str]:
    """Remove or anonymise everything held about the number; returns what was done, line by line.

    erase_at_provider deletes the provider's copies by their ids (ivr.app.provider_eraser picks the adapter's).
    """
    number = parse_number(raw_number)
    # The spool first: a worker that books spooled calls meanwhile books them before the rows are deleted.
    done: list[str] = [f"spooled missed calls removed: {remove_from_spool(settings.data_dir, number)}"]
    with _session(settings) as session:
        _secure_delete(session)
        held = find_holdings(session, number)
        provider_sids = ([c.provider_call_id for c in held.calls]
                         + [m.provider_message_id for m in held.sms if m.provider_message_id] + held.recording_sids)
        prompt_files = personal_prompt_files(settings, held)
        recording_files = _recording_files(settings, held)
        task_ids, call_ids = [t.id for t in held.tasks], [c.id for c in held.calls]
        options = {"synchronize_session": False}
        session.execute(delete(SmsMessage).where(SmsMessage.id.in_([m.id for m in held.sms])),
                        execution_options=options)
        session.execute(delete(TaskTransition).where(TaskTransition.task_id.in_(task_ids)), execution_options=options)
        session.execute(delete(CallbackTask).where(CallbackTask.id.in_(task_ids)), execution_options=options)
        session.execute(delete(HousingSeeker).where(HousingSeeker.id.in_([h.id for h in held.seekers])),
                        execution_options=options)
        session.execute(delete(CallEvent).where(CallEvent.call_id.in_(call_ids)), execution_options=options)
        session.execute(delete(HouseChatMessage).where(HouseChatMessage.id.in_([m.id for m in held.chat_posts])),
                        execution_options=options)
        session.execute(delete(HouseMessage).where(HouseMessage.id.in_([m.id for m in held.house_messages])),
                        execution_options=options)
        session.execute(delete(Call).where(Call.id.in_(call_ids)), execution_options=options)
        done += [f"spoken messages to the house chat deleted here: {len(held.house_messages)} (with their recordings)",f"calls deleted: {len(call_ids)} (with their events)", f"tasks deleted: {len(task_ids)}",
                 f"SMS deleted: {len(held.sms)}", f"housing seekers deleted: {len(held.seekers)} (with their answers)",
                 f"house chat posts deleted here: {len(held.chat_posts)} (the chat room's copies are the "
                 "cooperative's Matrix server's: remove them there)"]
        for entry in held.audit:
            # Who did what and when stays (staff accountability); whom it concerned and what was written goes.
            entry.target = f"{entry.target.split(' ')[0]} (erased)" if entry.target else ""
            entry.detail = "(erased)" if entry.detail else ""
        done.append(f"staff audit entries anonymised: {len(held.audit)} (who, when and what action kept)")
        if keep_directory:
            done.append(f"directory entries kept (--keep-directory): {len(held.tenants) + len(held.volunteers)}")
            done.append(f"housing project contacts kept (--keep-directory): {len(held.projects)}")
        else:
            for row in held.tenants + held.volunteers:
                session.delete(row)
            for project in held.projects:
                project.contact_name, project.contact_phone = "", ""
            done.append(f"directory entries deleted: {len(held.tenants) + len(held.volunteers)}")
            done.append(f"housing project contacts blanked: {len(held.projects)} (the projects stay listed)")
        if held.partners:
            done.append(f"partner entries kept: {len(held.partners)} (a service's business line; "
                        "delete the partner in the console if the number is a private person's)")
        session.commit()
        done.append(_forget_deleted_rows(session))
    for path in recording_files + prompt_files:
        path.unlink(missing_ok=True)
    done.append(f"local recordings deleted: {len(recording_files)}")
    done.append(f"rendered personal prompts deleted: {len(prompt_files)}")
    done.append(erase_at_provider(provider_sids) if erase_at_provider and provider_sids
                else "provider: nothing to delete" if erase_at_provider else "provider: NOT asked to delete")
    done.append("queued jobs: none carry personal data (jobs name no number; the SMS outbox rows are deleted above)")
    log.info("person erase for %s: %s", mask(number), "; ".join(done))
    return done


# -- the parts ---------------------------------------------------------------------------------


def _session(settings):
    from ivr.db.engine import make_engine, session_factory
    from ivr.db.migrate import upgrade

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)

    class _Closing:
        def __enter__(self):
            self.session = session_factory(engine)()
            return self.session

        def __exit__(self, *exc):
            self.session.close()
            engine.dispose()

    return _Closing()


def _secure_delete(session: Session) -> None:
    # SQLite overwrites deleted content with zeros on this connection (sqlite.org/pragma.html#pragma_secure_delete).
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete=ON"))


def _forget_deleted_rows(session: Session) -> str:
    """Make the database files forget the deleted rows: VACUUM, then a truncating WAL checkpoint on SQLite."""
    engine = session.get_bind()
    session.close()
    if engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            driver = connection.connection.driver_connection
            driver.execute("VACUUM")
            busy = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            log.warning("WAL checkpoint was busy (another process is reading); the next checkpoint finishes it")
            return "database: VACUUM done; WAL checkpoint busy, finished by the next one"
        return "database: VACUUM and WAL checkpoint done (no deleted row is left in the files)"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("sms_messages", "task_transitions", "callback_tasks", "call_events", "calls", "tenant_phones",
                      "tenants", "volunteers", "housing_seekers", "housing_projects", "staff_audit"):
            connection.execute(text(f"VACUUM {table}"))
    return "database: VACUUM done (PostgreSQL: see README on old row versions in WAL and backups)"


def _recording_files(settings, held: Holdings) -> list[Path]:
    from ivr.calls.recordings import local_path

    references = held.recording_sids + [m.recording_ref for m in held.house_messages]
    return [path for path in (local_path(settings, ref) for ref in dict.fromkeys(references)) if path.exists()]


def personal_prompt_files(settings, held: Holdings) -> list[Path]:
    """Rendered prompts that speak this person's name (ivr.privacy.personal keeps them by keyed name)."""
    from ivr.privacy.personal import files_for_texts

    return files_for_texts(settings, held.names)


def _spooled(settings) -> list[dict]:
    from ivr.calls.spool import locked

    entries = []
    with locked(settings.data_dir) as path:
        for candidate in (path, path.with_suffix(".claimed")):
            if candidate.exists():
                entries += [json.loads(line) for line in candidate.read_text(encoding="utf-8").splitlines()
                            if line.strip()]
    return entries


def remove_from_spool(data_dir: Path, number: str) -> int:
    """Drop the number's lines from the spool files; returns how many went.

    Under the spool's lock (ivr.calls.spool.locked), which every append holds too: no line can be
    appended between the read and the rename, so none is lost. The draft is on disk before the rename.
    """
    from ivr.calls.spool import locked

    removed = 0
    with locked(data_dir) as path:
        for candidate in (path, path.with_suffix(".claimed")):
            if not candidate.exists():
                continue
            lines = [line for line in candidate.read_text(encoding="utf-8").splitlines() if line.strip()]
            kept = [line for line in lines if json.loads(line).get("from") != number]
            if len(kept) == len(lines):
                continue
            removed += len(lines) - len(kept)
            draft = candidate.with_name(candidate.name + ".erase")
            with open(draft, "w", encoding="utf-8") as out:
                out.write("".join(line + "\n" for line in kept))
                out.flush()
                os.fsync(out.fileno())
            os.replace(draft, candidate)
    return removed


def _tenant(tenant: Tenant) -> dict:
    return {"first_name": tenant.first_name, "last_name": tenant.last_name, "salutation": tenant.salutation,
            "language": tenant.language, "house": tenant.house_id, "notes": tenant.notes,
            "phones": [p.number for p in tenant.phones]}


def _call(call: Call) -> dict:
    return {"provider": call.provider, "call_id": call.provider_call_id, "from": call.from_number, "started_at": call.started_at,
            "ended_at": call.ended_at, "duration_seconds": call.duration_seconds, "status": call.status,
            "outcome": call.outcome, "flow": call.flow_name,
            "answers": (call.state or {}).get("answers", {}),  # what the call's questions stored (housing line)
            "events": [{"at": e.at, "kind": e.kind, "node": e.node, "detail": e.detail, "outcome": e.outcome}
                       for e in call.events]}


def _task(task: CallbackTask) -> dict:
    return {"number": task.number, "state": task.state, "topic": task.topic, "caller_name": task.caller_name,
            "callback_number": task.callback_number, "created_at": task.created_at, "transcript": task.transcript,
            "recording": task.recording_ref,
            "history": [{"at": t.at, "from": t.from_state, "to": t.to_state, "by": t.actor, "why": t.reason}
                        for t in task.transitions]}
