"""The lines' status files as /healthz and /metrics read them: one line, several lines, a silent one."""

from __future__ import annotations

import json
import time

from prometheus_client import CollectorRegistry, generate_latest

from ivr.telephony.sip.status import STALE_SECONDS, SipCollector, sip_health, status_path
from tests.sip.conftest import metric_samples


def write_status(data_dir, port: int, **fields) -> None:
    status = {"listen": f"127.0.0.1:{port}", "updated": time.time(), "registrar": None, "registered": None,
              "code": None, "reason": "not registering", "active_calls": 0, "outgoing_legs": 0, "max_calls": 4,
              "calls": {"answered": 0, "forbidden": 0, "busy": 0, "failed": 0}, "fallbacks": 0, **fields}
    path = status_path(data_dir, port)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(status))


def scrape(data_dir) -> dict:
    registry = CollectorRegistry()
    registry.register(SipCollector(data_dir))
    return metric_samples(generate_latest(registry).decode())


def test_no_line_here_reports_nothing(tmp_path):
    assert sip_health(tmp_path) == (None, True)
    assert scrape(tmp_path) == {}


def test_one_line_is_reported_as_it_is(tmp_path):
    write_status(tmp_path, 5071, registrar="fritz.box", registered=True, code=200, reason="OK", active_calls=2)
    report, healthy = sip_health(tmp_path)
    assert healthy and report == {"listen": "127.0.0.1:5071", "active_calls": 2, "registrar": "fritz.box",
                                  "registered": True, "registration": "200 OK"}


def test_several_lines_add_up_and_a_silent_one_is_a_problem(tmp_path):
    write_status(tmp_path, 5071, active_calls=4, calls={"answered": 9, "busy": 1})
    write_status(tmp_path, 5072, active_calls=3, calls={"answered": 7, "busy": 0})
    write_status(tmp_path, 5073, active_calls=3, updated=time.time() - STALE_SECONDS - 5)
    report, healthy = sip_health(tmp_path)
    assert not healthy
    assert report["active_calls"] == 10 and len(report["lines"]) == 3
    assert report["error"].startswith("no word from the SIP line on 127.0.0.1:5073 for ")
    samples = scrape(tmp_path)
    # The silent line's calls no longer count as active; its counters stay.
    assert samples[("hausruf_sip_calls_active", "caller")] == 7
    assert samples[("hausruf_sip_up",)] == 2
    assert samples[("hausruf_sip_incoming_calls_total", "answered")] == 16
    assert samples[("hausruf_sip_incoming_calls_total", "busy")] == 1
    assert samples[("hausruf_sip_calls_max",)] == 12
