"""Calls get a version counter, so webhooks of one call can decide outside the write lock.

Revision ID: 0002
Revises: 0001
A webhook reads the call, runs the engine step and then stores it with
UPDATE ... WHERE version = <the version it read>; no row updated means another webhook of the
same call got there first, and the step is decided again (ivr/calls/handler.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("version")
