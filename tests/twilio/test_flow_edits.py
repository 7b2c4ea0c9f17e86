"""A flow edited in mid-call, and a restart, do not break the call: its revision lives in the database."""

from __future__ import annotations

import logging

from sqlalchemy import select

from ivr import create_app
from ivr.db import engine_of, get_session
from ivr.db.models import FlowRevision
from tests.support.call_simulator import CallSimulator
from tests.twilio.conftest import AUTH_TOKEN, ERIKA, PUBLIC_URL, STAFF, app_config
from ivr.wiring import hausruf


def stored_revisions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted(get_session().execute(select(FlowRevision.revision, FlowRevision.language)).all())


def test_a_call_continues_on_its_revision_after_an_edit_removed_its_node_and_a_restart(start_app_on_each_database,
                                                                                       flows_dir):
    first = start_app_on_each_database()
    call = CallSimulator(first.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
    call.press("4")  # now in care_menu
    assert call.heard[0] == "Pflege."
    hotline = flows_dir / "hotline.yaml"
    hotline.write_text(hotline.read_text(encoding="utf-8").replace("care_menu", "pflege_menu"), encoding="utf-8")

    restarted = start_app_on_each_database()  # nothing in memory but the edited file
    assert "care_menu" not in hausruf(restarted).flows.current().get("hotline", "de").nodes
    call.sim = CallSimulator(restarted.test_client(), PUBLIC_URL, AUTH_TOKEN)
    call.press("1")
    assert call.heard == ["Ich verbinde Sie mit dem Pflegedienst Lebensbaum. Bitte bleiben Sie am Apparat."]
    # hotline before and after the edit, wohnen, hotline.en
    assert sorted(language for _, language in stored_revisions(restarted)) == ["de", "de", "de", "en"]


def test_two_apps_starting_on_one_database_store_each_revision_once(start_app_on_each_database):
    first = start_app_on_each_database()
    second = start_app_on_each_database()
    flows = hausruf(second).flows.current()
    assert stored_revisions(first) == sorted((f.revision, f.language) for f in flows.flows())
    assert not hausruf(first).flows.flowset.unsaved
    assert not flows.unsaved


def test_a_broken_database_at_start_does_not_stop_the_server(sqlite_url, tmp_path, caplog):
    database = tmp_path / "hausruf.sqlite3"
    database.write_bytes(b"this is no longer a database " * 100)
    with caplog.at_level(logging.ERROR):
        app = create_app(app_config(sqlite_url, tmp_path))  # a broken database cannot be migrated
    try:
        assert "could not store flow revisions" in caplog.text
        assert hausruf(app).flows.flowset.unsaved  # tried again at the next check
        call = CallSimulator(app.test_client(), PUBLIC_URL, AUTH_TOKEN).call(ERIKA)
        assert call._only("Number").text == STAFF
    finally:
        engine_of(app).dispose()
