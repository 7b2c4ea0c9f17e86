"""Apps for tests: the database migrated first, as `hausruf serve` does before its workers start."""

from __future__ import annotations

from flask import Flask

from ivr import create_app
from ivr.db import upgrade


def migrated_app(config: dict) -> Flask:
    """create_app(config) on a database brought to the newest schema."""
    upgrade(config["database_url"])
    return create_app(config)
