"""GET /metrics in the Prometheus text format, added up over every gunicorn worker.

prometheus_client's multiprocess mode: `hausruf serve` points PROMETHEUS_MULTIPROC_DIR at an empty
folder before gunicorn forks, each worker writes its counters there, and a scrape adds them up
(https://prometheus.github.io/client_python/multiprocess/). Without that variable (tests, `flask
run`) the counters live in the process. Tasks by state and SMS by status are counted in the database
at scrape time (the worker, a separate process, changes them), as are the health problems of
/healthz (ivr.web.health). Behind a reverse proxy every request comes from 127.0.0.1, so an address
check would prove nothing: whenever HAUSRUF_PUBLIC_URL is set, a bearer token
(HAUSRUF_METRICS_TOKEN) is required.
"""

from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from ivr.metrics import CALLS, FALLBACKS, SPEECH_DECISIONS, WEBHOOK_SECONDS
from ivr.telephony.sip.status import SipCollector

bp = Blueprint("metrics", __name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

class DatabaseCollector:
    """Tasks by state, SMS by status and the health problems, read when Prometheus scrapes."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from ivr.web.health import health

        report = health(self.app)
        status = GaugeMetricFamily("hausruf_health_status", "1 for the status /healthz reports", labels=["status"])
        for name in ("ok", "degraded", "down"):
            status.add_metric([name], 1.0 if report.status == name else 0.0)
        yield status
        problems = GaugeMetricFamily("hausruf_health_problem", "A problem /healthz reports", labels=["problem"])
        for problem in report.problems:
            problems.add_metric([problem], 1.0)
        yield problems
        if report.facts is None:
            return
        tasks = GaugeMetricFamily("hausruf_tasks", "Callback tasks by state", labels=["state"])
        for state, count in sorted(report.facts.tasks_by_state.items()):
            tasks.add_metric([state], count)
        yield tasks
        sms = GaugeMetricFamily("hausruf_sms", "Outbound SMS by status", labels=["status"])
        for state, count in sorted(report.facts.sms_by_status.items()):
            sms.add_metric([state], count)
        yield sms


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in (CALLS, WEBHOOK_SECONDS, FALLBACKS, SPEECH_DECISIONS):
            registry.register(metric)
    registry.register(DatabaseCollector(app))
    registry.register(SipCollector(app.config["HAUSRUF"].data_dir))  # the SIP line's own process: its status file
    return registry


def _authorised(settings) -> tuple[bool, str]:
    if not settings.public_url:
        return True, ""  # a server nobody outside reaches (the demo, tests)
    if not settings.metrics_token:
        return False, "set HAUSRUF_METRICS_TOKEN: /metrics needs a bearer token when HAUSRUF_PUBLIC_URL is set\n"
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {settings.metrics_token}"
    if hmac.compare_digest(given.encode(), expected.encode()):
        return True, ""
    return False, "a bearer token (HAUSRUF_METRICS_TOKEN) is required\n"


@bp.get("/metrics")
def metrics():
    """Every counter, histogram and gauge in the Prometheus text format."""
    allowed, reason = _authorised(current_app.config["HAUSRUF"])
    if not allowed:
        return Response(reason, status=401 if "required" in reason else 403, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body = generate_latest(_registry(current_app._get_current_object()))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    if request.path.startswith("/twilio/"):
        g.hausruf_started = time.perf_counter()


def _observe(response):
    started = g.pop("hausruf_started", None)
    if started is not None:
        endpoint = request.url_rule.rule if request.url_rule else "unknown"
        WEBHOOK_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Serve /metrics and time every Twilio webhook."""
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)


def worker_exited(server, worker) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges are dropped (counters stay)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
