"""The SIP line's state for /healthz: `hausruf sip` writes data/sip/status.json, the web app reads it.

The line runs in its own process, so it leaves its registration state in a small file (rewritten on
every change and every 10 s, removed on a clean stop) instead of the web app asking it over a socket.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

STALE_SECONDS = 60  # six missed rewrites: the line is gone (killed, or hung)


def status_path(data_dir: Path) -> Path:
    """Where the running line keeps its state."""
    return data_dir / "sip" / "status.json"


def sip_health(data_dir: Path, now: float | None = None) -> tuple[dict | None, bool]:
    """(what /healthz shows about the SIP line or None when none runs here, whether it is healthy)."""
    path = status_path(data_dir)
    try:
        status = json.loads(path.read_text())
    except (OSError, ValueError):
        return None, True
    age = (now or time.time()) - float(status.get("updated", 0))
    report = {"listen": status.get("listen"), "active_calls": status.get("active_calls", 0),
              "registrar": status.get("registrar"), "registered": status.get("registered"),
              "registration": f"{status.get('code') or ''} {status.get('reason') or ''}".strip()}
    if age > STALE_SECONDS:
        report["error"] = f"no word from the SIP line for {int(age)} s"
        return report, False
    healthy = not status.get("registrar") or bool(status.get("registered"))
    return report, healthy
