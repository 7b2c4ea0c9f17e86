"""Apps for tests: the database migrated first, as `hausruf serve` does before its workers start."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import URL, make_url

from ivr import create_app
from ivr.db import upgrade

ROOT = Path(__file__).resolve().parents[2]


def migrated_app(config: dict) -> Flask:
    """create_app(config) on a database brought to the newest schema."""
    migrate(config["database_url"])
    return create_app(config)


def migrate(database_url: str) -> None:
    """upgrade(database_url), quicker for a new empty database: it becomes a copy of one migrated once per run.

    Running every migration costs about half a second a test (more on PostgreSQL and on a busy machine);
    copying a SQLite file or cloning a PostgreSQL template database costs milliseconds. The copy is what
    the same migrations made, so the tests see the same schema; tests/db runs the migrations themselves.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists() \
            and Path(url.database).parent.is_dir():
        shutil.copyfile(_sqlite_template(), url.database)
    elif url.get_backend_name() == "postgresql" and _postgres_is_empty(database_url):
        _clone_postgres_template(url)
    upgrade(database_url)  # a no-op on a copy (milliseconds); migrates anything else as before


@functools.cache
def _sqlite_template() -> Path:
    """A SQLite file at the newest schema, made once per test process."""
    folder = Path(tempfile.mkdtemp(prefix="hausruf-template-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "migrated.sqlite3"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:  # everything in the main file, nothing left in a -wal file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def _admin(url: URL):
    """An autocommit connection to the server's postgres database (CREATE/DROP DATABASE need one)."""
    import psycopg

    return psycopg.connect(host=url.host, port=url.port, user=url.username or "postgres", dbname="postgres",
                           autocommit=True)


def _postgres_is_empty(database_url: str) -> bool:
    """True for a database without a single table in it (as create_database() made it)."""
    import psycopg

    url = make_url(database_url)
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as connection:
        return connection.execute("SELECT count(*) FROM information_schema.tables "
                                  "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')").fetchone()[0] == 0


_POSTGRES_TEMPLATES: set[tuple[str, int]] = set()  # servers on which this process made its template


def _clone_postgres_template(url: URL) -> None:
    """Replace the empty database by a clone of a template migrated once per server and test process."""
    template = f"migrated_{os.getpid()}"
    with _admin(url) as connection:
        made = (url.host, url.port) in _POSTGRES_TEMPLATES and connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone()  # (a new server on a reused port)
        if not made:
            connection.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{template}"')
    if not made:
        upgrade(url.set(database=template).render_as_string(hide_password=False))
        _POSTGRES_TEMPLATES.add((url.host, url.port))
    with _admin(url) as connection:
        connection.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"')


def import_demo(database_url: str) -> None:
    """The demo directory into a database, as `hausruf import data/demo` does (in process: seconds quicker)."""
    from ivr.db import make_engine, session_factory
    from ivr.directory.importer import import_directory

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            import_directory(session, ROOT / "data" / "demo")
    finally:
        engine.dispose()


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
