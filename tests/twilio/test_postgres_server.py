"""The production server on PostgreSQL: many calls at once reach their menus, a frozen database costs seconds."""

from __future__ import annotations

import queue
import sys
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import func, select

from ivr.db import make_engine, session_factory
from ivr.db.models import Call, CallEvent
from tests.support.apps import import_demo
from tests.support.call_simulator import CallSimulator
from tests.support.postgres import TemporaryPostgres
from tests.support.server import HttpTransport, ServerProcess, free_port
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, STAFF

ROOT = Path(__file__).resolve().parents[2]
HAUSRUF = str(Path(sys.executable).parent / "hausruf")


def server_env(database_url: str, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a server on database_url with the demo directory imported."""
    env = {"HAUSRUF_DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
           "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{port}", "HAUSRUF_STAFF_NUMBER": STAFF,
           "HAUSRUF_PHONE_NUMBER": "+4927150199999", "HAUSRUF_DATA_DIR": str(tmp_path),
           "HAUSRUF_SPEECH": "off", "HAUSRUF_RENDER_PROMPTS": "off", "HAUSRUF_LOG_LEVEL": "WARNING", **extra}
    import_demo(database_url)
    return env


def _dials_staff(call) -> bool:
    return [n.text for n in call.twiml.iter("Number")] == [STAFF]


def test_a_frozen_postgresql_puts_new_callers_through_to_staff_and_healthz_answers(tmp_path):
    database = TemporaryPostgres().start()  # its own server: the test stops it with SIGSTOP
    server = None
    try:
        port = free_port()
        env = server_env(database.create_database(), tmp_path, port)
        server = ServerProcess(env, port=port, workers=1, threads=16).start()
        twilio = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN)
        assert twilio.call(ERIKA)._only("Gather") is not None  # the menu, while the database answers
        database.freeze()
        try:
            answers: list[tuple[float, object]] = []

            def call() -> None:
                began = time.monotonic()
                caller = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN).call(ERIKA)
                answers.append((time.monotonic() - began, caller))

            callers = [threading.Thread(target=call) for _ in range(10)]
            for thread in callers:
                thread.start()
            for thread in callers:
                thread.join(30)
            began = time.monotonic()
            health = requests.get(server.url + "/healthz", timeout=10)
            health_seconds = time.monotonic() - began
        finally:
            database.thaw()
        assert len(answers) == 10
        assert [round(seconds) for seconds, _ in answers if seconds >= 8] == []
        assert all(_dials_staff(caller) for _, caller in answers)  # the apology, then a person
        assert health.status_code == 503 and health_seconds < 2, (health.status_code, health_seconds)
        assert health.json()["database"] != "ok"
        spooled = (tmp_path / "spool" / "missed-calls.jsonl").read_text().splitlines()
        assert len(spooled) == 10  # every caller's number kept for a callback
    finally:
        if server:
            server.kill()  # threads still stuck on the thawing database would only delay a graceful stop
        database.stop()


CALLS, WEBHOOKS, CLIENTS = 200, 11, 16


def test_200_calls_of_11_webhooks_from_16_clients_all_stay_in_the_menu(postgres_server, tmp_path):
    url = postgres_server.create_database()
    port = free_port()
    env = server_env(url, tmp_path, port)
    server = ServerProcess(env, port=port, workers=2, threads=16).start()
    fallbacks, failures = [], []
    sids = queue.Queue()
    for _ in range(CALLS):
        sids.put(None)

    def client() -> None:
        twilio = CallSimulator(HttpTransport(server.url), server.url, AUTH_TOKEN)
        while True:
            try:
                sids.get_nowait()
            except queue.Empty:
                return
            try:
                call = twilio.call(ERIKA)
                for _ in range(WEBHOOKS - 1):
                    if _dials_staff(call):
                        break
                    call.press("*")  # repeat the menu: one step each
                (fallbacks.append(call.sid) if _dials_staff(call) else None)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(repr(exc))

    try:
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(240)
    finally:
        server.stop()
    assert failures == [] and fallbacks == []
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            calls = session.scalars(select(Call)).all()
            events = dict(session.execute(select(CallEvent.call_id, func.count()).group_by(CallEvent.call_id)).all())
        assert len(calls) == CALLS
        assert {call.version for call in calls} == {WEBHOOKS}  # every webhook stored once
        assert {call.state["steps"] - calls[0].state["steps"] for call in calls} == {0}
        assert {events[call.id] for call in calls} == {WEBHOOKS}  # one audit event per step
    finally:
        engine.dispose()
