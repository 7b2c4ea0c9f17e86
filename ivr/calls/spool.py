"""Last resort when the database is down: the caller's number goes to a local file, never lost.

The worker (`hausruf worker`) turns spooled entries into staff callback tasks once the database is back.
Every reader and writer of the spool files (the webhooks' appends, the worker's take, the privacy
erase's rewrite) holds locked(): a thread lock within the process and an flock() on a lock file
beside the spool across processes, and opens the spool only inside it. So a rewrite by rename can
never drop an append made to the file it replaces.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

_lock = threading.Lock()
log = logging.getLogger("hausruf.spool")
# The holders only move, read or rewrite a small file; a caller waits at most this long (a webhook must
# answer within Twilio's 15 s) and then appends unlocked rather than leaving the caller in silence.
APPEND_WAIT = 5.0


def spool_path(data_dir: Path) -> Path:
    """Where missed calls wait for the database."""
    return data_dir / "spool" / "missed-calls.jsonl"


@contextlib.contextmanager
def locked(data_dir: Path, wait: float | None = None):
    """Hold the spool (this process's threads and every other process); yields the spool's path.

    With wait, gives up after that many seconds and yields anyway (logged): only for the append of a
    caller's number, which must not wait for ever.
    """
    path = spool_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock:
        fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if not _flock(fd, wait):
                log.error("spool lock held for more than %s s; appending without it", wait)
            yield path
        finally:
            os.close(fd)  # releases the flock


def _flock(fd: int, wait: float | None) -> bool:
    if wait is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)


def spool_missed_call(data_dir: Path, provider: str, call_id: str, from_number: str, reason: str) -> None:
    """Append one missed call, flushed to disk before returning."""
    line = json.dumps({"at": datetime.now(timezone.utc).isoformat(), "provider": provider, "call_id": call_id,
                       "from": from_number, "reason": reason[:200]})
    with locked(data_dir, wait=APPEND_WAIT) as path, open(path, "a", encoding="utf-8") as spool:
        spool.write(line + "\n")
        spool.flush()
        os.fsync(spool.fileno())


def take_spooled(data_dir: Path) -> list[dict]:
    """Read and remove every spooled entry (the caller books them in one transaction)."""
    with locked(data_dir) as path:
        claimed = path.with_suffix(".claimed")
        # Entries claimed by a run that crashed before finish_spooled are kept and taken again.
        if path.exists():
            with open(claimed, "a", encoding="utf-8") as out:
                out.write(path.read_text(encoding="utf-8"))
                out.flush()
                os.fsync(out.fileno())
            path.unlink()
        if not claimed.exists():
            return []
        return [json.loads(line) for line in claimed.read_text(encoding="utf-8").splitlines() if line.strip()]


def finish_spooled(data_dir: Path) -> None:
    """Forget claimed entries after they were booked."""
    with locked(data_dir) as path:
        path.with_suffix(".claimed").unlink(missing_ok=True)
