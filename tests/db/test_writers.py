"""The SQLite writer lock: transactions queue across processes, single statements only within one."""

from __future__ import annotations

import fcntl
import os
import threading
import time

import pytest

from ivr.db.writers import WriterLockTimeout, sqlite_writer


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


def test_a_writer_waits_for_another_process_at_most_its_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
    with sqlite_writer(url):  # creates the lock file
        pass
    other_process = os.open(tmp_path / "hausruf.sqlite3.writer-lock", os.O_RDWR)
    fcntl.flock(other_process, fcntl.LOCK_EX)  # as a process hung inside its transaction would
    try:
        started = time.monotonic()
        with pytest.raises(WriterLockTimeout, match="another process held the writer lock"):
            with sqlite_writer(url, timeout=0.3):
                pass
        assert 0.3 <= time.monotonic() - started < 2
        with sqlite_writer(url, transaction=False, timeout=0.3):  # single statements do not wait for it
            pass
    finally:
        os.close(other_process)  # the lock goes with the file, as with a process that ends
    with sqlite_writer(url, timeout=0.3):
        assert _file_is_locked(tmp_path / "hausruf.sqlite3.writer-lock")


def test_a_writer_waits_for_another_thread_at_most_its_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
    holding, done = threading.Event(), threading.Event()

    def hold():
        with sqlite_writer(url, transaction=False):
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        with pytest.raises(WriterLockTimeout, match="another thread of this process"):
            with sqlite_writer(url, timeout=0.2):
                pass
    finally:
        done.set()
        holder.join()
    with sqlite_writer(url, timeout=0.2):
        pass


@pytest.mark.parametrize("url", ["postgresql://localhost/hausruf", "sqlite://"])
def test_other_databases_need_no_lock(url):
    with sqlite_writer(url), sqlite_writer(url, transaction=False):
        pass
