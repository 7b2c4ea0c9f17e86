"""`hausruf config`: the effective settings (secrets masked) and their problems."""

from __future__ import annotations

import click

from ivr.config import effective_settings, load_settings, startup_problems


@click.command("config")
@click.option("--help-texts/--no-help-texts", default=False, help="Show what each setting means.")
def config_command(help_texts: bool) -> None:
    """Print every setting as the server would use it; exit 2 when a setting would stop the server."""
    settings, _ = load_settings()
    for env, shown, meaning in effective_settings(settings):
        click.echo(f"{env}={shown}" + (f"    # {meaning}" if help_texts and meaning else ""))
    problems = startup_problems(settings)
    if problems:
        click.echo("\nproblems (hausruf serve, worker and demo refuse to start):", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(2)
    click.echo("no problems", err=True)


def register(group: click.Group) -> None:
    """Add `hausruf config`."""
    group.add_command(config_command)
