"""Shared fixtures that follow the app's seams: databases (SQLite and a real PostgreSQL), flows, app."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.apps import flows_dir, start_app, start_app_on_each_database  # noqa: F401 - shared fixtures
from tests.support.postgres import TemporaryPostgres
from tests.support.yamlcache import yaml_parsed_once  # noqa: F401 - every test: each YAML text parsed once

ROOT = Path(__file__).resolve().parent.parent
FLOWS_DIR = ROOT / "flows"
DEMO_DIR = ROOT / "data" / "demo"


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the whole run."""
    server = TemporaryPostgres().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh empty database, once as a SQLite file and once on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh SQLite file, for tests whose subject is not the database."""
    return f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
