"""Flow revisions live in the database, so a call started before an edit finishes on its flow after a restart.

Revision ID: 0003
Revises: 0002
Each flow text the server loads is stored once under its revision (the hash of the text);
a webhook for a call whose revision is no longer in memory rebuilds the flow from here
(ivr/flows/revisions.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_revisions",
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_flow_revisions")),
    )


def downgrade() -> None:
    op.drop_table("flow_revisions")
