"""Retention: what is older than HAUSRUF_RETENTION_DAYS goes; what is still alive stays; dry runs only count."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from ivr.db.models import Call, CallbackTask, CallEvent, SmsMessage
from ivr.privacy.retention import purge
from tests.tasks.conftest import JONAS, app, clock, config, db, jobs, sms, standin, twilio  # noqa: F401 - fixtures


def _counts(db) -> tuple[int, int, int, int]:
    db.expire_all()
    return tuple(db.scalar(select(func.count()).select_from(model)) for model in (Call, CallEvent, CallbackTask,
                                                                                  SmsMessage))


def test_old_calls_finished_tasks_and_sms_go_and_live_ones_stay(app, twilio, jobs, clock, db):
    twilio.call("+493023125301").press("5")  # task #1: finished below
    sms(twilio, JONAS, "ok 1")
    sms(twilio, JONAS, "erledigt 1")
    clock.advance(days=80)
    twilio.call("+493023125302").press("5")  # task #2: still open, and only 10 days older than the purge
    before = _counts(db)
    purge_at = clock.now + timedelta(days=11)  # 91 days after the first call
    with jobs.sessions() as session:
        dry = purge(session, purge_at, 90, dry_run=True)
        session.rollback()
    assert _counts(db) == before
    assert (dry.calls, dry.tasks) == (1, 1) and dry.call_events > 0 and dry.sms == 5  # the offer, two replies, two answers
    report = jobs.purge(purge_at)
    assert (report.calls, report.call_events, report.tasks, report.sms) == (dry.calls, dry.call_events, dry.tasks,
                                                                             dry.sms)
    assert _counts(db) == (before[0] - 1, before[1] - dry.call_events, 1, before[3] - dry.sms)
    assert db.scalar(select(CallbackTask.number)) == 2
    assert jobs.purge(purge_at).calls == 0  # nothing left to do


def test_purge_command_prints_counts(monkeypatch, tmp_path):
    from ivr.cli import main

    monkeypatch.setenv("HAUSRUF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", f"sqlite:///{tmp_path / 'h.sqlite3'}")
    monkeypatch.setenv("HAUSRUF_RETENTION_DAYS", "30")
    result = CliRunner().invoke(main, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output == ("older than 30 days (recordings: their own period), would remove: calls: 0, "
                             "call events: 0, tasks: 0, task transitions: 0, sms: 0, housing seekers: 0, "
                             "house chat messages: 0, audit entries: 0, audit details cleared: 0, recordings: 0, personal prompts: 0\n")
    monkeypatch.setenv("HAUSRUF_RETENTION_DAYS", "a month")
    result = CliRunner().invoke(main, ["purge"])
    assert result.exit_code == 2 and "HAUSRUF_RETENTION_DAYS" in result.output and "a month" in result.output
