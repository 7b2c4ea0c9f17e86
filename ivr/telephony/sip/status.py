"""The SIP line's state for /healthz and /metrics: `hausruf sip` writes data/sip/status.json, the web app reads it.

The line runs in its own process, so it leaves its state in a small file (rewritten when a call starts
or ends, when the registration changes and every 10 s; removed on a clean stop) instead of the web app
asking it over a socket. That also keeps the line out of prometheus_client's multiprocess folder, which
`hausruf serve` empties when it starts: SipCollector turns the file into metrics at scrape time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

STALE_SECONDS = 60  # six missed rewrites: the line is gone (killed, or hung)


def status_path(data_dir: Path) -> Path:
    """Where the running line keeps its state."""
    return data_dir / "sip" / "status.json"


def read_status(data_dir: Path) -> dict | None:
    """The line's last status, or None when no line runs here."""
    try:
        return json.loads(status_path(data_dir).read_text())
    except (OSError, ValueError):
        return None


def sip_health(data_dir: Path, now: float | None = None) -> tuple[dict | None, bool]:
    """(what /healthz shows about the SIP line or None when none runs here, whether it is healthy)."""
    status = read_status(data_dir)
    if status is None:
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


class SipCollector:
    """/metrics of the SIP line on this machine, read from its status file when Prometheus scrapes.

    Nothing is reported when no line runs here (a Twilio-only hotline). The call counters count from
    the line's start, so a restart resets them, as Prometheus expects of counters.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        status = read_status(self.data_dir)
        if status is None:
            return
        fresh = time.time() - float(status.get("updated", 0)) <= STALE_SECONDS
        yield GaugeMetricFamily("hausruf_sip_up", "1 while the SIP line reports in (0: silent for a minute)",
                                value=1.0 if fresh else 0.0)
        active = GaugeMetricFamily("hausruf_sip_calls_active", "Calls on the SIP line now", labels=["leg"])
        active.add_metric(["caller"], status.get("active_calls", 0) if fresh else 0)
        active.add_metric(["outgoing"], status.get("outgoing_legs", 0) if fresh else 0)
        yield active
        yield GaugeMetricFamily("hausruf_sip_calls_max", "Calls one SIP line process can hold (callers and "
                                "outgoing legs together)", value=status.get("max_calls", 0))
        calls = CounterMetricFamily("hausruf_sip_incoming_calls", "INVITEs since the SIP line started, by what "
                                    "became of them: answered, forbidden (403, not in HAUSRUF_SIP_ALLOW), "
                                    "busy (486, every call in use), failed", labels=["result"])
        for result, count in sorted((status.get("calls") or {}).items()):
            calls.add_metric([result], count)
        yield calls
        yield CounterMetricFamily("hausruf_sip_fallbacks", "SIP calls put through to staff (or promised a "
                                  "callback) because a step failed", value=status.get("fallbacks", 0))
        if status.get("registrar"):
            yield GaugeMetricFamily("hausruf_sip_registered", "1 while the SIP line is registered at its registrar",
                                    value=1.0 if fresh and status.get("registered") else 0.0)
            yield GaugeMetricFamily("hausruf_sip_registration_status", "The SIP status code of the last "
                                    "registration attempt (200: registered)", value=status.get("code") or 0)
