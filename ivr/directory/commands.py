"""`hausruf import DIR`, `hausruf export DIR`, `hausruf directory`: thin wrappers over the directory functions."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.db.engine import make_engine, session_factory
from ivr.db.migrate import upgrade
from ivr.db.models import House, Partner, Region, Tenant, Volunteer
from ivr.directory.exporter import export_directory
from ivr.directory.importer import DirectoryError, import_directory
from ivr.directory.records import SCHEMAS
from ivr.directory.sources import KINDS

FIELDS_HELP = "\n\n".join(f"{kind}: {', '.join(fields)}" for kind, fields in SCHEMAS.items())


def _sessions(settings: Settings):
    """Migrate the configured database, then hand out sessions on it."""
    upgrade(settings.database_url)
    return session_factory(make_engine(settings.database_url))


@click.command(
    "import",
    help=f"Load the directory files in DIR ({', '.join(KINDS)}; .yaml or .csv each). Every row is checked "
    f"first; with any problem nothing is written. Re-importing updates, never duplicates.\n\nFields:\n\n{FIELDS_HELP}",
)
@click.argument("folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(folder: Path) -> None:
    """Import a directory folder."""
    unknown = unknown_files(folder)
    if unknown:
        for line in unknown:
            click.echo(line, err=True)
        raise click.exceptions.Exit(2)
    sessions = _sessions(Settings.from_env())
    try:
        with sessions.begin() as session:
            report = import_directory(session, folder)
    except DirectoryError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(1) from None
    for line in report.lines():
        click.echo(line)


def unknown_files(folder: Path) -> list[str]:
    """A line for each data file in folder that is no directory file (a typo would otherwise be skipped)."""
    from ivr.directory.sources import SUFFIXES

    allowed = ", ".join(KINDS)
    return [f"{path}: not a directory file name; allowed: {allowed} (each .yaml, .yml or .csv)"
            for path in sorted(folder.iterdir())
            if path.is_file() and path.suffix in SUFFIXES and path.stem not in KINDS]


@click.command("export", help="Write the directory as YAML files into DIR, in the format `hausruf import` reads.")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def export_command(folder: Path) -> None:
    """Export the directory."""
    with _sessions(Settings.from_env())() as session:
        written = export_directory(session, folder)
    for path in written.values():
        click.echo(str(path))


@click.command("directory", help="Show how many houses, tenants, volunteers and partners the directory holds.")
def directory_command() -> None:
    """Counts and a short listing."""
    with _sessions(Settings.from_env())() as session:
        for line in summary(session):
            click.echo(line)


def summary(session: Session) -> list[str]:
    """Counts per kind, then each region with its houses and the partner services serving it."""
    counts = {
        name: session.scalar(select(func.count()).select_from(model))
        for name, model in (("regions", Region), ("houses", House), ("tenants", Tenant), ("volunteers", Volunteer), ("partners", Partner))
    }
    lines = [", ".join(f"{count} {name}" for name, count in counts.items())]
    for region in session.scalars(select(Region).order_by(Region.name)):
        houses = ", ".join(sorted(h.name for h in region.houses)) or "no houses"
        services = ", ".join(sorted({p.service_kind for p in region.partners if p.active})) or "none"
        lines.append(f"{region.name} ({region.id}): {houses}; services: {services}")
    return lines


def register(group: click.Group) -> None:
    """Add the directory commands to the hausruf group."""
    group.add_command(import_command)
    group.add_command(export_command)
    group.add_command(directory_command)
