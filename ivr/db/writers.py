"""One SQLite writer at a time, queued in the kernel rather than in SQLite's busy handler.

Writers racing for SQLite's lock wait in its busy handler, which polls with sleeps of up to 100 ms
(sqlite3.c, sqliteDefaultBusyCallback): under load that is the whole latency tail. A threading lock
queues the threads of one process; an flock() on a file beside the database queues the processes,
and the kernel wakes the next waiter the moment the lock is free (bench/webhooks.py: p99 12 ms with
the lock, 25-47 ms without, same throughput). PostgreSQL needs neither: its row locks serialise only
writes of the same call, and the versioned UPDATE (ivr.calls.store) settles races between them.
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
def _exclusive(database: str):
    thread_lock, fd = _lock_for(database)
    with thread_lock:
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


def sqlite_writer(database_url: str):
    """A context manager serialising write transactions on this SQLite file; a no-op for other databases.

    Hold it from the first write to the commit, not longer: everything inside it runs one at a time
    across all server processes.
    """
    database = _sqlite_file(database_url)
    return contextlib.nullcontext() if database is None else _exclusive(database)
