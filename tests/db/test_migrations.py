"""The migrations build exactly the schema of the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
import click
from click.testing import CliRunner
from sqlalchemy import inspect, text

from ivr.db import commands
from ivr.db import current, make_engine, upgrade
from ivr.db.models import Base

HEAD = "0014_house_messages"


def test_migration_matches_models(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_upgrade_twice_is_harmless_and_current_reports_head(database_url):
    assert current(database_url) is None
    upgrade(database_url)
    upgrade(database_url)
    assert current(database_url) == HEAD


def _insert_call(connection, sid: str = "CA1", **columns: object) -> None:
    """A call row written with SQL of the schema's own time (no model involved); columns add to it."""
    values = {"call_sid": sid, "flow_name": "hotline", "flow_language": "de", "flow_revision": "r1", "state": "{}",
              "status": "in-progress", "started_at": "2026-03-04 10:00:00", "outcome": "",
              "last_update": "2026-03-04 10:00:00", **columns}
    names = ", ".join(values)
    connection.execute(text(f"INSERT INTO calls ({names}) VALUES ({', '.join(':' + k for k in values)})"), values)


def test_calls_from_before_0002_get_version_zero(database_url):
    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        _insert_call(connection)
    upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version FROM calls WHERE provider_call_id = 'CA1'")).scalar() == 0
    engine.dispose()


def _events(connection) -> list[tuple]:
    return [tuple(row) for row in connection.execute(text("SELECT kind, node, detail, outcome FROM call_events"
                                                          " ORDER BY id"))]


def test_0011_keeps_calls_and_events_maps_twilio_status_words_and_drops_the_trigger(database_url):
    upgrade(database_url, "0010_matrix_chat")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        _insert_call(connection, "CA1", version=1, last_event_kind="start", last_event_node="welcome")
        _insert_call(connection, "CA2", status="completed")
    upgrade(database_url)
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT provider, provider_call_id, status FROM calls ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("twilio", "CA1", "active"), ("twilio", "CA2", "ended")]
        connection.execute(text("UPDATE calls SET version = version + 1"))
        assert _events(connection) == [("start", "welcome", "", "")]  # logged before; no trigger logs now
    upgrade_down(database_url, "0010_matrix_chat")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT call_sid, status FROM calls ORDER BY id")).all()[1] == ("CA2", "completed")
    engine.dispose()


def test_calls_and_events_from_before_0004_stay_through_the_upgrade(database_url):
    upgrade(database_url, "0003")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        _insert_call(connection, version=3)
        connection.execute(text("INSERT INTO call_events (call_id, at, kind, node, detail, outcome)"
                                " SELECT id, last_update, 'digits', 'main_menu', '1', '' FROM calls"))
    upgrade(database_url)
    with engine.connect() as connection:
        assert _events(connection) == [("digits", "main_menu", "1", "")]
        assert connection.execute(text("SELECT version FROM calls")).one() == (3,)
    engine.dispose()


def test_downgrade_to_base_removes_every_table(database_url):
    upgrade(database_url)
    upgrade_down(database_url)
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def upgrade_down(database_url, revision: str = "base"):
    from alembic import command

    from ivr.db.migrate import alembic_config

    command.downgrade(alembic_config(database_url), revision)


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    engine.dispose()


def test_cli_db_upgrade_and_current(database_url, monkeypatch):
    monkeypatch.setenv("HAUSRUF_DATABASE_URL", database_url)
    main = click.Group("hausruf")
    commands.register(main)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "current"]).output == "empty (run: hausruf db upgrade)\n"
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output == f"database at revision {HEAD}\n"
    assert runner.invoke(main, ["db", "current"]).output == f"{HEAD}\n"
