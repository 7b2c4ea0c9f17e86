"""Databases, the spool, recordings and rendered prompts are the service user's alone: 0600 files, 0700 folders."""

from __future__ import annotations

import stat

from ivr.wiring import hausruf
from tests.support.apps import migrated_app
from ivr.calls.spool import spool_missed_call
from ivr.db import engine_of
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, HOTLINE, PUBLIC_URL, app_config, load_demo_directory


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_files_are_private(tmp_path):
    data = tmp_path / "data"
    app = migrated_app(app_config(f"sqlite:///{data / 'hausruf.sqlite3'}", data,
                                prompts_dir=data / "prompts", recordings_dir=data / "recordings"))
    load_demo_directory(app)
    CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN, to_number=HOTLINE).call(ERIKA).press("5")
    spool_missed_call(data, "twilio", "CA" + "1" * 32, ERIKA, "test")
    renderer = hausruf(app).prompt_renderer
    renderer.render("Guten Tag, Frau Becker.", "de")
    (data / "recordings").mkdir()
    files = [data / "hausruf.sqlite3", data / "hausruf.sqlite3-wal", data / "spool" / "missed-calls.jsonl",
             renderer.path_for("Guten Tag, Frau Becker.", "de")]
    assert {str(p): oct(mode(p)) for p in files} == {str(p): "0o600" for p in files}
    folders = [data, data / "spool", data / "prompts", data / "prompts" / "de", data / "recordings"]
    assert {str(p): oct(mode(p)) for p in folders} == {str(p): "0o700" for p in folders}
    engine_of(app).dispose()


def test_files_from_an_older_install_are_tightened_at_start(tmp_path):
    data = tmp_path / "data"
    (data / "spool").mkdir(parents=True)
    (data / "spool").chmod(0o755)
    old = data / "spool" / "missed-calls.jsonl"
    old.write_text("")
    old.chmod(0o644)
    database = data / "hausruf.sqlite3"
    database.touch()
    database.chmod(0o644)
    data.chmod(0o755)
    app = migrated_app(app_config(f"sqlite:///{database}", data))
    assert (mode(data), mode(data / "spool"), mode(old), mode(database)) == (0o700, 0o700, 0o600, 0o600)
    engine_of(app).dispose()
