"""Community housing: projects in the directory, seekers with their consent, anonymous demand counters.

Revision ID: 0006_housing_seekers
Revises: 0005_flow_loads_heartbeats
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_housing_seekers"
down_revision = "0005_flow_loads_heartbeats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "housing_projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("town", sa.String(length=200), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("rent_band", sa.String(length=16), nullable=False),
        sa.Column("flats_free", sa.Integer(), nullable=False),
        sa.Column("waiting_list", sa.Boolean(), nullable=False),
        sa.Column("phone_text", sa.Text(), nullable=False),
        sa.Column("sms_text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_housing_projects_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_housing_projects")),
    )
    op.create_index(op.f("ix_housing_projects_region_id"), "housing_projects", ["region_id"])
    op.create_table(
        "housing_seekers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("share_consent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_housing_seekers_call_id_calls"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_housing_seekers")),
    )
    op.create_index(op.f("ix_housing_seekers_phone"), "housing_seekers", ["phone"])
    op.create_index(op.f("ix_housing_seekers_call_id"), "housing_seekers", ["call_id"])
    op.create_index(op.f("ix_housing_seekers_created_at"), "housing_seekers", ["created_at"])
    op.create_table(
        "housing_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_housing_demand")),
        sa.UniqueConstraint("month", "dimension", "value", "outcome", name="uq_housing_demand_cell"),
    )


def downgrade() -> None:
    op.drop_table("housing_demand")
    op.drop_table("housing_seekers")
    op.drop_table("housing_projects")
