"""One SQLite writer at a time, queued in the kernel rather than in SQLite's busy handler.

Writers racing for SQLite's lock wait in its busy handler, which polls with sleeps of up to 100 ms
(sqlite3.c, sqliteDefaultBusyCallback): under load that is the whole latency tail. A threading lock
queues the threads of one process; an flock() on a file beside the database queues the processes,
and the kernel wakes the next waiter the moment the lock is free (bench/webhooks.py: p99 12 ms with
the lock, 25-47 ms without, same throughput, when every step was a transaction of four statements).

A writer of a single autocommit statement (a plain webhook step, ivr.calls.store) holds SQLite's
lock only for that statement's few dozen microseconds. Such writers queue only with the threads of
their own process: the two flock() calls cost more than they save (bench/webhooks.py --against:
1.05-1.15 times the steps per second, p99 unchanged at 8 and 16 connections). When one meets a
writer of another process, SQLite's busy handler would sleep a whole millisecond before it looks
again, twenty times the wait (strace under load: a busy sleep in one step of five), so the call
store's connections wait themselves: retry_while_busy() looks again after 50 microseconds, then
doubles the pause.

A writer waits at most `timeout` seconds (the web app passes HAUSRUF_DB_TIMEOUT): a process that
hangs inside its transaction must not leave every other caller in silence. With a timeout the
flock is polled (0.2 ms, doubling to 2 ms) rather than queued in the kernel; transactions are a
few per call (a new call, a booking, the status callback), so that costs next to nothing.

PostgreSQL needs none of this: its row locks serialise only writes of the same call, and the
versioned UPDATE (ivr.calls.store) settles races between them.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import sqlite3
import threading
import time
from typing import Callable, TypeVar
from pathlib import Path

from sqlalchemy.engine import make_url

_thread_locks: dict[str, threading.Lock] = {}
_files: dict[str, int] = {}
_guard = threading.Lock()


def _lock_for(database: str) -> tuple[threading.Lock, int]:
    if database in _files:  # set up once per file; dict reads are atomic
        return _thread_locks[database], _files[database]
    with _guard:
        if database not in _files:
            path = Path(f"{database}.writer-lock")
            path.parent.mkdir(parents=True, exist_ok=True)
            _thread_locks[database] = threading.Lock()  # before _files: the fast path reads both
            _files[database] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return _thread_locks[database], _files[database]


FIRST_PAUSE = 0.0002
LONGEST_PAUSE = 0.002
FIRST_BUSY_PAUSE = 0.00005  # a one-statement write holds SQLite's lock for a few dozen microseconds


class WriterLockTimeout(TimeoutError):
    """Another writer held the SQLite writer lock for longer than this one may wait."""


@contextlib.contextmanager
def _exclusive(database: str, across_processes: bool, timeout: float | None):
    thread_lock, fd = _lock_for(database)
    if not thread_lock.acquire(timeout=-1 if timeout is None else timeout):
        raise WriterLockTimeout(f"another thread of this process held the writer lock of {database} "
                                f"for more than {timeout} s")
    try:
        if not across_processes:
            yield
            return
        _lock_file(fd, database, timeout)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        thread_lock.release()


def _lock_file(fd: int, database: str, timeout: float | None) -> None:
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)  # queued in the kernel, woken the moment it is free
        return
    if _try_flock(fd):
        return
    for _ in _pauses(timeout, FIRST_PAUSE):
        if _try_flock(fd):
            return
    raise WriterLockTimeout(f"another process held the writer lock of {database} for more than {timeout} s")


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _pauses(timeout: float, first_pause: float):
    """Sleep before each further attempt (first_pause, doubling to LONGEST_PAUSE) until timeout seconds are up."""
    deadline = time.monotonic() + timeout
    pause = first_pause
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(pause, left))
        pause = min(pause * 2, LONGEST_PAUSE)
        yield


@functools.lru_cache(maxsize=16)
def _sqlite_file(database_url: str) -> str | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


def sqlite_writer(database_url: str, transaction: bool = True, timeout: float | None = None):
    """A context manager serialising writes to this SQLite file; a no-op for other databases.

    Hold it from the first write to the commit, not longer: everything inside it runs one at a time
    across all server processes. With transaction=False the holder runs one autocommit statement
    and queues only with the threads of its own process (see the module's docstring). Waiting
    longer than timeout seconds raises WriterLockTimeout.
    """
    database = _sqlite_file(database_url)
    if database is None:
        return contextlib.nullcontext()
    return _exclusive(database, across_processes=transaction, timeout=timeout)


T = TypeVar("T")


def is_busy(error: BaseException) -> bool:
    """True for SQLite's "database is locked": another connection holds the lock this one needs."""
    code = getattr(getattr(error, "orig", error), "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY  # extended codes keep BUSY in the low byte


def retry_while_busy(run: Callable[[], T], timeout: float) -> T:
    """run() again after short pauses while SQLite reports its lock held, for at most timeout seconds.

    For a connection with busy_timeout 0 whose run() just failed busy: it pauses before each attempt.
    """
    for _ in _pauses(timeout, FIRST_BUSY_PAUSE):
        try:
            return run()
        except Exception as error:  # noqa: BLE001 - only "database is locked" is waited out
            if not is_busy(error):
                raise
    raise WriterLockTimeout(f"SQLite's lock was held by another connection for more than {timeout} s")
