"""Keys sent as SIP INFO (application/dtmf-relay) instead of RFC 2833 events: SIPp as the caller.

baresip 1.0 only sends telephone-events, so a SIPp scenario (Debian's sip-tester) plays the phone or
PBX that signals keys in INFO requests: it calls, presses 5 by INFO, and hangs up while the line records.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.sip.conftest import ERIKA, wait_for
from tests.sip.peers import free_port, free_sip_port

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
SCENARIO = Path(__file__).parent / "scenarios" / "dtmf-info.xml"


def sipp_call(line, folder: Path, caller: str, key: str) -> tuple[subprocess.CompletedProcess, str]:
    """One call by SIPp: INVITE, 6 s, INFO with `key`, 4 s, BYE; (its result, the SIP messages it saw).

    Its exit code is 0 only when every answer was the expected one (the INFO's among them: 200 OK).
    """
    (folder / "caller.csv").write_text(f"SEQUENTIAL\n{caller};{key};\n")
    messages = folder / "messages.log"
    result = subprocess.run([SIPP, f"127.0.0.1:{line.port}", "-sf", str(SCENARIO), "-inf", str(folder / "caller.csv"),
                             "-s", "hotline", "-i", "127.0.0.1", "-p", str(free_sip_port()), "-mp", str(free_port()),
                             "-m", "1", "-timeout", "60s", "-nostdin", "-trace_msg", "-message_file", str(messages),
                             "-trace_err", "-error_file", str(folder / "errors.log")],
                            cwd=folder, capture_output=True, text=True, timeout=90)
    return result, messages.read_text(errors="replace") if messages.is_file() else ""


def test_a_key_sent_as_sip_info_moves_the_menu_on(line, database, tmp_path):
    before = len(database.tasks_for())
    result, messages = sipp_call(line, tmp_path, ERIKA, "5")
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:], messages[-4000:])
    assert "Content-Type: application/dtmf-relay" in messages and "SIP/2.0 200 OK" in messages.split("INFO sip:")[-1]
    sid = database.call_of(ERIKA)[-1][0]
    assert ("digits", "5") in database.events(sid)
    # The IT helpers' callback is booked, and the line asked for a message (the caller hung up there).
    tasks = wait_for(lambda: (t := database.tasks_for(sid)) and t, 10, "the callback task")
    assert tasks[0][:2] == ("volunteers", "Hilfe mit Telefon, Computer oder Haus-Chat")
    assert len(database.tasks_for()) == before + 1
    wait_for(lambda: database.call_of(ERIKA)[-1][1] == "ended", 10, "the call record to close")
