"""SQLite writers take turns (ivr.db.turns): every way a transaction ends hands the turn on; waits stay bounded."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from ivr.db import make_engine

TIMEOUT = 1.0  # seconds; a turn that was never handed on makes the next writer fail after this


@pytest.fixture
def engine(sqlite_url):
    engine = make_engine(sqlite_url, timeout=TIMEOUT)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    engine.dispose()


def write_in_another_thread(engine) -> list:
    """Insert a row from a new thread (its own connection); the outcome: [] or the error."""
    errors = []

    def write():
        try:
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO notes (body) VALUES ('next')"))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    return errors


def test_commit_rollback_and_a_closed_connection_each_hand_the_turn_on(engine):
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('committed')"))
    assert write_in_another_thread(engine) == []

    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('rolled back')"))
        raise RuntimeError("the step failed")
    assert write_in_another_thread(engine) == []

    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
    connection.invalidate()  # the pool throws the connection away without a rollback
    assert write_in_another_thread(engine) == []
    with engine.connect() as connection:
        bodies = connection.scalars(text("SELECT body FROM notes ORDER BY id")).all()
    assert bodies == ["committed", "next", "next", "next"]


def test_readers_do_not_wait_for_a_writer(engine):
    with engine.begin() as writing:
        writing.execute(text("INSERT INTO notes (body) VALUES ('in progress')"))
        with engine.connect().execution_options(hausruf_read_only=True) as reading:
            assert reading.scalar(text("SELECT count(*) FROM notes")) == 0


def test_a_turn_kept_by_another_process_costs_one_timeout_and_says_so(engine, sqlite_url):
    path = sqlite_url.removeprefix("sqlite:///") + "-writers"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import fcntl, sys, time; f = open({path!r}, 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
                               "print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        (error,) = write_in_another_thread(engine)
        assert isinstance(error, OperationalError) and isinstance(error.orig, sqlite3.OperationalError)
        assert "another process kept its turn to write for 1 s" in str(error)
    finally:
        holder.kill()
        holder.wait()
    assert write_in_another_thread(engine) == []  # the holder is gone: the turn is free again


def test_a_lock_held_outside_the_turns_still_ends_in_sqlites_own_timeout(engine, sqlite_url):
    outsider = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")  # e.g. the sqlite3 shell, which knows nothing of turns
    try:
        (error,) = write_in_another_thread(engine)
        assert "database is locked" in str(error)
    finally:
        outsider.rollback()
        outsider.close()
    assert write_in_another_thread(engine) == []  # the failed BEGIN handed its turn on
