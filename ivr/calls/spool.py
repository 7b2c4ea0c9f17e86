"""Last resort when the database is down: the caller's number goes to a local file, never lost.

The worker (`hausruf worker`) turns spooled entries into staff callback tasks once the database is back.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

_lock = threading.Lock()


def spool_path(data_dir: Path) -> Path:
    """Where missed calls wait for the database."""
    return data_dir / "spool" / "missed-calls.jsonl"


def spool_missed_call(data_dir: Path, provider: str, call_id: str, from_number: str, reason: str) -> None:
    """Append one missed call, flushed to disk before returning."""
    path = spool_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"at": datetime.now(timezone.utc).isoformat(), "provider": provider, "call_id": call_id,
                       "from": from_number, "reason": reason[:200]})
    with _lock, open(path, "a", encoding="utf-8") as spool:
        spool.write(line + "\n")
        spool.flush()
        os.fsync(spool.fileno())


def take_spooled(data_dir: Path) -> list[dict]:
    """Read and remove every spooled entry (the caller books them in one transaction)."""
    path = spool_path(data_dir)
    claimed = path.with_suffix(".claimed")
    with _lock:
        # Entries claimed by a run that crashed before finish_spooled are kept and taken again.
        if path.exists():
            with open(claimed, "a", encoding="utf-8") as out:
                out.write(path.read_text(encoding="utf-8"))
            path.unlink()
    if not claimed.exists():
        return []
    entries = [json.loads(line) for line in claimed.read_text(encoding="utf-8").splitlines() if line.strip()]
    return entries


def finish_spooled(data_dir: Path) -> None:
    """Forget claimed entries after they were booked."""
    spool_path(data_dir).with_suffix(".claimed").unlink(missing_ok=True)
