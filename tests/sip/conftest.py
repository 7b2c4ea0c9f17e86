"""Fixtures for the SIP line: `hausruf sip` with the demo directory, and baresip callers and partners."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.sip.peers import ROOT, Baresip, HausrufSip, wait_for, write_wav

ERIKA = "+493023125301"  # Frau Becker, Lindenhof (demo directory)
GROCERIES = "+493023125101"  # Frischekorb, the grocery partner serving every town
STAFF = "+4927150100000"
WEDNESDAY_10 = "2026-03-04 10:00"  # offices and partners open
CONNECT_TIMEOUT = 5  # the demo flows wait 30 s for a partner; the tests' copy waits this long


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
                         "WHERE c.call_sid LIKE ?", call_sid_like)

    def call_of(self, number: str) -> list[tuple]:
        """(call_sid, status, outcome) of the calls from this number, oldest first."""
        return self.rows("SELECT call_sid, status, outcome FROM calls WHERE from_number = ? ORDER BY id", number)

    def events(self, call_sid: str) -> list[tuple]:
        return self.rows("SELECT e.kind, e.detail FROM call_events e JOIN calls c ON c.id = e.call_id "
                         "WHERE c.call_sid = ? ORDER BY e.id", call_sid)


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
           "HAUSRUF_SIP_RTP_PORTS": "31000-31999", "HAUSRUF_QUEUE_URL": f"sqlite:///{data / 'huey.sqlite3'}"}
    data.mkdir()
    hausruf("import", "data/demo", env=env)
    return env


@pytest.fixture(scope="session")
def line(line_env):
    """`hausruf sip` on a free local port, answering with the demo flows on a Wednesday morning."""
    process = HausrufSip(line_env, at=WEDNESDAY_10).start()
    yield process
    assert process.stop() == 0, process.log()[-3000:]


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


def call_established(peer: Baresip, line: HausrufSip) -> None:
    """Dial the hotline and wait until the call is up."""
    peer.dial(line.uri)
    wait_for(peer.established, 10, f"the hotline to answer {peer.user}")


__all__ = ["CONNECT_TIMEOUT", "Database", "ERIKA", "GROCERIES", "STAFF", "WEDNESDAY_10", "call_established",
           "hausruf", "tone_wav", "wait_for"]
