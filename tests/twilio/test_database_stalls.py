"""A database that stalls (locked by another program, a hung server) costs the caller seconds, not the call."""

from __future__ import annotations

import threading

from sqlalchemy import text

from tests.support.apps import migrated_app
from ivr.calls.spool import take_spooled
from ivr.db import engine_of, make_engine
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, STAFF, WEDNESDAY_10, app_config, load_demo_directory
from ivr.wiring import hausruf

TWILIO_GIVES_UP_SECONDS = 15  # Twilio's default webhook timeout: after it the caller hears an error


def _hold_the_database(database_url):
    """Another program's transaction that locks the calls table until rolled back."""
    connection = make_engine(database_url).connect()
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE"))  # even reads wait
    else:
        connection.execute(text("UPDATE calls SET version = version"))  # SQLite's one write lock
    return connection


def test_a_locked_database_puts_the_caller_through_to_staff_before_twilio_gives_up(database_url, tmp_path):
    app = migrated_app(app_config(database_url, tmp_path, database_timeout=1))
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
    holder = _hold_the_database(database_url)
    try:
        pressing = threading.Thread(target=call.press, args=("4",))
        pressing.start()
        pressing.join(TWILIO_GIVES_UP_SECONDS)
        answered = not pressing.is_alive()
    finally:
        holder.rollback()
        holder.close()
        pressing.join()
        engine_of(app).dispose()
    assert answered, "the webhook waited on the database for longer than Twilio waits for an answer"
    assert [n.text for n in call.twiml.iter("Number")] == [STAFF]  # the apology, then a person
    assert [entry["from"] for entry in take_spooled(app.config["HAUSRUF"].data_dir)] == [ERIKA]


def test_another_process_holding_sqlites_write_lock_costs_one_timeout_not_more(sqlite_url, tmp_path):
    import subprocess
    import sys
    import time

    app = migrated_app(app_config(sqlite_url, tmp_path, database_timeout=1))
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    database = sqlite_url.removeprefix("sqlite:///")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({database!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"  # as a worker hung inside its write transaction would
        "print('locked', flush=True)\n"
        "time.sleep(30)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        began = time.monotonic()
        call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
        waited = time.monotonic() - began
    finally:
        holder.kill()
        holder.wait()
        engine_of(app).dispose()
    assert waited < 1 + 1.0, f"the new call waited {waited:.1f} s for a 1 s database timeout"
    assert [n.text for n in call.twiml.iter("Number")] == [STAFF]  # the apology, then a person
    assert [entry["from"] for entry in take_spooled(app.config["HAUSRUF"].data_dir)] == [ERIKA]
