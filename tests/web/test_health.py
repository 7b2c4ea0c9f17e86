"""/healthz tells the truth without taking a working server out of service."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete

from ivr.db import get_session, make_engine, session_factory
from ivr.db.models import SmsMessage, WorkerHeartbeat
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL
from ivr.wiring import hausruf


def worker_ran(app, minutes_ago: float = 0) -> None:
    with app.app_context():
        session = get_session()
        session.execute(delete(WorkerHeartbeat))
        session.add(WorkerHeartbeat(name="test", ran_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)))
        session.commit()


def healthz(app) -> tuple[int, dict]:
    reply = app.test_client().get("/healthz")
    return reply.status_code, reply.get_json()


def test_ok_only_when_flows_worker_and_sms_are_all_fine(start_app):
    app = start_app()
    worker_ran(app)
    assert healthz(app) == (200, {"status": "ok", "database": "ok", "problems": [], "flows": healthz(app)[1]["flows"]})
    assert all(flow["ok"] for flow in healthz(app)[1]["flows"])


def test_a_server_started_while_the_flow_is_broken_serves_the_last_good_revision(start_app_on_each_database, flows_dir):
    start = start_app_on_each_database
    first = start()
    worker_ran(first)
    good = hausruf(first).flows.current().get("hotline", "de").revision
    before = CallSimulator(first.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
    hotline = flows_dir / "hotline.yaml"
    hotline.write_text(hotline.read_text(encoding="utf-8").replace("kind: menu", "kind: meny", 1), encoding="utf-8")

    restarted = start()  # nothing in memory but the broken file
    after = CallSimulator(restarted.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
    assert after.heard == before.heard  # the greeting and the menu of the last good revision
    assert len(after.heard) > 1 and not any("Störung" in text for text in after.heard)
    status, report = healthz(restarted)
    assert status == 200 and report["status"] == "degraded"
    (problem,) = report["problems"]
    assert problem.startswith(f"{hotline} has errors; calls get the last good revision {good} (loaded ")
    broken = [f for f in report["flows"] if f["file"].endswith("hotline.yaml")]
    assert broken == [{"file": str(hotline), "flow": "hotline:de", "serving": good, "file_revision": None,
                       "ok": False}]


def test_no_usable_flow_at_all_is_503(start_app, flows_dir):
    for path in flows_dir.glob("*.yaml"):
        path.write_text("version: 1\nname: [\n", encoding="utf-8")
    app = start_app()
    status, report = healthz(app)
    assert status == 503 and report["status"] == "down"
    assert report["problems"][0].startswith(f"no usable flow in {flows_dir}")


@pytest.mark.parametrize("minutes_ago, problem", [
    (None, "the worker has never run (start `hausruf worker`)"),
    (12, "the worker has not run for 12 minutes"),
])
def test_a_worker_that_has_not_run_lately_degrades(start_app, minutes_ago, problem):
    app = start_app()
    if minutes_ago is not None:
        worker_ran(app, minutes_ago)
    status, report = healthz(app)
    assert status == 200 and report["status"] == "degraded"
    assert any(p.startswith(problem) for p in report["problems"]), report["problems"]


def test_sms_held_without_credentials_and_undeliverable_sms_are_shown(start_app):
    app = start_app()  # the test apps have an auth token but no account SID: nothing can be sent
    worker_ran(app)
    with app.app_context():
        session = get_session()
        session.add_all([SmsMessage(to_number="+4917612345678", body="a", status="queued"),
                         SmsMessage(to_number="+4917612345678", body="b", status="queued"),
                         SmsMessage(to_number="+4917612345678", body="c", status="undelivered")])
        session.commit()
    status, report = healthz(app)
    assert (status, report["status"]) == (200, "degraded")
    assert report["problems"] == [
        "2 SMS held in the outbox until TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set",
        "1 SMS could not be delivered in the last 7 days (see `hausruf tasks`)"]


def test_a_database_that_does_not_answer_is_503_within_two_seconds(start_app):
    app = start_app()
    silent = socket.socket()  # accepts connections (the kernel does) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    hanging = make_engine(f"postgresql://hausruf@127.0.0.1:{silent.getsockname()[1]}/hausruf", timeout=10)
    hausruf(app).read_sessions = session_factory(hanging)  # the database stops answering
    try:
        started = time.monotonic()
        status, report = healthz(app)
        assert time.monotonic() - started < 3
        assert status == 503 and report["database"] == "no answer within 1.5 s"
        assert report["problems"][0] == "the database did not answer within 1.5 s: calls fall back to staff"
        assert healthz(app)[0] == 503  # a second monitor's request does not pile up a second thread
    finally:
        silent.close()
        hanging.dispose()
