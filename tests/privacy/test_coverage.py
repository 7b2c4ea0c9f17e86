"""No table may hold phone numbers or a person's words without access, erasure and retention covering it.

A new column named like a number, a caller, a contact, answers, a body or a detail fails here until it
is listed in ivr.privacy.coverage (and handled in ivr.privacy.person and .retention).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

from ivr.db import upgrade
from ivr.db.models import Base
from ivr.privacy.coverage import NOT_PERSONAL, PERSONAL, suspects


def _migrated_tables(url: str) -> list[Table]:
    """Every table of the migrated schema, as the database has it (migrations may add what models lack)."""
    upgrade(url)
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        return list(metadata.tables.values())
    finally:
        engine.dispose()


def test_every_column_named_like_personal_data_is_covered(sqlite_url):
    found = suspects(Base.metadata.tables.values()) | suspects(_migrated_tables(sqlite_url))
    unlisted = sorted(found - set(PERSONAL) - set(NOT_PERSONAL))
    assert unlisted == [], (f"{unlisted}: columns that look like phone numbers or personal text; cover them in "
                            "ivr/privacy/person.py (export, erase) and retention.py, then list them in "
                            "ivr/privacy/coverage.py (PERSONAL, or NOT_PERSONAL with the reason)")


def test_the_list_names_only_columns_that_exist(sqlite_url):
    columns = {f"{t.name}.{c.name}" for t in _migrated_tables(sqlite_url) for c in t.columns}
    assert sorted((set(PERSONAL) | set(NOT_PERSONAL)) - columns) == []
    models = {f"{t.name}.{c.name}" for t in Base.metadata.tables.values() for c in t.columns}
    assert sorted(columns - models - {"alembic_version.version_num"}) == []  # models and migrations agree


def test_a_new_table_with_a_number_is_caught():
    metadata = MetaData()
    table = Table("chat_messages", metadata, Column("id", Integer, primary_key=True),
                  Column("sender_number", String(20)), Column("room", String(50)))
    assert suspects([table]) - set(PERSONAL) == {"chat_messages.sender_number"}


def test_every_export_section_named_exists(sqlite_url, tmp_path):
    from ivr.config import Settings
    from ivr.privacy.person import export_person

    settings = Settings.from_env(database_url=sqlite_url, data_dir=tmp_path, prompts_dir=tmp_path / "prompts",
                                 recordings_dir=tmp_path / "recordings")
    held = export_person(settings, "+493023125301")
    for column, coverage in PERSONAL.items():
        section = held
        for key in coverage.export.split("."):
            assert key in section, f"{column}: export section {coverage.export!r} is missing"
            section = section[key]
        assert section == [], column  # an empty database holds nothing about anyone
