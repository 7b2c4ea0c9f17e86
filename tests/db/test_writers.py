"""The SQLite writer lock: transactions queue across processes, single statements only within one."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest

from ivr.db.writers import sqlite_writer


def _file_is_locked(lock_file) -> bool:
    """Whether another open file (as another process would have) can take the flock now."""
    fd = os.open(lock_file, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_transaction_holds_the_file_lock_other_processes_queue_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
    with sqlite_writer(url):
        assert _file_is_locked(tmp_path / "hausruf.sqlite3.writer-lock")
    assert not _file_is_locked(tmp_path / "hausruf.sqlite3.writer-lock")


def test_a_single_statement_leaves_other_processes_alone_but_queues_this_process_threads(tmp_path):
    url = f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
    entered = threading.Event()

    def write_too():
        with sqlite_writer(url):
            entered.set()

    with sqlite_writer(url, transaction=False):
        assert not _file_is_locked(tmp_path / "hausruf.sqlite3.writer-lock")
        other = threading.Thread(target=write_too)
        other.start()
        assert not entered.wait(0.2)  # a thread of this process waits for the statement
    assert entered.wait(5)
    other.join()


@pytest.mark.parametrize("url", ["postgresql://localhost/hausruf", "sqlite://"])
def test_other_databases_need_no_lock(url):
    with sqlite_writer(url), sqlite_writer(url, transaction=False):
        pass
