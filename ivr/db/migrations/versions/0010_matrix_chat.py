"""The Matrix chat: helpers' Matrix IDs, houses' chat rooms, tenants' opt-in, and the channel's state.

Revision ID: 0010_matrix_chat
Revises: 0009_flow_server_loads
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_matrix_chat"
down_revision = "0009_flow_server_loads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volunteers") as batch:
        batch.add_column(sa.Column("matrix", sa.String(length=255), server_default="", nullable=False))
    with op.batch_alter_table("houses") as batch:
        batch.add_column(sa.Column("chat_room", sa.String(length=255), server_default="", nullable=False))
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("house_chat", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "matrix_state",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_matrix_state")),
    )


def downgrade() -> None:
    op.drop_table("matrix_state")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("house_chat")
    with op.batch_alter_table("houses") as batch:
        batch.drop_column("chat_room")
    with op.batch_alter_table("volunteers") as batch:
        batch.drop_column("matrix")
