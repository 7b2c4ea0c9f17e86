"""Apps for tests: the database migrated first, as `hausruf serve` does before its workers start."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from ivr import create_app
from ivr.db import upgrade

ROOT = Path(__file__).resolve().parents[2]


def migrated_app(config: dict) -> Flask:
    """create_app(config) on a database brought to the newest schema."""
    upgrade(config["database_url"])
    return create_app(config)


def demo_apps(database_url: str, tmp_path: Path, flows_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Yields start(**overrides): an app (a server) over flows_dir with a pinned clock; the first imports the demo.

    Every app shares the database and data folder, so a second start() is a restart or a second server.
    overrides are settings (e.g. metrics_token=...); database_url=... puts that one app on another database.
    """
    # Imported here: tests/twilio/conftest.py imports migrated_app from this module.
    from ivr.db import engine_of
    from ivr.wiring import hausruf
    from tests.twilio.conftest import WEDNESDAY_10, app_config, load_demo_directory

    started: list[Flask] = []

    def start(**overrides) -> Flask:
        url = overrides.pop("database_url", database_url)
        app = migrated_app(app_config(url, tmp_path, flows_dir=flows_dir, **overrides))
        hausruf(app).clock = lambda: WEDNESDAY_10
        if not started:
            load_demo_directory(app)
        started.append(app)
        return app

    yield start
    for app in started:
        engine_of(app).dispose()


# The fixtures below are made available to every test by tests/conftest.py.

@pytest.fixture
def flows_dir(tmp_path) -> Path:
    """A copy of flows/ that the test may edit."""
    return shutil.copytree(ROOT / "flows", tmp_path / "flows")


@pytest.fixture
def start_app(sqlite_url, tmp_path, flows_dir):
    """start_app(**overrides): an app over flows_dir + the demo directory + a pinned clock, on SQLite."""
    yield from demo_apps(sqlite_url, tmp_path, flows_dir)


@pytest.fixture
def start_app_on_each_database(database_url, tmp_path, flows_dir):
    """start_app, once on SQLite and once on PostgreSQL."""
    yield from demo_apps(database_url, tmp_path, flows_dir)
