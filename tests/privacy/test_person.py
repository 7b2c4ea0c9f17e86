"""GDPR access and erasure by number after a demo call with a callback, SMS both ways, a recording and the spool."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from ivr.app import provider_eraser
from ivr.calls.spool import spool_missed_call
from ivr.db import engine_of
from ivr.privacy.keys import server_secret
from ivr.privacy.person import erase_person, export_person
from ivr.privacy.personal import PersonalPrompts
from tests.support.postgres import _pg_bin
from tests.tasks.conftest import (JONAS, app, clock, config, db, jobs, outbox, sms, standin,  # noqa: F401 - fixtures
                                  twilio)
from tests.twilio.conftest import ERIKA

RECORDING = "RE" + "5" * 32
DIGITS, SURNAME = b"23125301", b"Becker"


def _demo_call_with_callback_and_sms(app, twilio, jobs, standin, clock):
    standin.recordings[RECORDING] = b"RIFF" + b"\0" * 2000  # audio bytes; no German model, so no transcript
    call = twilio.call(ERIKA)
    call.press("5")
    call.record(recording_sid=RECORDING, seconds=3)
    jobs.send_outbox(clock.now)  # the offer to Jonas names Frau Becker and her number
    sms(twilio, JONAS, "ok 1")
    jobs.send_outbox(clock.now)  # the confirmation repeats them
    jobs.transcribe_messages(clock.now)
    settings = app.config["HAUSRUF"]
    spool_missed_call(settings.data_dir, "twilio", "CA" + "9" * 32, ERIKA, "database down")
    personal = PersonalPrompts(None, settings.prompts_dir, server_secret(settings)).folder("de", "Frau Becker") / "x.wav"
    personal.parent.mkdir(parents=True, exist_ok=True)
    personal.write_bytes(b"RIFF....WAVE")  # a rendered salutation (ivr.privacy.personal)
    return settings


def _dump(database_url: str) -> bytes:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            return "\n".join(connection.iterdump()).encode()
    return subprocess.run([_pg_bin("pg_dump"), "-h", url.host, "-p", str(url.port), "-U", "postgres", url.database],
                          check=True, capture_output=True).stdout


def _files_containing(folder: Path, *needles: bytes) -> list[str]:
    """grep -r: every file under folder (database files included) holding any needle."""
    return sorted(f"{path}: {needle.decode()}" for path in folder.rglob("*") if path.is_file()
                  for needle in needles if needle in path.read_bytes())


def test_export_shows_everything_and_erase_leaves_no_trace(app, twilio, jobs, standin, clock, db, tmp_path):
    settings = _demo_call_with_callback_and_sms(app, twilio, jobs, standin, clock)
    held = export_person(settings, "+49 30 23125301")
    json.dumps(held, default=str)  # what `hausruf person export` prints
    assert held["directory"]["tenants"][0]["salutation"] == "Frau Becker"
    assert [c["from"] for c in held["calls"]] == [ERIKA] and held["calls"][0]["events"]
    assert [t["number"] for t in held["tasks"]] == [1] and held["tasks"][0]["recording"] == RECORDING
    assert {m["to"] for m in held["sms"]} >= {JONAS} and any("23125301" in m["body"] for m in held["sms"])
    assert len(held["recordings"]) == 1 and len(held["spooled_missed_calls"]) == 1
    assert len(held["rendered_personal_prompts"]) == 1
    assert DIGITS in _dump(settings.database_url) and _files_containing(tmp_path, DIGITS)
    sent_sids = {m["sid"] for m in standin.messages}

    db.close()
    engine_of(app).dispose()
    done = erase_person(settings, "+49 30 23125301", erase_at_provider=provider_eraser(settings))
    assert "calls deleted: 1 (with their events)" in done and "tasks deleted: 1" in done
    assert "directory entries deleted: 1" in done and "spooled missed calls removed: 1" in done
    assert not any(DIGITS.decode() in line for line in done)
    dump = _dump(settings.database_url)
    assert DIGITS not in dump and SURNAME not in dump
    assert _files_containing(tmp_path, DIGITS, SURNAME) == []
    assert sent_sids <= set(standin.deleted) and not any("23125301" in m["body"] for m in standin.messages)
    assert "CA" in "".join(standin.deleted)  # the call record too
    assert export_person(settings, ERIKA)["calls"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_keep_directory_keeps_only_the_directory_entry(app, twilio, jobs, standin, clock, db):
    settings = _demo_call_with_callback_and_sms(app, twilio, jobs, standin, clock)
    db.close()
    done = erase_person(settings, ERIKA, keep_directory=True)
    assert "directory entries kept (--keep-directory): 1" in done
    held = export_person(settings, ERIKA)
    assert held["directory"]["tenants"] and not (held["calls"] or held["tasks"] or held["sms"])


def test_the_commands_check_the_number_and_say_what_is_allowed(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from ivr.cli import main

    monkeypatch.setenv("HAUSRUF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", f"sqlite:///{tmp_path / 'h.sqlite3'}")
    result = CliRunner().invoke(main, ["person", "export", "12"])
    assert result.exit_code == 1 and "is not a valid phone number; write it like '0271 123456'" in result.output
    result = CliRunner().invoke(main, ["person", "erase", "+49 30 23125301"])
    assert result.exit_code == 0 and "calls deleted: 0" in result.output
