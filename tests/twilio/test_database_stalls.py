"""A database that stalls (locked by another program, a hung server) costs the caller seconds, not the call."""

from __future__ import annotations

import threading

from sqlalchemy import text

from ivr import create_app
from ivr.calls.spool import take_spooled
from ivr.db import engine_of, make_engine
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, STAFF, WEDNESDAY_10, app_config, load_demo_directory

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
    app = create_app(app_config(database_url, tmp_path, database_timeout=1))
    app.extensions["hausruf.clock"] = lambda: WEDNESDAY_10
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


def test_a_writer_hung_in_another_process_costs_a_new_caller_seconds_not_the_call(sqlite_url, tmp_path):
    import fcntl
    import os

    app = create_app(app_config(sqlite_url, tmp_path, database_timeout=1))
    app.extensions["hausruf.clock"] = lambda: WEDNESDAY_10
    load_demo_directory(app)
    lock_file = tmp_path / "hausruf.sqlite3.writer-lock"
    lock_file.touch()
    other_process = os.open(lock_file, os.O_RDWR)
    fcntl.flock(other_process, fcntl.LOCK_EX)  # as a worker hung inside its write transaction would
    try:
        calling = threading.Thread(target=lambda: answers.append(
            CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)))
        answers = []
        calling.start()
        calling.join(TWILIO_GIVES_UP_SECONDS)
        answered = not calling.is_alive()
    finally:
        os.close(other_process)
        calling.join()
        engine_of(app).dispose()
    assert answered, "the new call waited on the writer lock for longer than Twilio waits for an answer"
    assert [n.text for n in answers[0].twiml.iter("Number")] == [STAFF]  # the apology, then a person
    assert [entry["from"] for entry in take_spooled(app.config["HAUSRUF"].data_dir)] == [ERIKA]
