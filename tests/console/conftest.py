"""An in-process app with the demo directory, an admin and a staff account, and a signed-in client helper."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ivr.db import engine_of, get_session
from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, HOTLINE, WEDNESDAY_10, app_config, load_demo_directory

PUBLIC_URL = "http://hotline.example.org"  # plain http here: the test client keeps Secure cookies to https
ADMIN = ("admin@talblick.example", "Talblick-Admin-2026")
STAFF = ("buero@talblick.example", "Talblick-Buero-2026")
ERIKA = "+493023125301"  # Frau Becker, Lindenhof (demo directory)
# What must never show up for someone who is not signed in: demo names and numbers.
SECRETS = ("Becker", "Erika", "Vogel", "Brandt", "23125301", "23125201", "Lindenhof", "Talblick")


@pytest.fixture(scope="session")
def seed(tmp_path_factory) -> Path:
    """A database file with the demo directory and both accounts, made once per run and copied per test."""
    folder = tmp_path_factory.mktemp("console-seed")
    app = migrated_app(app_config(f"sqlite:///{folder / 'hausruf.sqlite3'}", folder, public_url=PUBLIC_URL))
    load_demo_directory(app)
    from ivr.console.accounts import create

    with app.app_context():
        session = get_session()
        create(session, ADMIN[0], "Anna Admin", ADMIN[1], "admin")
        create(session, STAFF[0], "Bernd Büro", STAFF[1], "staff")
        session.commit()
    engine_of(app).dispose()
    return folder / "hausruf.sqlite3"


def make_app(tmp_path, seed: Path, **overrides):
    """A fresh app on its own copy of the seeded database (demo directory, admin and staff accounts)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(seed, tmp_path / "hausruf.sqlite3")
    app = migrated_app(app_config(f"sqlite:///{tmp_path / 'hausruf.sqlite3'}", tmp_path,
                                **{"public_url": PUBLIC_URL, **overrides}))
    hausruf(app).clock = lambda: WEDNESDAY_10
    return app


@pytest.fixture
def app(tmp_path, seed):
    app = make_app(tmp_path, seed)
    yield app
    engine_of(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def twilio(app):
    return CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of a form on path (the session cookie goes with it)."""
    body = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', body)
    assert match, f"no csrf_token on {path}: {body[:500]}"
    return match.group(1)


def login(client, account=STAFF):
    """Sign in through the form; returns the response."""
    token = csrf_token(client)
    response = client.post("/login", data={"email": account[0], "password": account[1], "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def staff_client(client):
    login(client, STAFF)
    return client


@pytest.fixture
def admin_client(client):
    login(client, ADMIN)
    return client


def post(client, path: str, data: dict | None = None, form_path: str | None = None, **kwargs):
    """POST with the CSRF token of a page (the form's own page, or the overview)."""
    token = csrf_token(client, form_path or "/")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)
