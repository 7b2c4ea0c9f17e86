"""An app with the demo directory, signed webhooks, and a CallSimulator that plays Twilio."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.support.apps import migrated_app
from tests.conftest import DEMO_DIR
from tests.support.call_simulator import CallSimulator
from ivr.wiring import hausruf

AUTH_TOKEN = "secret"
PUBLIC_URL = "https://hotline.example.org"
STAFF = "+4927150100000"
HOTLINE = "+4927150199999"
ERIKA = "+493023125301"  # Frau Becker, Lindenhof, Siegen (demo directory)
WEDNESDAY_10 = datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)  # 10:00 in Berlin: offices and partners open


def app_config(database_url: str, tmp_path, **overrides) -> dict:
    """Settings overrides for a test app: its own database and data folder, Twilio secrets set."""
    return {"database_url": database_url, "twilio_auth_token": AUTH_TOKEN, "public_url": PUBLIC_URL,
            "staff_number": STAFF, "phone_number": HOTLINE, "data_dir": tmp_path,
            "prompts_dir": tmp_path / "prompts", "recordings_dir": tmp_path / "recordings",
            "render_prompts_on_demand": False, "queue_url": f"sqlite:///{tmp_path / 'huey.sqlite3'}", **overrides}


def load_demo_directory(app) -> None:
    """Import data/demo into the app's database."""
    from ivr.db import get_session
    from ivr.directory.importer import import_directory

    with app.app_context():
        session = get_session()
        import_directory(session, DEMO_DIR)
        session.commit()


@pytest.fixture
def app(database_url, tmp_path):
    app = migrated_app(app_config(database_url, tmp_path))
    hausruf(app).clock = lambda: WEDNESDAY_10
    load_demo_directory(app)
    yield app
    from ivr.db import engine_of

    engine_of(app).dispose()


@pytest.fixture
def twilio(app):
    """A CallSimulator posting signed forms to the app."""
    return CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE)
