"""`hausruf report housing [--month YYYY-MM]`: the anonymous monthly demand of the housing line."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from ivr.config import Settings
from ivr.db.engine import make_engine, session_factory
from ivr.db.migrate import upgrade
from ivr.db.models import Region
from ivr.housing.report import check_month, report_lines


@click.group("report", help="Reports for those who fund the hotline (anonymous counts only).")
def report_group() -> None:
    """Reports."""


@report_group.command("housing")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="Calendar month (default: the current one, in the cooperative's time zone).")
def housing_command(month: str | None) -> None:
    """Demand of the housing line by region, kind of living, budget and need; match or not."""
    settings = Settings.from_env()
    month = month or datetime.now(ZoneInfo(settings.timezone)).strftime("%Y-%m")
    try:
        check_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            names = {r.id: r.name for r in session.scalars(select(Region))}
            click.echo("\n".join(report_lines(session, month, names)))
    finally:
        engine.dispose()


def register(group: click.Group) -> None:
    """Add `hausruf report` to the hausruf group."""
    group.add_command(report_group)
