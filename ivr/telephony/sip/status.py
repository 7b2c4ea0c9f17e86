"""The SIP lines' state for /healthz and /metrics: each `hausruf sip` writes data/sip/status-PORT.json.

A line runs in its own process, so it leaves its state in a small file (rewritten when a call starts
or ends, when the registration changes and every 10 s; removed on a clean stop) instead of the web app
asking it over a socket. That also keeps the lines out of prometheus_client's multiprocess folder, which
`hausruf serve` empties when it starts: SipCollector turns the files into metrics at scrape time.
Several lines may share a data folder (behind a SIP edge, docs/sip.md): one file each, by SIP port.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

STALE_SECONDS = 60  # six missed rewrites: the line is gone (killed, or hung)


def status_path(data_dir: Path, port: int) -> Path:
    """Where the line listening on this SIP port keeps its state."""
    return data_dir / "sip" / f"status-{port}.json"


def read_statuses(data_dir: Path) -> list[dict]:
    """The last status of every line that keeps one in this data folder, by SIP port."""
    found = []
    for path in sorted((data_dir / "sip").glob("status-*.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue  # removed or being replaced right now
    return found


def _line_health(status: dict, now: float) -> tuple[dict, bool]:
    age = now - float(status.get("updated", 0))
    report = {"listen": status.get("listen"), "active_calls": status.get("active_calls", 0),
              "registrar": status.get("registrar"), "registered": status.get("registered"),
              "registration": f"{status.get('code') or ''} {status.get('reason') or ''}".strip()}
    if age > STALE_SECONDS:
        report["error"] = f"no word from the SIP line on {status.get('listen')} for {int(age)} s"
        return report, False
    return report, not status.get("registrar") or bool(status.get("registered"))


def sip_health(data_dir: Path, now: float | None = None) -> tuple[dict | None, bool]:
    """(what /healthz shows about the SIP lines or None when none runs here, whether they are healthy).

    One line: its report. Several: the first unhealthy line's report (or the first line's), with the
    calls of all of them added up and every line's report under "lines".
    """
    reports = [_line_health(status, now or time.time()) for status in read_statuses(data_dir)]
    if not reports:
        return None, True
    if len(reports) == 1:
        return reports[0]
    shown = next((report for report, healthy in reports if not healthy), reports[0][0])
    together = {**shown, "active_calls": sum(report["active_calls"] for report, _ in reports),
                "lines": [report for report, _ in reports]}
    return together, all(healthy for _, healthy in reports)


class SipCollector:
    """/metrics of the SIP lines on this machine (label `line`: the address each listens on), read from their
    status files when Prometheus scrapes.

    Nothing is reported when no line runs here (a Twilio-only hotline). The call counters count from
    the line's start, so a restart resets them, as Prometheus expects of counters.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        statuses = read_statuses(self.data_dir)
        if not statuses:
            return
        now = time.time()
        up = GaugeMetricFamily("hausruf_sip_up", "1 while the SIP line reports in (0: silent for a minute)",
                               labels=["line"])
        active = GaugeMetricFamily("hausruf_sip_calls_active", "Calls on the SIP line now", labels=["line", "leg"])
        most = GaugeMetricFamily("hausruf_sip_calls_max", "Calls one SIP line process can hold (callers and "
                                 "outgoing legs together)", labels=["line"])
        calls = CounterMetricFamily("hausruf_sip_incoming_calls", "INVITEs since the SIP line started, by what "
                                    "became of them: answered, forbidden (403, not in HAUSRUF_SIP_ALLOW), "
                                    "busy (486, every call in use), failed", labels=["line", "result"])
        fallbacks = CounterMetricFamily("hausruf_sip_fallbacks", "SIP calls put through to staff (or promised a "
                                        "callback) because a step failed", labels=["line"])
        registered = GaugeMetricFamily("hausruf_sip_registered", "1 while the SIP line is registered at its "
                                       "registrar", labels=["line"])
        code = GaugeMetricFamily("hausruf_sip_registration_status", "The SIP status code of the last registration "
                                 "attempt (200: registered)", labels=["line"])
        for status in statuses:
            line = str(status.get("listen"))
            fresh = now - float(status.get("updated", 0)) <= STALE_SECONDS
            up.add_metric([line], 1.0 if fresh else 0.0)
            active.add_metric([line, "caller"], status.get("active_calls", 0) if fresh else 0)
            active.add_metric([line, "outgoing"], status.get("outgoing_legs", 0) if fresh else 0)
            most.add_metric([line], status.get("max_calls", 0))
            for result, count in sorted((status.get("calls") or {}).items()):
                calls.add_metric([line, result], count)
            fallbacks.add_metric([line], status.get("fallbacks", 0))
            if status.get("registrar"):
                registered.add_metric([line], 1.0 if fresh and status.get("registered") else 0.0)
                code.add_metric([line], status.get("code") or 0)
        yield from (up, active, most, calls, fallbacks, registered, code)
