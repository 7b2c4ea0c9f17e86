"""A short-lived cache of call contexts: every webhook of a call needs one, the directory rarely changes.

Building a context costs a handful of queries (caller, house, partners, volunteers, holidays). The
cache keeps it per caller number for one wall-clock minute (opening hours have minute resolution)
and at most TTL_SECONDS, so a directory import is seen by calls within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime

from ivr.engine.context import CallContext

TTL_SECONDS = 30.0
MAX_ENTRIES = 2048


class CachedContexts:
    """Wraps build_context(session, number, now_utc, settings) with a per-number, per-minute cache.

    Called as cached(open_session, number, now_utc, settings): open_session() is called only on a
    miss, so a hit needs no database session at all.
    """

    def __init__(self, build_context, ttl: float = TTL_SECONDS):
        self.build_context = build_context
        self.ttl = ttl
        self._entries: dict[tuple, tuple[float, CallContext]] = {}
        self._lock = threading.Lock()

    def __call__(self, open_session, number: str | None, now_utc: datetime, settings) -> CallContext:
        key = (number, now_utc.replace(second=0, microsecond=0))
        with self._lock:
            hit = self._entries.get(key)
        if hit and time.monotonic() - hit[0] < self.ttl:
            context = hit[1]
        else:
            context = self.build_context(open_session(), number, now_utc, settings)
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (time.monotonic(), context)
        # The minute is shared; the exact moment is not (conditions compare against it).
        return replace(context, now=now_utc.astimezone(context.now.tzinfo))

    def clear(self) -> None:
        """Forget everything (after a directory import in the same process)."""
        with self._lock:
            self._entries.clear()
