"""Sessions on a freshly migrated database, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import pytest

from ivr.db import make_engine, session_factory, upgrade


@pytest.fixture
def sessions(database_url):
    """A sessionmaker on an upgraded, empty database."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()
