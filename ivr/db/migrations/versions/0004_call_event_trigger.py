"""The database writes a call's audit event, from the same statement that stores the step.

Revision ID: 0004
Revises: 0003
A step used to be four statements (BEGIN, UPDATE calls, INSERT call_events, COMMIT). Each is a
round trip through the driver, and each lets another thread of the worker take the GIL, so under
load they cost more than the work they do (bench/webhooks.py --against the four-statement version:
1.13 times the steps per second). Now the step's UPDATE carries its event in four last_event_* columns,
and a trigger copies them into call_events whenever the version changes (or a call is inserted
with an event). One statement is atomic with its triggers, so a step and its audit row are stored
together or not at all, on SQLite in autocommit mode and on PostgreSQL alike.

Every write that bumps calls.version must therefore set the last_event_* columns (the trigger
logs them). A later SQLite migration that rebuilds the calls table (batch mode "recreate") drops
the trigger with the old table and has to create it again; tests/db/test_migrations.py checks
that the trigger is there at head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("last_event_kind", "last_event_node", "last_event_detail", "last_event_outcome")
EVENT_VALUES = ("NEW.id, NEW.last_update, NEW.last_event_kind, NEW.last_event_node, "
                "COALESCE(NEW.last_event_detail, ''), COALESCE(NEW.last_event_outcome, '')")
INSERT_EVENT = f"INSERT INTO call_events (call_id, at, kind, node, detail, outcome) VALUES ({EVENT_VALUES})"

SQLITE = [
    f"""CREATE TRIGGER call_events_on_step AFTER UPDATE OF version ON calls
        WHEN NEW.version <> OLD.version AND NEW.last_event_kind IS NOT NULL
        BEGIN {INSERT_EVENT}; END""",
    f"""CREATE TRIGGER call_events_on_start AFTER INSERT ON calls
        WHEN NEW.last_event_kind IS NOT NULL
        BEGIN {INSERT_EVENT}; END""",
]
POSTGRESQL = [
    f"""CREATE FUNCTION call_events_log() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {INSERT_EVENT}; RETURN NULL; END $$""",
    """CREATE TRIGGER call_events_on_step AFTER UPDATE OF version ON calls FOR EACH ROW
        WHEN (NEW.version <> OLD.version AND NEW.last_event_kind IS NOT NULL)
        EXECUTE FUNCTION call_events_log()""",
    """CREATE TRIGGER call_events_on_start AFTER INSERT ON calls FOR EACH ROW
        WHEN (NEW.last_event_kind IS NOT NULL)
        EXECUTE FUNCTION call_events_log()""",
]


def upgrade() -> None:
    # Plain ALTER TABLE (no batch rebuild, see downgrade()): the calls and their events stay as they are.
    op.add_column("calls", sa.Column("last_event_kind", sa.String(length=32), nullable=True))
    op.add_column("calls", sa.Column("last_event_node", sa.String(length=100), nullable=True))
    op.add_column("calls", sa.Column("last_event_detail", sa.Text(), nullable=True))
    op.add_column("calls", sa.Column("last_event_outcome", sa.Text(), nullable=True))
    for statement in POSTGRESQL if op.get_bind().dialect.name == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS call_events_on_step" + _on_calls())
    op.execute("DROP TRIGGER IF EXISTS call_events_on_start" + _on_calls())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS call_events_log()")
    # Not batch mode: on SQLite that rebuilds the table, and dropping the old calls table with
    # foreign keys on deletes every call's events (ON DELETE CASCADE). SQLite >= 3.35 drops columns.
    for column in reversed(COLUMNS):
        op.drop_column("calls", column)


def _on_calls() -> str:
    return " ON calls" if op.get_bind().dialect.name == "postgresql" else ""
