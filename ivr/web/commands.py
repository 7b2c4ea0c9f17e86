"""`hausruf serve`, `hausruf demo` and `hausruf calls`."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone

import click

from ivr.config import Settings, settings_for_start


def register(group: click.Group) -> None:
    """Add the server and call-list commands."""
    group.add_command(serve_command)
    group.add_command(demo_command)
    group.add_command(calls_command)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="gunicorn worker processes (default 2).")
@click.option("--threads", default=None, type=int, help="threads per worker (default 32).")
def serve_command(host, port, workers, threads):
    """Run the web app: Twilio webhooks, media streams, prompts, health check."""
    from ivr.web.server import serve

    settings = settings_for_start()  # exit 2 with every problem before gunicorn forks
    serve(host, port, workers, threads, settings)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo_command(host, port):
    """Run the server and the background worker together (what `make demo` starts)."""
    from ivr.web.server import serve

    settings = settings_for_start()
    worker = subprocess.Popen([sys.executable, "-m", "ivr.cli", "worker"])
    click.echo(f"Hausruf demo: http://{host}:{port}/healthz  (worker pid {worker.pid}; Ctrl-C stops both)")
    try:
        serve(host, port, workers=1, threads=16, settings=settings)
    finally:
        worker.terminate()
        worker.wait(timeout=10)


@click.command("calls")
@click.option("--limit", default=20, show_default=True, type=int)
def calls_command(limit):
    """List recent calls: when, who (masked), how long, what came of it."""
    for line in recent_calls(Settings.from_env(), limit):
        click.echo(line)


def recent_calls(settings: Settings, limit: int) -> list[str]:
    """One line per call, newest first."""
    from sqlalchemy import select

    from ivr.db import make_engine, session_factory, upgrade
    from ivr.db.models import Call
    from ivr.directory.phones import mask

    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            calls = session.scalars(select(Call).order_by(Call.started_at.desc()).limit(limit)).all()
            lines = [f"{'started (UTC)':<17} {'from':<18} {'secs':>5} {'status':<11} outcome"]
            for call in calls:
                lines.append(f"{call.started_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} "
                             f"{mask(call.from_number or ''):<18} {call.duration_seconds or '':>5} "
                             f"{call.status:<11} {call.outcome or '-'}")
            if not calls:
                lines.append("(no calls yet)")
            return lines
    finally:
        engine.dispose()
