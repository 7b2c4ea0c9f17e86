"""Staff accounts for the console, and the audit log of what staff did.

Revision ID: 0007_staff_accounts
Revises: 0006_housing_seekers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_staff_accounts"
down_revision = "0006_housing_seekers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_accounts_email")),
    )
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_accounts.id"], name=op.f("fk_staff_audit_staff_id_staff_accounts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit")),
    )
    with op.batch_alter_table("staff_audit") as batch:
        batch.create_index(batch.f("ix_staff_audit_at"), ["at"], unique=False)
        batch.create_index(batch.f("ix_staff_audit_staff_id"), ["staff_id"], unique=False)
        batch.create_index(batch.f("ix_staff_audit_action"), ["action"], unique=False)


def downgrade() -> None:
    op.drop_table("staff_audit")
    op.drop_table("staff_accounts")
