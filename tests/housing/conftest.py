"""Databases for the housing tests: the migrated schema, with the demo directory (projects included)."""

from __future__ import annotations

import pytest

from ivr.directory.importer import import_directory
from tests.conftest import DEMO_DIR
from tests.db.conftest import sessions  # noqa: F401  (a fixture, shared with the database tests)


@pytest.fixture
def demo(sessions):  # noqa: F811
    """Sessions on a database holding the demo cooperative and its housing projects."""
    with sessions.begin() as session:
        import_directory(session, DEMO_DIR)
    return sessions


@pytest.fixture
def sqlite_sessions(sqlite_url):
    """Sessions on a migrated SQLite file, for tests whose subject is not the database."""
    from ivr.db import make_engine, session_factory, upgrade

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    yield session_factory(engine)
    engine.dispose()
