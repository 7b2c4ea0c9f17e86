"""The overview tells staff whether the background worker runs, from the heartbeats the worker writes."""

from __future__ import annotations

import html
import socket
from datetime import timedelta

import pytest

from ivr.db import get_session
from ivr.db.models import SmsMessage, WorkerHeartbeat
from ivr.tasks.jobs import Jobs
from tests.twilio.conftest import WEDNESDAY_10  # 10:00 in Berlin


@pytest.fixture
def worker(app):
    """The real worker's jobs on the app's database (its heartbeat is what the overview reads)."""
    jobs = Jobs(app.config["HAUSRUF"])
    yield jobs
    if jobs._sessions is not None:
        jobs._sessions.kw["bind"].dispose()


def beat(app, name: str, minutes_ago: float) -> None:
    """A heartbeat of a worker on another machine."""
    with app.app_context():
        session = get_session()
        session.add(WorkerHeartbeat(name=name, ran_at=WEDNESDAY_10 - timedelta(minutes=minutes_ago)))
        session.commit()


def attention(client) -> str:
    page = client.get("/").get_data(as_text=True)
    section = page.split('id="h-attention"')[1].split("</section>")[0]
    return html.unescape(section)


def test_a_worker_that_never_ran(staff_client):
    shown = attention(staff_client)
    assert "Der Hintergrunddienst (hausruf worker) ist noch nie gelaufen. Solange gehen keine SMS hinaus" in shown


def test_a_running_worker_is_not_mentioned(staff_client, worker):
    worker.heartbeat(WEDNESDAY_10 - timedelta(minutes=1))
    shown = attention(staff_client)
    assert "Alles in Ordnung" in shown  # nothing needs attention


def test_a_stopped_worker_is_shown_with_since_when(staff_client, worker, app):
    beat(app, "old-server:4711", 3 * 24 * 60)  # a machine long gone: its row stays behind
    worker.heartbeat(WEDNESDAY_10 - timedelta(minutes=12))
    shown = attention(staff_client)
    assert ("Der Hintergrunddienst (hausruf worker) ist gestoppt: Er lief zuletzt am 04.03.2026 um 09:48 Uhr "
            "(vor 12 Minuten). Solange gehen keine SMS hinaus, und Rückruf-Aufgaben werden nicht weitergegeben. "
            "Bitte sagen Sie Ihrer IT Bescheid.") in shown
    english = staff_client.get("/sprache/en?next=/", follow_redirects=True).get_data(as_text=True)
    assert "it last ran on 04/03/2026 at 09:48 (12 minutes ago)" in english


def test_a_restart_leaves_an_old_row_but_the_new_process_counts(staff_client, worker, app):
    beat(app, f"{socket.gethostname()}:1", 90)  # the process before the restart
    worker.heartbeat(WEDNESDAY_10 - timedelta(seconds=30))
    assert "Alles in Ordnung" in attention(staff_client)


def test_one_machine_stopped_while_another_runs(staff_client, worker, app):
    worker.heartbeat(WEDNESDAY_10 - timedelta(minutes=1))
    beat(app, "server-b:812", 3 * 60)
    beat(app, "server-c:99", 3 * 24 * 60)  # taken out of service days ago: not news any more
    shown = attention(staff_client)
    assert ("Der Hintergrunddienst auf dem Rechner server-b ist gestoppt: Er lief dort zuletzt am 04.03.2026 um "
            "07:00 Uhr (vor 3 Stunden). Auf den anderen Rechnern läuft er weiter.") in shown
    assert "server-c" not in shown


def test_a_running_worker_that_falls_behind(staff_client, worker, app):
    worker.heartbeat(WEDNESDAY_10 - timedelta(minutes=1))
    with app.app_context():
        session = get_session()
        session.add(SmsMessage(direction="outbound", to_number="+493023125201", from_number="+4927150199999",
                               body="Hausruf #1", status="queued", created_at=WEDNESDAY_10 - timedelta(minutes=20)))
        session.commit()
    shown = attention(staff_client)
    assert "Der Hintergrunddienst läuft, kommt aber nicht nach: 1 SMS warten" in shown
