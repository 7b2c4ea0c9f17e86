"""One SQLite writer at a time, queued in the kernel rather than in SQLite's busy handler.

Writers racing for SQLite's lock wait in its busy handler, which polls with sleeps of up to 100 ms
(sqlite3.c, sqliteDefaultBusyCallback): under load that is the whole latency tail. A threading lock
queues the threads of one process; an flock() on a file beside the database queues the processes,
and the kernel wakes the next waiter the moment the lock is free (bench/webhooks.py: p99 12 ms with
the lock, 25-47 ms without, same throughput, when every step was a transaction of four statements).

A writer of a single autocommit statement (a plain webhook step, ivr.calls.store) holds SQLite's
lock only for that statement's few dozen microseconds, so a writer of another process rarely meets
it, and when it does the busy handler's first short sleep is enough. Such writers queue only with
the threads of their own process: the two flock() calls cost more than they save (bench/webhooks.py
--against: 1.05-1.15 times the steps per second, p99 unchanged at 8 and 16 connections).

PostgreSQL needs none of this: its row locks serialise only writes of the same call, and the
versioned UPDATE (ivr.calls.store) settles races between them.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
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


@contextlib.contextmanager
def _exclusive(database: str, across_processes: bool):
    thread_lock, fd = _lock_for(database)
    with thread_lock:
        if not across_processes:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


@functools.lru_cache(maxsize=16)
def _sqlite_file(database_url: str) -> str | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return url.database


def sqlite_writer(database_url: str, transaction: bool = True):
    """A context manager serialising writes to this SQLite file; a no-op for other databases.

    Hold it from the first write to the commit, not longer: everything inside it runs one at a time
    across all server processes. With transaction=False the holder runs one autocommit statement
    and queues only with the threads of its own process (see the module's docstring).
    """
    database = _sqlite_file(database_url)
    return contextlib.nullcontext() if database is None else _exclusive(database, across_processes=transaction)
