"""The `hausruf` command: thin wrappers over functions that tests import directly."""

from __future__ import annotations

import importlib

import click

# Each subsystem adds its own commands through register(group).
COMMAND_MODULES = (
    "ivr.flows.commands",
    "ivr.simulator.commands",
    "ivr.db.commands",
    "ivr.directory.commands",
    "ivr.web.commands",
    "ivr.tasks.commands",
    "speech.commands",
    "ivr.telephony.sip.commands",
)


@click.group(help="Hausruf: the phone hotline for tenants of housing cooperatives.")
def main() -> None:
    """Entry point of the console script."""


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(main)


_register()


if __name__ == "__main__":  # `python -m ivr.cli worker`, used by `hausruf demo`
    main()
