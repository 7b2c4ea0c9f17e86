"""The server's and the worker's logs of a whole demo call carry no full phone number.

A real `hausruf serve` (gunicorn, access log on) and a real `hausruf worker`, both at DEBUG: a call
that books a callback and is put through to a partner (whisper fetched), an offer SMS that fails for
good and goes to the second helper, a helper's reply, and a call that hits a database error (the
fallback logs the failed INSERT of the caller's number). Every log line is then searched.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support.call_simulator import CallSimulator
from tests.support.server import HttpTransport, ServerProcess, free_port
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn
from tests.tasks.conftest import JONAS, PETRA
from tests.twilio.conftest import ERIKA, HOTLINE, STAFF

ROOT = Path(__file__).resolve().parents[2]
HAUSRUF = str(Path(sys.executable).parent / "hausruf")
NUMBERS = (ERIKA, JONAS, PETRA, STAFF, HOTLINE, "+493023125302")


def _full_numbers(text: str) -> list[str]:
    """Every known number found in text, in any usual spelling (the last 8 digits in a row)."""
    digits_only = re.sub(r"(?<=\d)[ \-/]+(?=\d)", "", text)
    return [n for n in NUMBERS if n[-8:] in digits_only]


def test_server_and_worker_logs_of_a_whole_demo_call_carry_no_number(tmp_path):
    standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    port = free_port()
    database = tmp_path / "hotline.sqlite3"
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{database}", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "HAUSRUF_TWILIO_API_BASE": standin.base_url,
           "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}", "HAUSRUF_STAFF_NUMBER": STAFF,
           "HAUSRUF_PHONE_NUMBER": HOTLINE, "HAUSRUF_DATA_DIR": str(tmp_path), "HAUSRUF_SPEECH": "off",
           "HAUSRUF_RENDER_PROMPTS": "off", "HAUSRUF_LOG_LEVEL": "DEBUG", "HAUSRUF_ACCESS_LOG": "-",
           "HAUSRUF_SMS_MAX_ATTEMPTS": "1"}
    full_env = {**os.environ, **env}
    # The server runs on the real clock: the grocery partner must be open whenever the suite runs.
    demo = shutil.copytree(ROOT / "data" / "demo", tmp_path / "demo")
    partners = demo / "partners.yaml"
    partners.write_text(partners.read_text().replace("opening_hours: Mo-Fr 08:00-18:00; Sa 08:00-14:00; PH off",
                                                     "opening_hours: 24/7", 1))
    # ... and the first helper awake (his quiet hours would send the offer straight to the second one).
    volunteers = demo / "volunteers.yaml"
    volunteers.write_text(volunteers.read_text().replace("  quiet_hours: 21:00-08:00\n", "", 1))
    subprocess.run([HAUSRUF, "import", str(demo)], env=full_env, cwd=ROOT, check=True, capture_output=True)
    standin.fail(JONAS, status=400, code=21211)  # the offer to the first helper fails for good
    server = ServerProcess(env, port=port).start()
    worker = None
    try:
        twilio = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN, to_number=HOTLINE)
        call = twilio.call(ERIKA)
        call.press("5")  # a callback for the IT helpers
        call.hang_up()
        other = twilio.call(ERIKA)
        other.press("1")  # groceries: put through to the partner, who hears the whisper
        other.dial_ends("completed")
        worker = subprocess.Popen([HAUSRUF, "worker"], env=full_env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 30
        while not standin.messages_to(PETRA) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert standin.messages_to(PETRA), "the offer never reached the second helper"
        assert twilio.post("/twilio/sms", {"MessageSid": "SM" + "3" * 32, "AccountSid": ACCOUNT_SID, "From": PETRA,
                                           "To": HOTLINE, "Body": "ok 1"}).status == 200
        with sqlite3.connect(database) as connection:  # the database fails the next call's INSERT (its number bound)
            connection.execute("CREATE TRIGGER refuse BEFORE INSERT ON calls BEGIN INSERT INTO lost_table VALUES (1); END")
        connection.close()
        failed = twilio.call(ERIKA)
        assert any(STAFF in (el.text or "") for el in failed.twiml.iter("Number"))  # fallback to a person
    except BaseException:
        server.stop()
        print(server.process.stderr.read().decode()[-6000:])
        raise
    finally:
        server.stop()
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=15)
        standin.stop()
    server_log = server.process.stderr.read().decode()
    worker_log = worker.stderr.read().decode()
    assert "POST /twilio/voice" in server_log and "no such table: main.lost_table" in server_log  # access log, database error
    assert "SQL parameters hidden due to hide_parameters=True" in server_log
    assert "Twilio API Request" in worker_log and "failed for good" in worker_log
    assert _full_numbers(server_log) == [] and _full_numbers(worker_log) == []
