"""`hausruf purge [--dry-run]` and `hausruf person export|erase NUMBER`: thin wrappers over ivr.privacy."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from ivr.config import Settings


def register(group: click.Group) -> None:
    """Add the retention and person commands."""
    group.add_command(purge_command)
    group.add_command(person_group)


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what the retention periods would remove.")
def purge_command(dry_run: bool) -> None:
    """Apply the retention periods now (the worker does it daily) and print what was removed."""
    from ivr.privacy.retention import purge_all

    settings = Settings.from_env()
    report = purge_all(settings, datetime.now(timezone.utc), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    click.echo(f"older than {settings.retention_days} days (recordings: their own period), {verb}: {report}")


@click.group("person", help="GDPR access (Art. 15) and erasure (Art. 17) by phone number.")
def person_group() -> None:
    """Everything the hotline holds about one phone number."""


@person_group.command("export")
@click.argument("number")
def export_command(number: str) -> None:
    """Print everything held about NUMBER as JSON."""
    from ivr.privacy.person import PersonError, export_person

    try:
        click.echo(json.dumps(export_person(Settings.from_env(), number), ensure_ascii=False, indent=2, default=str))
    except PersonError as exc:
        raise click.ClickException(str(exc)) from None


@person_group.command("erase")
@click.argument("number")
@click.option("--keep-directory", is_flag=True, help="Keep the tenant's directory entry (staff decided so).")
def erase_command(number: str, keep_directory: bool) -> None:
    """Remove or anonymise everything held about NUMBER, here and at the provider, and print what was done."""
    from ivr.app import provider_eraser
    from ivr.privacy.person import PersonError, erase_person

    settings = Settings.from_env()
    try:
        report = erase_person(settings, number, keep_directory=keep_directory,
                              erase_at_provider=provider_eraser(settings))
    except PersonError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("\n".join(report))
