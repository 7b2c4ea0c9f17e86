"""Prompt URLs carry the server's key: a personal greeting is 404 without it, whether or not the tenant called."""

from __future__ import annotations

import stat

import pytest

from ivr.db import engine_of
from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from tests.twilio.conftest import ERIKA, PUBLIC_URL, app_config, load_demo_directory

GREETING = "Guten Tag, Frau Becker. Hier ist das Haustelefon Ihrer Genossenschaft."
STRANGER_GREETING = "Guten Tag, Frau Nochniehier. Hier ist das Haustelefon Ihrer Genossenschaft."
MENU = "Drücken Sie eine Taste oder sagen Sie ein Wort. Mit der Stern-Taste hören Sie alles noch einmal."


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = migrated_app(app_config(sqlite_url, tmp_path))
    load_demo_directory(app)
    yield app
    engine_of(app).dispose()


def _pretend_rendered(app, text: str) -> str:
    """Put a WAV where the renderer would (the HTTP gate is the subject here, not espeak)."""
    path = hausruf(app).prompt_renderer.path_for(text, "de")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF....WAVE")
    return path.name


def test_a_personal_prompt_is_404_without_its_key_whether_or_not_the_tenant_called(app):
    client = app.test_client()
    name = _pretend_rendered(app, GREETING)  # Frau Becker has called: her greeting exists (as an older install kept it)
    unknown = hausruf(app).prompt_renderer.path_for(STRANGER_GREETING, "de").name
    for guess in (f"/prompts/de/{name}", f"/prompts/de/{'0' * 24}/{name}", f"/prompts/de/{unknown}",
                  f"/prompts/de/{'0' * 24}/{unknown}"):
        assert client.get(guess).status_code == 404, guess
    menu = _pretend_rendered(app, MENU)
    url = hausruf(app).prompt_url(MENU, "de")
    assert url.startswith(f"{PUBLIC_URL}/prompts/de/") and url.endswith(menu)
    assert client.get(url[len(PUBLIC_URL):]).status_code == 200
    # The key is for one file: it opens no other.
    key = url.split("/")[-2]
    assert client.get(f"/prompts/de/{key}/{name}").status_code == 404


def test_the_key_survives_a_restart_and_differs_between_installs(sqlite_url, tmp_path, app):
    url = hausruf(app).prompt_url.secret
    again = migrated_app(app_config(sqlite_url, tmp_path))
    assert hausruf(again).prompt_url.secret == url  # Twilio's cached URLs keep working
    other = migrated_app(app_config(f"sqlite:///{tmp_path / 'other' / 'db.sqlite3'}", tmp_path / "other"))
    assert hausruf(other).prompt_url.secret != url
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    for made in (again, other):
        engine_of(made).dispose()


def test_a_call_plays_keyed_urls(app, tmp_path):
    from tests.support.call_simulator import CallSimulator
    from tests.twilio.conftest import AUTH_TOKEN, HOTLINE

    twilio = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)
    _pretend_rendered(app, twilio.call(ERIKA).heard[1])  # a static line of the menu
    hausruf(app).prompt_url._looked_up.clear()
    call = twilio.call(ERIKA)
    plays = [play.text for play in call.twiml.iter("Play")]
    assert plays and all(app.test_client().get(url[len(PUBLIC_URL):]).status_code == 200 for url in plays)
