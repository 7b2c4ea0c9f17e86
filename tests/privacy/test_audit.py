"""The staff audit log under access, erasure and retention: who did what stays, whom it concerned goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr.db import engine_of, get_session, make_engine, session_factory, upgrade
from ivr.db.models import CallbackTask, StaffAuditEntry
from ivr.privacy.person import erase_person, export_person
from ivr.privacy.retention import purge
from tests.console.conftest import ERIKA, STAFF, app, client, csrf_token, post, seed, staff_client, twilio  # noqa: F401
from tests.privacy.test_person import _dump
from tests.twilio.conftest import WEDNESDAY_10

VOGEL = "+493023125302"


def _audit(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        return [(e.actor, e.action, e.target, e.detail)
                for e in get_session().scalars(select(StaffAuditEntry).where(StaffAuditEntry.action != "login")
                                               .order_by(StaffAuditEntry.id))]


def test_export_shows_staff_actions_about_the_person_and_erase_anonymises_them(app, twilio, staff_client):
    twilio.call(ERIKA).press("5")  # task #1, Frau Becker's
    twilio.call(VOGEL).press("5")  # task #2, Herr Vogel's
    post(staff_client, "/tasks/1/note", {"note": "Ruft lieber nachmittags an: 030 23125301"}, form_path="/tasks/1")
    post(staff_client, "/tasks/1/assign", {"to": "staff"}, form_path="/tasks/1")
    post(staff_client, "/tasks/2/note", {"note": "Wie bei Frau Becker: nachmittags"}, form_path="/tasks/2")
    post(staff_client, "/tasks/2/note", {"note": "Herr Vogel hört schwer"}, form_path="/tasks/2")
    token = csrf_token(staff_client, "/directory/tenants/1/edit")
    edited = staff_client.post("/directory/tenants/1/edit", data={
        "csrf_token": token, "first_name": "Erika", "last_name": "Becker", "salutation": "Frau Becker",
        "house": "lindenhof", "phones": "+49 30 23125301, +49 30 23125321", "language": "de"})
    assert edited.status_code == 303, edited.get_data(as_text=True)[:300]
    settings = app.config["HAUSRUF"]

    held = export_person(settings, ERIKA)["staff_audit_entries"]
    assert [(e["by"], e["action"], e["target"]) for e in held] == [
        (STAFF[0], "task.note", "task #1"), (STAFF[0], "task.assign", "task #1"),
        (STAFF[0], "task.note", "task #2"), (STAFF[0], "directory.edit", "tenants 1")]
    assert held[0]["detail"] == "Ruft lieber nachmittags an: 030 23125301"
    assert "Herr Vogel hört schwer" not in str(held)  # someone else's entry is not hers to see

    engine_of(app).dispose()
    done = erase_person(settings, ERIKA)
    assert "staff audit entries anonymised: 4 (who, when and what action kept)" in done
    assert _audit(app) == [
        (STAFF[0], "task.note", "task (erased)", "(erased)"), (STAFF[0], "task.assign", "task (erased)", "(erased)"),
        (STAFF[0], "task.note", "task (erased)", "(erased)"), (STAFF[0], "task.note", "task #2",
                                                                "Herr Vogel hört schwer"),
        (STAFF[0], "directory.edit", "tenants (erased)", "")]
    dump = _dump(settings.database_url)
    assert b"23125301" not in dump and b"Becker" not in dump
    assert export_person(settings, ERIKA)["staff_audit_entries"] == []


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_audit_entries_outlive_tasks_but_not_their_own_period(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    old, now = WEDNESDAY_10, WEDNESDAY_10 + timedelta(days=100)
    with sessions.begin() as session:
        session.add(CallbackTask(number=7, state="done", created_at=old, callback_number=ERIKA, caller_name="Frau B"))
        session.add(CallbackTask(number=8, state="open", created_at=old, callback_number=VOGEL))
        session.add_all([
            StaffAuditEntry(at=old, actor="buero@talblick.example", action="task.note", target="task #7",
                            detail="Frau B. lieber nachmittags"),
            StaffAuditEntry(at=old, actor="buero@talblick.example", action="task.note", target="task #8",
                            detail="noch offen"),
            StaffAuditEntry(at=old - timedelta(days=300), actor="admin@talblick.example", action="login",
                            target="staff 1", address="192.0.2.7")])
    with sessions() as session:
        dry = purge(session, now, 90, dry_run=True, audit_days=365)
        session.rollback()
        assert (dry.tasks, dry.audit_entries, dry.audit_details_cleared) == (1, 1, 1)
        report = purge(session, now, 90, audit_days=365)
        session.commit()
        assert (report.audit_entries, report.audit_details_cleared) == (1, 1)
        rows = [(e.action, e.target, e.detail) for e in session.scalars(select(StaffAuditEntry)
                                                                         .order_by(StaffAuditEntry.id))]
    # Who wrote a note on task #7, and when, stays for the audit period; what the note said goes with the task.
    assert rows == [("task.note", "task #7 (purged)", ""), ("task.note", "task #8", "noch offen")]
    with sessions() as session:
        assert purge(session, now + timedelta(days=300), 90, audit_days=365).audit_entries == 2
        session.commit()
    engine.dispose()
