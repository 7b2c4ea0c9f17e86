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

HEAD = "0003"


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


def test_calls_from_before_0002_get_version_zero(database_url):
    upgrade(database_url, "0001")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO calls (call_sid, flow_name, flow_language, flow_revision, state, status, started_at,"
            " outcome, last_update) VALUES ('CA1', 'hotline', 'de', 'r1', '{}', 'in-progress',"
            " '2026-03-04 10:00:00', '', '2026-03-04 10:00:00')"))
    upgrade(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version FROM calls WHERE call_sid = 'CA1'")).scalar() == 0
    engine.dispose()


def test_downgrade_to_base_removes_every_table(database_url):
    upgrade(database_url)
    upgrade_down(database_url)
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()


def upgrade_down(database_url):
    from alembic import command

    from ivr.db.migrate import alembic_config

    command.downgrade(alembic_config(database_url), "base")


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url):
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
