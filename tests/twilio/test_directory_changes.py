"""A change to the directory, made by anyone, reaches the very next call (ivr.directory.cache keeps reads per version)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ivr.db import make_engine
from ivr.db.models import DIRECTORY_TABLES
from tests.twilio.conftest import ERIKA

EVENTS = {"INSERT", "UPDATE", "DELETE"}


@pytest.fixture
def elsewhere(database_url):
    """A connection of its own, as another process (an import, the console, psql) would have."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def version(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT version FROM directory_version WHERE id = 1"))


def change(engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_a_directory_change_made_elsewhere_reaches_the_next_call(twilio, elsewhere):
    assert "Einkauf: die 1." in twilio.call(ERIKA).heard
    assert twilio.call(ERIKA).heard[0].startswith("Guten Tag.")  # the second call is answered from memory

    change(elsewhere, "UPDATE partners SET active = false WHERE id = 'frischekorb'")
    assert "Einkauf: die 1." not in twilio.call(ERIKA).heard_text  # no grocery partner for her any more
    change(elsewhere, "UPDATE tenants SET language = 'en' WHERE last_name = 'Becker'")
    assert twilio.call(ERIKA).heard[0].startswith("Hello.")
    change(elsewhere, "DELETE FROM tenant_phones WHERE number = '+493023125301'")
    assert "Frau Becker" not in twilio.call(ERIKA).heard_text


def test_calls_and_their_bookings_leave_the_directory_version_alone(twilio, elsewhere):
    before = version(elsewhere)
    call = twilio.call(ERIKA)
    call.press("1")
    call.dial_ends("busy")  # the partner is busy: the caller is offered a callback
    call.press("1")  # yes, call me back: a task is booked in the step's transaction
    call.hang_up()
    with elsewhere.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM callback_tasks")) == 1
    assert version(elsewhere) == before


def test_every_directory_table_moves_the_version_on_every_kind_of_change(twilio, elsewhere):
    with elsewhere.connect() as connection:
        if elsewhere.dialect.name == "sqlite":
            names = connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'directory_changed_%'"))
            triggers = {tuple(name.removeprefix("directory_changed_").rsplit("_", 1)) for name in names}
            triggers = {(table, event.upper()) for table, event in triggers}
        else:
            triggers = set(connection.execute(text(
                "SELECT event_object_table, event_manipulation FROM information_schema.triggers "
                "WHERE trigger_name = 'directory_changed'")))
    assert triggers == {(table, event) for table in DIRECTORY_TABLES for event in EVENTS}

    for table in DIRECTORY_TABLES:  # and they do what they say
        before = version(elsewhere)
        key = "partner_id" if table == "partner_regions" else "id"
        change(elsewhere, f"UPDATE {table} SET {key} = {key}")
        assert version(elsewhere) > before, table
