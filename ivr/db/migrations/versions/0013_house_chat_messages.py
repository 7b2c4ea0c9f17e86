"""The house rooms' recent messages, kept by the worker's Matrix sync so a call reads only the database.

Revision ID: 0013_house_chat_messages
Revises: 0012_directory_version
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_house_chat_messages"
down_revision = "0012_directory_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "house_chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("msgtype", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reply_to", sa.String(length=255), nullable=True),
        sa.Column("from_hotline", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["house_id"], ["houses.id"], name=op.f("fk_house_chat_messages_house_id_houses"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_house_chat_messages_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house_chat_messages")),
        sa.UniqueConstraint("event_id", name=op.f("uq_house_chat_messages_event_id")),
    )
    op.create_index(op.f("ix_house_chat_messages_house_id"), "house_chat_messages", ["house_id"])
    op.create_index(op.f("ix_house_chat_messages_sent_at"), "house_chat_messages", ["sent_at"])
    op.create_index(op.f("ix_house_chat_messages_tenant_id"), "house_chat_messages", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("house_chat_messages")
