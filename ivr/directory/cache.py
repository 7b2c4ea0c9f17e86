"""Callers' contexts from the directory kept in memory, per process, until the directory changes.

Reading the directory was half of a menu step's time (five queries: the caller, the partners and
regions, the house's volunteers, the housing projects; docs/performance.md), and without it the
step path missed its floor. The directory changes a few times a day (an import, an edit in the
console, an erasure), so a process keeps what it read under the directory's version, a counter that
database triggers bump in every transaction that changes a directory table, whoever writes
(migration 0012). A step reads that one row and rebuilds nothing while the count stays; the first
step after a change, in any process, reads afresh. What depends on the moment (open now, quiet
hours, holidays) is worked out on every step from the kept rows.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.directory.routing import DirectoryReads, context_from
from ivr.engine.context import CallContext

T = TypeVar("T")
# Distinct callers kept per version; beyond it the memory starts again (callers with withheld or
# made-up numbers must not grow a server process without bound).
MOST_KEPT = 20_000
VERSION = text("SELECT version FROM directory_version WHERE id = 1")  # the table of ivr.db.models.DirectoryVersion


class DirectoryCache:
    """A context builder (ivr.calls.handler.ContextBuilder) that reads the directory once per version."""

    def __init__(self):
        self._version: int | None = None
        self._kept: dict[object, object] = {}
        self._lock = threading.Lock()

    def __call__(self, session: Session, caller: str | None, now_utc: datetime, settings: Settings) -> CallContext:
        version = session.execute(VERSION).scalar()
        return context_from(DirectoryReads(session, self._remembering(version)), caller, now_utc, settings)

    def _remembering(self, version: int | None) -> Callable[[object, Callable[[], T]], T]:
        """remember(key, read) for reads made at this version: kept while the version is current."""
        with self._lock:
            if version != self._version:
                self._version, self._kept = version, {}
            kept = self._kept

        def remember(key: object, read: Callable[[], T]) -> T:
            if key in kept:
                return kept[key]
            value = read()
            # Only while the version is still the current one: a step that read an older version
            # must not leave its rows under a newer one. (A dict's get and set are atomic in CPython.)
            if version is not None and kept is self._kept:
                if len(kept) >= MOST_KEPT:
                    kept.clear()
                kept[key] = value
            return value

        return remember
