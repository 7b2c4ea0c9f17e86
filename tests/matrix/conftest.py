"""A real Synapse for the whole run, the hotline's account on it, and a migrated SQLite database."""

from __future__ import annotations

import pytest

from ivr.db import make_engine, session_factory, upgrade
from ivr.telephony.matrix.client import MatrixClient
from ivr.telephony.matrix.settings import MatrixSettings
from tests.support.synapse import Synapse


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    """One Synapse homeserver (SQLite, free local port) for every Matrix test."""
    server = Synapse(tmp_path_factory.mktemp("synapse")).start()
    yield server
    server.stop()


@pytest.fixture
def hotline_account(synapse):
    """A fresh account for the hotline (a new name per test: no rooms shared with other tests)."""
    return synapse.register("hausruf", displayname="Hausruf")


@pytest.fixture
def matrix_settings(synapse, hotline_account):
    """Settings for the hotline's account, signed in with its access token."""
    return MatrixSettings(homeserver=synapse.url, user=hotline_account.user_id,
                          access_token=hotline_account.access_token)


@pytest.fixture
def matrix_client(matrix_settings, tmp_path):
    client = MatrixClient(matrix_settings, data_dir=tmp_path)
    yield client
    client.close()


@pytest.fixture
def sessions(tmp_path):
    """Sessions on a migrated SQLite database (the Matrix tests' subject is not the database)."""
    url = f"sqlite:///{tmp_path / 'hausruf.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    yield session_factory(engine)
    engine.dispose()
