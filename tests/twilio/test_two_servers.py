"""The distributed option for real: two servers on one PostgreSQL and one Redis, a worker beside the other one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.db import make_engine, session_factory
from ivr.db.models import Call, CallbackTask, CallEvent, WorkerHeartbeat
from tests.support.call_simulator import CallSimulator
from tests.support.redis import TemporaryRedis
from tests.support.server import HttpTransport, ServerProcess, free_port
from tests.support.twilio_standin import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn
from tests.twilio.conftest import ERIKA
from tests.twilio.test_postgres_server import HAUSRUF, ROOT, server_env

PUBLIC_URL = "https://hotline.example.org"  # both servers behind one load balancer
HELPERS = ("+493023125201", "+493023125202")  # Lindenhof's IT helpers (one has quiet hours at night)


@pytest.fixture
def redis():
    server = TemporaryRedis().start()
    yield server
    server.stop()


def _first_sweep_done(url: str, worker: subprocess.Popen) -> None:
    """Wait until the worker's first sweep noted its heartbeat (it sweeps once at start)."""
    engine = make_engine(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            with session_factory(engine)() as session:
                if session.scalar(select(WorkerHeartbeat.name)) is not None:
                    return
            time.sleep(0.1)
        raise AssertionError("the worker did not sweep within 60 s")
    finally:
        engine.dispose()


def test_two_servers_answer_alternate_webhooks_and_a_worker_beside_the_other_sends_the_offer(
        postgres_server, redis, tmp_path):
    standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    url = postgres_server.create_database()
    servers, worker = [], None
    try:
        env = server_env(url, tmp_path, free_port(), HAUSRUF_PUBLIC_URL=PUBLIC_URL, HAUSRUF_QUEUE_URL=redis.url,
                         TWILIO_ACCOUNT_SID=ACCOUNT_SID, HAUSRUF_TWILIO_API_BASE=standin.base_url)
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        # The worker runs beside server b (its environment); all three start side by side.
        worker = subprocess.Popen([HAUSRUF, "worker"], env={**os.environ, **env, "HAUSRUF_DATA_DIR": str(tmp_path / "b")},
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        for name in ("a", "b"):
            servers.append(ServerProcess({**env, "HAUSRUF_DATA_DIR": str(tmp_path / name)}, workers=1, threads=4).launch())
        for server in servers:
            server.ready()
        _first_sweep_done(url, worker)  # it found nothing to do: the offer below comes through Redis
        transports = [HttpTransport(server.url) for server in servers]
        twilio = CallSimulator(transports[0], PUBLIC_URL, AUTH_TOKEN)
        call = twilio.call(ERIKA)  # server a
        assert call.heard[0].startswith("Guten Tag. Hier ist")  # the name only from local audio (issue 15)
        call.sim = CallSimulator(transports[1], PUBLIC_URL, AUTH_TOKEN)
        call.press("*")  # server b repeats the menu
        call.sim = twilio
        call.press("5")  # server a books the IT helpers' callback and kicks the queue in Redis
        assert call._only("Record") is not None
        call.sim = CallSimulator(transports[1], PUBLIC_URL, AUTH_TOKEN)
        call.record(seconds=4)  # server b
        assert call.hang_up().status == 204
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(standin.messages_to(n) for n in HELPERS):
            time.sleep(0.2)
        offers = [m for n in HELPERS for m in standin.messages_to(n)]
        assert len(offers) == 1 and "bittet um Rückruf" in offers[0]["body"]
    finally:
        if worker is not None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=15)
        for server in servers:
            server.terminate()
        for server in servers:
            server.stop()
        standin.stop()
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            stored = session.scalar(select(Call).where(Call.provider_call_id == call.sid))
            kinds = session.scalars(select(CallEvent.kind).where(CallEvent.call_id == stored.id)
                                    .order_by(CallEvent.id)).all()
            task = session.scalar(select(CallbackTask))
        assert stored.status == "ended" and kinds == ["start", "digits", "digits", "recording", "status"]
        assert task.state == "offered" and task.recording_ref == "RE" + "1" * 32
    finally:
        engine.dispose()
