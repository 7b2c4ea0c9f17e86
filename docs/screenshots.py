"""Remake the screenshots of the staff console in docs/screenshots/ (1280x800, Debian's chromium).

    .venv/bin/python docs/screenshots.py

Starts a throw-away Hausruf with the demo directory, places a few signed calls so the pages have
something to show, signs in as an admin and photographs every page.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.console_site import ADMIN, ConsoleSite, launch_chromium  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
PAGES = [
    ("login", "/login"),
    ("overview", "/"),
    ("tasks", "/tasks"),
    ("task", "/tasks/1"),
    ("calls", "/calls"),
    ("call", "/calls/1"),
    ("directory", "/directory"),
    ("directory-entry", "/directory/tenants/1"),
    ("directory-upload", "/directory/upload"),
    ("flows", "/flows"),
    ("flow", "/flows/hotline"),
    ("simulator", "/simulator"),
    ("staff", "/staff"),
    ("housing", "/housing"),
    ("housing-project", "/housing/projects/mehrgenerationen-siegen"),
    ("housing-upload", "/housing/upload"),
    ("housing-report", "/housing/report?month=2026-03"),
]


def place_calls(site: ConsoleSite) -> None:
    """A tenant books IT help, one is put through to groceries, one gives up in the care menu."""
    twilio = site.twilio
    call = twilio.call("+493023125301")  # Frau Becker: IT help, then hangs up at the message
    call.press("5")
    call.hang_up(48)
    call = twilio.call("+493023125304")  # Frau Schneider: care menu, hangs up there
    call.press("4")
    call.hang_up(21)
    call = twilio.call("+4917612345678")  # an unknown number: hangs up in the main menu
    call.hang_up(9)


def worker_and_demand(site: ConsoleSite) -> None:
    """A worker that has just run (the overview would say it never did), and a month of housing-line demand."""
    from datetime import datetime, timezone

    from ivr.db import make_engine, session_factory
    from ivr.db.models import WorkerHeartbeat
    from ivr.housing.ranking import Seeker
    from ivr.housing.report import count_demand

    engine = make_engine(site.env["HAUSRUF_DATABASE_URL"])
    try:
        with session_factory(engine).begin() as session:
            session.add(WorkerHeartbeat(name="hausruf-demo:1", ran_at=datetime.now(timezone.utc)))
            march = datetime(2026, 3, 15, tzinfo=timezone.utc)
            seekers = ([(Seeker(region="siegen", needs=frozenset({"step_free"}), budget="medium"), True)] * 9
                       + [(Seeker(region="siegen", kind="seniors", budget="low"), True)] * 6
                       + [(Seeker(region="netphen", needs=frozenset({"care"}), budget="low"), False)] * 7
                       + [(Seeker(region="kreuztal", budget="high"), False)] * 2)
            for seeker, matched in seekers:
                count_demand(session, march, seeker, matched)
    finally:
        engine.dispose()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hausruf-screens-") as folder:
        site = ConsoleSite(Path(folder)).start()
        try:
            place_calls(site)
            worker_and_demand(site)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="de-DE")
                page.goto(site.url + "/login")
                page.screenshot(path=str(OUT / "login.png"))
                page.fill("#email", ADMIN[0])
                page.fill("#password", ADMIN[1])
                page.click("button[type=submit]")
                for name, path in PAGES[1:]:
                    page.goto(site.url + path)
                    page.screenshot(path=str(OUT / f"{name}.png"))
                page.goto(site.url + "/simulator")
                page.select_option("#caller", "+493023125301")
                page.fill("#time", "10:00")
                page.click("button[name=start]")
                page.click("button[name=key][value='5']")
                page.screenshot(path=str(OUT / "simulator-call.png"))
                browser.close()
        finally:
            site.stop()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT))


if __name__ == "__main__":
    main()
