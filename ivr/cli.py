"""The `hausruf` command: thin wrappers over functions that tests import directly."""

from __future__ import annotations

import click


@click.group(help="Hausruf: the phone hotline for tenants of housing cooperatives.")
def main() -> None:
    """Entry point of the console script."""


def _register() -> None:
    # Each subsystem adds its own commands; imported here so `hausruf --help` lists them all.
    from ivr.flows import commands as flow_commands

    flow_commands.register(main)


_register()
