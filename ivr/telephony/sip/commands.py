"""`hausruf sip`: answer calls over SIP (an own trunk or PBX) in the foreground until stopped."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

import click
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.sip")


def register(group: click.Group) -> None:
    """Add `hausruf sip`."""
    group.add_command(sip_command)


def speech_recognizers(app):
    """(language, phrases) -> a factory of that menu's MenuRecognizer, or None without a model for it."""
    settings = app.config["HAUSRUF"]
    if not settings.speech_enabled:
        return None
    registry = hausruf(app).speech_models
    if registry is None or not registry.languages:
        return None

    def preload():
        # Loading takes seconds: do it now, beside the line, so the first caller does not wait for it.
        for language in registry.languages:
            try:
                registry.get(language)
                log.info("speech model for %s loaded", language)
            except Exception:  # noqa: BLE001 - keys still work; the log says which model is broken
                log.exception("speech model for %s could not be loaded; keys only in that language", language)

    threading.Thread(target=preload, name="speech-models", daemon=True).start()

    def factory(language: str, phrases):
        if language not in registry.languages:
            return None
        from speech.recognizer import MenuRecognizer

        return lambda: MenuRecognizer(registry.get(language), list(phrases))

    return factory


def shifted_clock(at: str, timezone: str):
    """A clock that starts at the local time `at` and runs on from there (opening hours in rehearsals)."""
    import time
    from datetime import datetime, timezone as tz
    from zoneinfo import ZoneInfo

    try:
        start = datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(timezone)).astimezone(tz.utc)
    except ValueError:
        raise click.BadParameter(f"{at!r}: expected a local time like '2026-03-04 10:00'", param_hint="--at")
    from datetime import timedelta

    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def run_line(app, sip, stop: threading.Event) -> None:
    """Run the SIP line on this thread until stop is set."""
    from ivr.telephony.sip.agent import SipLine
    from ivr.telephony.sip.steps import CallSteps

    line = SipLine(sip, CallSteps(app), speech_recognizers(app))
    line.start()
    line.run(stop)


@click.command("sip")
@click.option("--check", is_flag=True, help="Print the effective SIP settings (password masked) and exit.")
@click.option("--at", "at", default=None,
              help="Pretend the line starts at this local time, e.g. '2026-03-04 10:00' (tests, rehearsals).")
def sip_command(check, at):
    """Answer calls over SIP: HAUSRUF_SIP_LISTEN, _REGISTRAR, _USER, _PASSWORD, _OUTBOUND_PROXY, _ALLOW."""
    from ivr.config import effective_settings, settings_for_start
    from ivr.telephony.sip.settings import SipSettings, sip_start_problems

    settings = settings_for_start()  # every bad value of every setting: listed, exit 2
    sip, problems = sip_start_problems(settings.group(SipSettings))
    if problems:
        click.echo("hausruf sip cannot start; fix these settings (environment or .env):", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    if check:
        for env, shown, _ in effective_settings(settings):
            if env.startswith("HAUSRUF_SIP_"):
                click.echo(f"{env}={shown}")
        return
    from ivr import create_app
    from ivr.config import configure_logging
    from ivr.web.server import migrate

    configure_logging(settings)
    migrate(settings.database_url)  # create_app does not migrate; the line may be the only process here
    app = create_app()
    if at:
        hausruf(app).clock = shifted_clock(at, app.config["HAUSRUF"].timezone)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_line(app, sip, stop)
    # Leave without running Python's finalisers over pjsua2 objects: one that outlived libDestroy
    # (a reference in a traceback, say) asserts in PJSIP (pjproject #3856, #2416) and the exit
    # status would say the line crashed. Everything is hung up, stored and logged by now.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)
