"""Which revision of each flow every server process serves, and since when (the console's /flows).

Revision ID: 0009_flow_server_loads
Revises: 0007_staff_accounts
flow_revisions.loaded_at says when a revision was last loaded by any server; flow_server_loads says
per server process (host:pid) which revision it serves since when, and when it last said so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_flow_server_loads"
down_revision = "0007_staff_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_server_loads",
        sa.Column("server", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("server", "name", "language", name=op.f("pk_flow_server_loads")),
    )


def downgrade() -> None:
    op.drop_table("flow_server_loads")
