"""/metrics: Prometheus text, added up over gunicorn workers, behind a bearer token; client addresses via ProxyFix."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ivr.db import get_session
from ivr.db.models import CallbackTask, SmsMessage
from ivr.metrics import outcome_of
from tests.support.call_simulator import CallSimulator
from tests.support.server import ServerProcess, free_port
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, STAFF
from ivr.wiring import hausruf

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value of every sample in a Prometheus text."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_need_a_bearer_token_whenever_a_public_url_is_set(start_app):
    unset = start_app()  # the test apps have a public URL
    refused = unset.test_client().get("/metrics")
    assert refused.status_code == 403 and b"set HAUSRUF_METRICS_TOKEN" in refused.data
    app = start_app(metrics_token="m3trics")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    # Behind the usual reverse proxy every request comes from 127.0.0.1: the address proves nothing.
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer m3trics"}).status_code == 200
    assert start_app(public_url=None).test_client().get("/metrics").status_code == 200  # reachable from nowhere else


def scrape(app, token: str = "t") -> dict[tuple[str, tuple], float]:
    return samples(app.test_client().get("/metrics", headers={"Authorization": f"Bearer {token}"})
                   .get_data(as_text=True))


def test_calls_webhooks_fallbacks_tasks_sms_and_health_are_counted(start_app):
    app = start_app(metrics_token="t")
    before = scrape(app)  # counters live in the test process: count what this test adds
    calls = ("hausruf_calls_total", (("outcome", "callback"),))
    webhooks = ("hausruf_webhook_seconds_count", (("endpoint", "/twilio/voice"),))
    twilio = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN)
    call = twilio.call(ERIKA)
    call.press("5")  # a callback for the IT helpers: a task and an SMS offer
    call.hang_up()
    with app.app_context():
        session = get_session()
        assert session.query(CallbackTask).count() == 1
    found = scrape(app)
    assert found[calls] - before.get(calls, 0) == 1
    assert found[webhooks] - before.get(webhooks, 0) == 1
    assert {labels: value for (name, labels), value in found.items() if name == "hausruf_tasks"} == {
        (("state", "offered"),): 1}  # offered to a helper right away
    with app.app_context():
        queued = get_session().query(SmsMessage).filter_by(status="queued").count()
    assert found.get(("hausruf_sms", (("status", "queued"),)), 0) == queued
    assert found[("hausruf_health_status", (("status", "degraded"),))] == 1  # no worker has run
    assert any(name == "hausruf_health_problem" and "the worker has never run" in dict(labels)["problem"]
               for name, labels in found)


def test_a_failing_webhook_counts_a_fallback_to_staff(start_app):
    app = start_app(metrics_token="t")
    before = scrape(app).get(("hausruf_fallbacks_total", (("reason", "error"),)), 0)
    hausruf(app).build_context = None  # a broken deployment: every step fails
    reply = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).post("/twilio/voice", {"CallSid": "CA9", "From": ERIKA})
    assert STAFF in reply.body
    assert scrape(app)[("hausruf_fallbacks_total", (("reason", "error"),))] - before == 1


@pytest.mark.parametrize("text, label", [("connected groceries; hung up at x", "connected"),
                                         ("hung up at main_menu (menu)", "hung_up"), ("", "other"),
                                         ("emergency emergency_menu", "emergency")])
def test_a_calls_outcome_becomes_one_label(text, label):
    assert outcome_of(text) == label


def test_client_addresses_come_through_the_configured_number_of_proxies(start_app, caplog):
    forwarded = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
    with caplog.at_level(logging.WARNING):
        start_app(trusted_proxies=1).test_client().post("/twilio/voice", data={"CallSid": "CA1"}, headers=forwarded)
        start_app().test_client().post("/twilio/voice", data={"CallSid": "CA2"}, headers=forwarded)
    lines = [r.getMessage() for r in caplog.records if "403" in r.getMessage()]
    assert "203.0.113.9" in lines[0] and "198.51.100.7" not in lines[0]  # one proxy: its client, not a forged hop
    assert "127.0.0.1" in lines[1] and "203.0.113.9" not in lines[1]  # no proxy configured: the header is ignored


def test_counters_add_up_across_gunicorn_workers(tmp_path):
    port = free_port()
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.sqlite3'}", "HAUSRUF_DATA_DIR": str(tmp_path),
           "HAUSRUF_SPEECH": "off", "HAUSRUF_RENDER_PROMPTS": "off", "HAUSRUF_ENV_FILE": "/nonexistent"}
    server = ServerProcess(env, port=port, workers=2, threads=2).start()
    try:
        with requests.Session() as http:
            for _ in range(24):  # unsigned: 403, and timed like every webhook
                assert http.post(f"{server.url}/twilio/voice", data={"CallSid": "CA1"},
                                 headers={"Connection": "close"}).status_code == 403
        scrapes = {samples(requests.get(f"{server.url}/metrics", headers={"Connection": "close"}).text)
                   [("hausruf_webhook_seconds_count", (("endpoint", "/twilio/voice"),))] for _ in range(4)}
        assert scrapes == {24.0}  # whichever worker answers the scrape, it counts both workers' requests
    finally:
        server.stop()
