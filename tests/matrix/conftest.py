"""A real Synapse for the whole run, the hotline's account on it, a migrated SQLite database, and a web app
(the console's seeded demo) configured for Matrix on it."""

from __future__ import annotations

import pytest

from sqlalchemy import update

from ivr.db import engine_of, make_engine, session_factory, upgrade
from ivr.db.models import House
from ivr.telephony.matrix.client import MatrixClient
from ivr.telephony.matrix.settings import MatrixSettings
from tests.console.conftest import make_app, seed  # noqa: F401  (seed: a fixture)
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


@pytest.fixture
def helpers_room_setting() -> str | None:
    """HAUSRUF_MATRIX_HELPERS_ROOM of web_app (a test module may give one)."""
    return None


@pytest.fixture
def web_app(tmp_path, seed, synapse, hotline_account, helpers_room_setting, monkeypatch):  # noqa: F811
    """The web app (demo directory, staff accounts) with Matrix set up for the hotline's account and no
    Twilio account (app_config sets no TWILIO_ACCOUNT_SID); no house has a chat room yet."""
    monkeypatch.setenv("HAUSRUF_MATRIX_HOMESERVER", synapse.url)
    monkeypatch.setenv("HAUSRUF_MATRIX_USER", hotline_account.user_id)
    monkeypatch.setenv("HAUSRUF_MATRIX_ACCESS_TOKEN", hotline_account.access_token)
    if helpers_room_setting:
        monkeypatch.setenv("HAUSRUF_MATRIX_HELPERS_ROOM", helpers_room_setting)
    app = make_app(tmp_path, seed)
    with engine_of(app).begin() as connection:
        connection.execute(update(House).values(chat_room=""))
    yield app
    engine_of(app).dispose()


@pytest.fixture
def worker_sessions(web_app):
    """The worker's own connection to the web app's database."""
    engine = make_engine(web_app.config["HAUSRUF"].database_url)
    yield session_factory(engine)
    engine.dispose()
