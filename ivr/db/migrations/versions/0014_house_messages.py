"""Tenants' spoken messages to their house chat room, from recording to post ("Nachricht an die Nachbarn").

Revision ID: 0014_house_messages
Revises: 0013_house_chat_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_house_messages"
down_revision = "0013_house_chat_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "house_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("house_id", sa.String(length=64), nullable=True),
        sa.Column("recording_ref", sa.String(length=500), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_ids", sa.String(length=600), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_house_messages_call_id_calls"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_house_messages_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["house_id"], ["houses.id"], name=op.f("fk_house_messages_house_id_houses"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_house_messages")),
        sa.UniqueConstraint("call_id", "recording_ref", name=op.f("uq_house_messages_call_id")),
    )
    op.create_index(op.f("ix_house_messages_call_id"), "house_messages", ["call_id"])
    op.create_index(op.f("ix_house_messages_tenant_id"), "house_messages", ["tenant_id"])
    op.create_index(op.f("ix_house_messages_status"), "house_messages", ["status"])
    op.create_index(op.f("ix_house_messages_created_at"), "house_messages", ["created_at"])


def downgrade() -> None:
    op.drop_table("house_messages")
