"""Ten callers at once on one address: a Kamailio edge spreads them over three `hausruf sip` processes.

One `hausruf sip` holds four calls (PJSUA_MAX_CALLS of the pjsua2 wheel, docs/sip.md). A trunk sends
every call to one address, so the edge (Debian's kamailio, dispatcher module, docs/kamailio-edge.cfg)
takes them there and relays each to a line, round robin, trying the next line when one answers 486.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.sip.conftest import STAFF, WEDNESDAY_10, Database, import_demo, metric_samples, wait_for, web_get
from tests.sip.peers import ROOT, HausrufSip, end_process, free_sip_port, loud_seconds

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
EDGE_CONFIG = ROOT / "docs" / "kamailio-edge.cfg"
TENANTS = ["+493023125301", "+493023125321"]  # Erika Becker's two phones (Lindenhof, demo directory)
CALLERS, LINES = 10, 3


class Edge:
    """docs/kamailio-edge.cfg on a free local port, in the foreground, relaying to the given lines."""

    def __init__(self, lines: list[HausrufSip], trusted: str = "127.0.0.1/32"):
        self.port = free_sip_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kamailio-"))
        (self.dir / "lines.list").write_text("".join(f"1 sip:127.0.0.1:{line.port}\n" for line in lines))
        self.log_path = self.dir / "log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [KAMAILIO, "-DD", "-E", "-f", str(EDGE_CONFIG), "-Y", str(self.dir), "-P", str(self.dir / "pid"),
             "-A", f"EDGE_LISTEN=udp:127.0.0.1:{self.port}", "-A", f'TRUSTED="{trusted}"',
             "-A", f'LINES="{self.dir / "lines.list"}"'],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            # The last line Kamailio logs while it starts: its UDP socket is set up.
            wait_for(lambda: "SO_RCVBUF is finally" in self.log() or self.process.poll() is not None, 15, "kamailio")
            if self.process.poll() is not None:
                raise RuntimeError(f"kamailio exited: {self.log()[-3000:]}")
        except (AssertionError, RuntimeError):
            self.stop()  # the fixture never gets an edge to stop: leave no Kamailio running
            raise

    @property
    def uri(self) -> str:
        return f"sip:hotline@127.0.0.1:{self.port}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        end_process(self.process, grace=10)
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def edge_setup(sip_tmp, flows_dir):
    """Three lines sharing one database and data folder, and the edge in front of them."""
    data = sip_tmp / "edge"
    data.mkdir()
    env = {"HAUSRUF_DATABASE_URL": f"sqlite:///{data / 'hausruf.sqlite3'}", "HAUSRUF_DATA_DIR": str(data),
           "HAUSRUF_FLOWS_DIR": str(flows_dir), "HAUSRUF_STAFF_NUMBER": STAFF, "HAUSRUF_SPEECH": "off",
           "HAUSRUF_SIP_ALLOW": "127.0.0.1", "HAUSRUF_QUEUE_URL": f"sqlite:///{data / 'huey.sqlite3'}",
           # Three processes book ten callbacks in one SQLite file at the same moment, on a test machine
           # that may be busy with other suites: a writer may wait up to 14 s (the most allowed, not 5)
           # before its caller gets the staff fallback (several lines in production: PostgreSQL, docs/sip.md).
           "HAUSRUF_DB_TIMEOUT": "14"}
    import_demo(env["HAUSRUF_DATABASE_URL"])
    lines = [HausrufSip({**env, "HAUSRUF_SIP_RTP_PORTS": f"{16000 + 1000 * i}-{16999 + 1000 * i}"},
                        at=WEDNESDAY_10).launch() for i in range(LINES)]
    edge = None
    try:
        for line in lines:
            line.ready()
        edge = Edge(lines)
        yield edge, lines, Database(data / "hausruf.sqlite3"), env
    finally:
        if edge is not None:
            edge.stop()
        for line in lines:
            line.terminate()
        codes = [line.stop() for line in lines]
    assert codes == [0] * LINES, [line.log()[-2000:] for line in lines]


def test_ten_callers_at_once_through_one_address_all_reach_the_menu(edge_setup, peers):
    edge, lines, database, env = edge_setup
    callers = [peers(TENANTS[i % 2], codec=("PCMA", "PCMU")[i % 2]) for i in range(CALLERS)]
    for caller in callers:
        caller.dial(edge.uri)
    for caller in callers:
        wait_for(caller.established, 20, f"call {caller.user} to be answered")
    for caller in callers:
        wait_for(lambda: loud_seconds(caller.received()) >= 1.5, 30, "the greeting at every caller")
    # Spread over the lines, at most four each: what one process holds.
    answered = [line.log().count(" via 127.0.0.1") for line in lines]  # "call sip-... from ... to ... via <edge>"
    assert sum(answered) == CALLERS and max(answered) <= 4, answered
    response = web_get(env, "/metrics")
    assert metric_samples(response.text)[("hausruf_sip_calls_active", "caller")] == CALLERS
    for caller in callers:
        caller.press("5")
    tasks = wait_for(lambda: (t := database.tasks_for()) and len(t) >= CALLERS and t, 60, "ten callback tasks")
    assert {task[:2] for task in tasks} == {("volunteers", "Hilfe mit Telefon, Computer oder Haus-Chat")}
    for caller in callers:
        caller.hangup()
    wait_for(lambda: not database.rows("SELECT 1 FROM calls WHERE status = 'active'"), 20, "every call closed")


def test_the_edge_refuses_an_invite_from_an_address_it_does_not_trust(edge_setup, peers):
    edge, _, _, _ = edge_setup
    intruder = peers(TENANTS[0], codec="PCMA", host="127.0.0.2")
    intruder.dial(edge.uri)
    wait_for(lambda: "403" in intruder.log(), 10, "the 403 at the intruder")
    assert "403 for INVITE from 127.0.0.2" in edge.log()


def test_a_full_line_answers_486_and_the_edge_tries_the_next(edge_setup, peers):
    """One line already holds four callers (dialled straight, past the edge): the edge's round robin
    meets its 486 Busy Here and the caller is put through to another line."""
    edge, lines, database, _ = edge_setup
    full = lines[0]
    direct = [peers(TENANTS[i % 2], codec="PCMA") for i in range(4)]
    for caller in direct:
        caller.dial(full.uri)
    for caller in direct:
        wait_for(caller.established, 20, "the first line to fill up")
    busy_before = full.log().count("got 486 Busy Here")
    callers = [peers(TENANTS[i % 2], codec="PCMU") for i in range(LINES)]  # round robin meets the full line once
    for caller in callers:
        caller.dial(edge.uri)
    for caller in callers:
        wait_for(caller.established, 20, f"call {caller.user} to be answered by a line with room")
    assert full.log().count("got 486 Busy Here") > busy_before  # the full line was tried, and said so
    for caller in callers + direct:
        caller.hangup()
    wait_for(lambda: not database.rows("SELECT 1 FROM calls WHERE status = 'active'"), 20, "every call closed")
