"""A request's database work under one deadline, in a bounded set of threads the size of the pool.

Per-statement timeouts do not bound a webhook: a frozen PostgreSQL server (a hung host, a network
partition) still has its kernel acknowledge TCP, so neither statement_timeout nor keepalives fire,
and several waits in one webhook add up. So a webhook hands its database work to this gate, which
runs it in one of `slots` threads (as many as the pool has connections) and waits for it until the
deadline. At the deadline the webhook gives up (the caller gets the staff fallback), the thread
stays stuck until the database answers, and `stuck` counts such threads for /healthz and the logs.
A step whose deadline passed is never committed later: the caller was already put through.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Callable, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("hausruf.db")
T = TypeVar("T")
DEADLINE = "hausruf_deadline"  # Session.info key: time.monotonic() after which nothing may commit


class DatabaseTimeout(TimeoutError):
    """The database did not finish a request's work before its deadline."""


class DatabaseGate:
    """Runs work(session) in a fresh session on a bounded thread; DatabaseTimeout at the deadline."""

    def __init__(self, sessions: sessionmaker[Session], slots: int, timeout: float):
        self.sessions = sessions
        self.slots = slots
        self.timeout = timeout
        self._free = threading.BoundedSemaphore(slots)
        self._executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="database")
        self._stuck = 0
        self._lock = threading.Lock()
        event.listen(sessions, "before_commit", _refuse_late_commit)

    @property
    def stuck(self) -> int:
        """Threads still waiting for the database after their request gave up on them."""
        return self._stuck

    def run(self, work: Callable[[Session], T], timeout: float | None = None) -> T:
        """work(session) with its own session; waits for a free slot and the work together at most timeout seconds."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if not self._free.acquire(timeout=timeout):
            raise DatabaseTimeout(f"all {self.slots} database slots stayed busy for {timeout:g} s "
                                  f"({self._stuck} stuck on the database)")
        try:
            future = self._executor.submit(self._in_session, work, deadline)
        except BaseException:
            self._free.release()
            raise
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            with self._lock:
                self._stuck += 1
            future.add_done_callback(self._unstuck)
            log.error("database work passed its %g s deadline; %d thread(s) stuck on the database", timeout,
                      self._stuck)
            raise DatabaseTimeout(f"the database did not answer within {timeout:g} s") from None

    def _in_session(self, work: Callable[[Session], T], deadline: float) -> T:
        try:
            with self.sessions() as session:
                session.info[DEADLINE] = deadline
                return work(session)
        finally:
            self._free.release()

    def _unstuck(self, future) -> None:
        with self._lock:
            self._stuck -= 1

    def shutdown(self) -> None:
        """Stop accepting work (tests; a server process ends with its threads)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _refuse_late_commit(session: Session) -> None:
    deadline = session.info.get(DEADLINE)
    if deadline is not None and time.monotonic() > deadline:
        raise DatabaseTimeout("deadline passed before commit: the caller was already given the fallback")
