"""The SIP line beyond one call: spoken words, registration, many calls at once, and never dead air."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from speech.simulate import synthesize_pcm
from tests.sip.conftest import ERIKA, REGISTER_PASSWORD, REGISTER_USER, Database, call_established, wait_for
from tests.sip.peers import loud_seconds, write_wav

TENANTS = ["+493023125301", "+493023125321"]  # Erika Becker's two phones (Lindenhof, demo directory)


def spoken_wav(folder: Path, word: str) -> Path:
    """One Korean word from espeak-ng, then silence."""
    samples, rate = synthesize_pcm(word)
    lead = np.zeros(rate // 2, dtype=np.int16)
    return write_wav(folder / "spoken.wav", np.concatenate([lead, samples, np.zeros(rate * 60, dtype=np.int16)]))


def test_a_spoken_korean_menu_word_moves_the_call_on(lines, korean_env, peers, sip_tmp):
    line = lines["korean"]
    database = Database(Path(korean_env["HAUSRUF_DATABASE_URL"].removeprefix("sqlite:///")))
    caller = peers(ERIKA, codec="PCMA")
    call_established(caller, line)
    sid = wait_for(lambda: database.call_of(ERIKA) and database.call_of(ERIKA)[-1][0], 10, "the call record")
    wait_for(lambda: loud_seconds(caller.received()) >= 0.5, 15, "the menu prompt")
    caller.command("ausrc", f"aufile,{spoken_wav(sip_tmp, '장보기')}")  # the caller speaks while the menu plays
    # Recognised from the call's own audio by the menu recogniser; the flow says "장보기." and hangs up.
    wait_for(lambda: ("speech", "장보기") in database.events(sid), 15, "the word to be recognised")
    wait_for(caller.closed, 15, "the hotline to hang up after the groceries prompt")
    assert database.call_of(ERIKA)[-1][1] == "completed"


def test_registers_with_digest_auth_re_registers_and_says_so_when_it_fails(lines, registrar):
    line = lines["korean"]
    status_file = Path(line.env["HAUSRUF_DATA_DIR"]) / "sip" / "status.json"
    wait_for(lambda: REGISTER_USER in registrar.registered, 10, "a registration with the right password")
    assert json.loads(status_file.read_text())["registered"] is True
    # The registrar grants short leases, so the line registers again; now the password no longer fits.
    registrar.password = "changed-at-the-provider"
    wait_for(lambda: "failed: 403" in line.log(), 15, "the failed re-registration in the log")
    assert f"registration as {REGISTER_USER} at 127.0.0.1:{registrar.port} failed: 403 Forbidden" in line.log()
    status = wait_for(lambda: (s := json.loads(status_file.read_text()))["registered"] is False and s, 5,
                      "the status file to say so")
    assert status["code"] == 403
    registrar.password = REGISTER_PASSWORD


def test_database_down_the_caller_hears_the_apology_and_staff_rings(lines, staff_phone, peers):
    line = lines["broken"]
    caller = peers(ERIKA, codec="PCMA")
    call_established(caller, line)
    wait_for(staff_phone.ringing, 20, "the office phone to ring")
    assert loud_seconds(caller.received()) >= 2.0  # the apology, not silence
    spool = Path(line.env["HAUSRUF_DATA_DIR"]) / "spool" / "missed-calls.jsonl"
    entries = [json.loads(row) for row in spool.read_text().splitlines()]
    assert entries[-1]["from"] == ERIKA and entries[-1]["call_sid"].startswith("sip-")
    staff_phone.accept()
    wait_for(lambda: "connected" in line.log(), 10, "the caller to be put through to staff")
    caller.hangup()


def test_four_tenants_call_at_once_hear_the_greeting_press_5_and_tasks_are_booked(line, database, peers):
    """Erika Becker's two phones, twice each, PCMA and PCMU: four is what one `hausruf sip` process holds
    with the pjsua2-python wheel (PJSUA_MAX_CALLS = 4, docs/sip.md); a fifth caller hears busy."""
    callers = [peers(TENANTS[i % 2], codec=("PCMA", "PCMU")[i // 2]) for i in range(4)]
    before = len(database.tasks_for())
    for caller in callers:
        caller.dial(line.uri)
    for caller in callers:
        wait_for(caller.established, 15, f"call {caller.user} to be answered")
    fifth = peers(TENANTS[0], codec="PCMA")
    fifth.dial(line.uri)
    wait_for(lambda: "486 Busy Here" in fifth.log(), 10, "the fifth caller to hear busy")
    for caller in callers:
        # The greeting is real speech at the caller's end, not silence.
        wait_for(lambda: loud_seconds(caller.received()) >= 1.5, 20, "the greeting at every caller")
    for caller in callers:
        caller.press("5")
    tasks = wait_for(lambda: (t := database.tasks_for()) and len(t) >= before + 4 and t, 30, "four callback tasks")
    assert {task[:2] for task in tasks[before:]} == {("volunteers", "Hilfe mit Telefon, Computer oder Haus-Chat")}
    for number in TENANTS:
        sid, _, outcome = database.call_of(number)[-1]
        assert sid.startswith("sip-") and "callback volunteers" in outcome
    for caller in callers:
        caller.hangup()
    wait_for(lambda: not database.rows("SELECT 1 FROM calls WHERE status = 'in-progress'"), 15, "every call closed")
