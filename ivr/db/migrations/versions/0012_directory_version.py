"""A change counter for the directory, bumped by triggers, so the call path can keep its reads in memory.

Revision ID: 0012_directory_version
Revises: 0011_simple_call_path

Every INSERT, UPDATE or DELETE on a directory table adds one to directory_version.version in the
same transaction, whoever writes (import, console, erasure, a psql session). ivr.directory.cache
rebuilds a caller's context from memory while the counter stays put (docs/performance.md).

On SQLite a table rebuilt by a later migration (alembic's batch mode copies the table) loses its
triggers: such a migration must call create_triggers() again; tests/directory/test_cache.py checks
at the head revision that every directory table bumps the counter.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_directory_version"
down_revision = "0011_simple_call_path"
branch_labels = None
depends_on = None

# As ivr.db.models.DIRECTORY_TABLES at this revision (a migration must not change when the model does).
TABLES = ("regions", "houses", "tenants", "tenant_phones", "volunteers", "partners", "partner_regions",
          "housing_projects")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"


def create_triggers(tables=TABLES) -> None:
    """The triggers that bump the counter on every change to tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE OR REPLACE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {BUMP}; RETURN NULL; END $$")
        for table in tables:  # once per statement, however many rows it changes
            op.execute(f"CREATE TRIGGER directory_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()")
        return
    for table in tables:  # SQLite has row triggers only
        for event in EVENTS:
            op.execute(f"CREATE TRIGGER directory_changed_{table}_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN {BUMP}; END")


def drop_triggers(tables=TABLES) -> None:
    """The triggers of create_triggers() gone."""
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS directory_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS directory_changed()")
        return
    for table in tables:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS directory_changed_{table}_{event.lower()}")


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    op.execute("INSERT INTO directory_version (id, version) VALUES (1, 0)")
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_table("directory_version")
