"""The `hausruf` command: thin wrappers over functions that tests import directly."""

from __future__ import annotations

import importlib

import click

# Each subsystem adds its own commands through register(group).
COMMAND_MODULES = (
    "ivr.config_commands",
    "ivr.flows.commands",
    "ivr.simulator.commands",
    "ivr.db.commands",
    "ivr.directory.commands",
    "ivr.web.commands",
    "ivr.tasks.commands",
    "ivr.console.commands",
    "speech.commands",
    "ivr.telephony.sip.commands",
    "ivr.telephony.matrix.commands",
    "ivr.housing.commands",
    "ivr.privacy.commands",
)


class HausrufGroup(click.Group):
    """The command group: bad settings anywhere end a command with their messages and exit code 2."""

    def invoke(self, ctx: click.Context):
        from ivr.config import SettingsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            click.echo("Hausruf cannot run with these settings (environment or .env):", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            ctx.exit(2)


@click.group(cls=HausrufGroup, help="Hausruf: the phone hotline for tenants of housing cooperatives.")
def main() -> None:
    """Entry point: .env is read before any command reads the environment; logs masked, files private."""
    from ivr.config import load_env_file
    from ivr.privacy import files, logmask

    load_env_file()
    logmask.install()
    files.restrict_new_files()


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(main)


_register()


if __name__ == "__main__":  # `python -m ivr.cli worker`, used by `hausruf demo`
    main()
