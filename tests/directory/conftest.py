"""A migrated database (SQLite and PostgreSQL) and sessions on it, with or without the demo directory."""

from __future__ import annotations

import pytest

from ivr.db import make_engine, session_factory, upgrade
from ivr.directory.importer import import_directory
from tests.conftest import DEMO_DIR


@pytest.fixture
def sessions(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def demo(sessions):
    """Sessions on a database holding the demo cooperative."""
    with sessions.begin() as session:
        import_directory(session, DEMO_DIR)
    return sessions
