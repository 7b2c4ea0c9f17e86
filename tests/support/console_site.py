"""A running Hausruf with the demo directory and two staff accounts, for browser tests and screenshots.

One `hausruf serve` process (gunicorn, as in production) on a free port, its own SQLite file and
data folder, Twilio signatures checked against its own URL, speech and prompt rendering off.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.call_simulator import CallSimulator
from tests.support.server import HttpTransport, ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "console-test-token"
ADMIN = ("admin@talblick.example", "Talblick-Admin-2026", "Anna Admin")
STAFF = ("buero@talblick.example", "Talblick-Buero-2026", "Bernd Büro")
CHROMIUM = "/usr/bin/chromium"
# Debian's chromium through Playwright; Playwright's own browser download cannot work here.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def launch_chromium(playwright):
    """Debian's chromium, headless, talking to nothing but the test server."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class ConsoleSite:
    """Start with .start(); .url, .twilio (signed webhooks over HTTP), .hausruf(...) for the CLI; .stop()."""

    def __init__(self, folder: Path, flows_dir: Path | None = None):
        self.folder = Path(folder)
        self.port = free_port()
        self.env = {
            "HAUSRUF_DATABASE_URL": f"sqlite:///{self.folder / 'hausruf.sqlite3'}",
            "HAUSRUF_DATA_DIR": str(self.folder), "HAUSRUF_QUEUE_URL": f"sqlite:///{self.folder / 'huey.sqlite3'}",
            "HAUSRUF_FLOWS_DIR": str(flows_dir or ROOT / "flows"),
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "HAUSRUF_TWILIO_API_BASE": "http://127.0.0.1:9",  # nothing leaves the machine; the worker is not run
            "HAUSRUF_PUBLIC_URL": f"http://127.0.0.1:{self.port}", "HAUSRUF_PHONE_NUMBER": "+4927150199999",
            "HAUSRUF_STAFF_NUMBER": "+4927150100000", "HAUSRUF_SPEECH": "off", "HAUSRUF_RENDER_PROMPTS": "off",
            "HAUSRUF_SECRET_KEY": "console-site-secret-key-0123456789", "HAUSRUF_ENV_FILE": "",
        }
        self.server = ServerProcess(self.env, port=self.port, workers=1, threads=8)

    @property
    def url(self) -> str:
        return self.server.url

    def hausruf(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """Run a `hausruf` command against this site's database."""
        hausruf = str(Path(sys.executable).parent / "hausruf")
        return subprocess.run([hausruf, *args], env={**os.environ, **self.env}, cwd=ROOT, input=stdin, text=True,
                              capture_output=True, check=False)

    def start(self) -> "ConsoleSite":
        self.seed()
        self.server.start()
        return self

    def seed(self) -> None:
        """The demo directory and both accounts, written in this process (a `hausruf` run each costs seconds)."""
        from ivr.console.accounts import create
        from ivr.db import make_engine, session_factory, upgrade
        from ivr.directory.importer import import_directory

        url = self.env["HAUSRUF_DATABASE_URL"]
        upgrade(url)
        engine = make_engine(url)
        try:
            with session_factory(engine).begin() as session:
                import_directory(session, ROOT / "data" / "demo")
                create(session, ADMIN[0], ADMIN[2], ADMIN[1], "admin")
                create(session, STAFF[0], STAFF[2], STAFF[1], "staff")
        finally:
            engine.dispose()

    @property
    def twilio(self) -> CallSimulator:
        return CallSimulator(HttpTransport(self.url), self.url, AUTH_TOKEN)

    def stop(self) -> None:
        # A throw-away site: no graceful shutdown to wait for (kept-alive test connections would hold it).
        self.server.kill()
