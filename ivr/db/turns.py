"""SQLite's one writer at a time, in turn: a writer waits on locks that hand over at once, not in SQLite's sleeps.

SQLite lets one connection write at a time. A connection that finds the database locked sleeps in
SQLite's busy handler, 1, 2, 5, 10 ... up to 100 ms between tries, so under a steady stream of short
menu steps from many threads a writer sleeps while the lock is mostly free: measured with 8 threads,
a step's commit took 0.9 ms at the median but 180 ms at p99 and 1.3 s at worst, and the webhooks'
p99 missed its 50 ms floor by far (docs/performance.md). So before BEGIN IMMEDIATE a connection
takes its turn: the process's lock (threads queue there and wake at once) and then an flock on a
file beside the database (one waiting thread per process polls it every half millisecond). Both are
bounded by the busy timeout; the turn ends with the transaction (commit or rollback).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path

POLL_SECONDS = 0.0005  # how often the one waiting thread of a process tries the file lock


class WriteTurn:
    """The right to write to one SQLite file, shared by the threads of this process and other processes."""

    def __init__(self, database: Path, timeout: float):
        self.path = database.with_name(database.name + "-writers")  # beside -wal and -shm
        self.timeout = timeout
        self._threads = threading.Lock()
        self._file = None
        self._pid = 0

    def take(self) -> None:
        """Wait for the turn, at most the busy timeout; sqlite3.OperationalError as SQLite's own wait would raise."""
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError(f"database is locked (no turn to write within {self.timeout:g} s)")
        try:
            lock_file = self._lock_file()
            while True:
                try:
                    fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise sqlite3.OperationalError(
                            f"database is locked (another process kept its turn to write for {self.timeout:g} s)"
                        ) from None
                    time.sleep(POLL_SECONDS)
        except BaseException:
            self._threads.release()
            raise

    def give_back(self) -> None:
        """End the turn taken by take()."""
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()

    def _lock_file(self):
        # Opened per process: a file description inherited through fork would share the lock with the parent.
        if self._pid != os.getpid():
            self._file = open(self.path, "a")  # noqa: SIM115 - kept open for the life of the process
            self._pid = os.getpid()
        return self._file


class TurnTakingConnection(sqlite3.Connection):
    """A pysqlite connection that gives its write turn back when its transaction ends."""

    turn: WriteTurn | None = None
    holding = False

    def take_turn(self) -> None:
        """Wait for this database's write turn (before BEGIN IMMEDIATE)."""
        if self.turn is not None and not self.holding:
            self.turn.take()
            self.holding = True

    def give_back_turn(self) -> None:
        """The transaction ended (or never began): the next writer may go."""
        if self.holding:
            self.holding = False
            self.turn.give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_back_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_back_turn()

    def close(self) -> None:
        # A connection the pool throws away after an error may be closed without a rollback.
        try:
            super().close()
        finally:
            self.give_back_turn()
