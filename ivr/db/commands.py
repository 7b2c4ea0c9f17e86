"""`hausruf db upgrade` and `hausruf db current`: thin wrappers over ivr.db.migrate."""

from __future__ import annotations

import click

from ivr.config import Settings
from ivr.db.migrate import current, upgrade


@click.group("db", help="Database schema: upgrade to the newest migration, show the current one.")
def db_group() -> None:
    """Database commands."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def upgrade_command(revision: str) -> None:
    """Apply the migrations to the configured database."""
    url = Settings.from_env().database_url
    upgrade(url, revision)
    click.echo(f"database at revision {current(url)}")


@db_group.command("current")
def current_command() -> None:
    """Print the revision the configured database is at."""
    click.echo(current(Settings.from_env().database_url) or "empty (run: hausruf db upgrade)")


def register(group: click.Group) -> None:
    """Add the db commands to the hausruf group."""
    group.add_command(db_group)
