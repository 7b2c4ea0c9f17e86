"""Initial schema: directory, calls and call events, callback tasks and transitions, SMS outbox.

Revision ID: 0001
Revises: (none)
Checked by hand against ivr/db/models.py; tests/db/test_migrations.py compares them on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("service_kind", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=False),
        sa.Column("whisper", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
    )
    op.create_index(op.f("ix_partners_service_kind"), "partners", ["service_kind"])
    op.create_table(
        "regions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
    )
    op.create_table(
        "houses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_houses_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_houses")),
    )
    op.create_index(op.f("ix_houses_region_id"), "houses", ["region_id"])
    op.create_table(
        "partner_regions",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_partner_regions_partner_id_partners"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_partner_regions_region_id_regions"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("partner_id", "region_id", name=op.f("pk_partner_regions")),
    )
    op.create_index(op.f("ix_partner_regions_region_id"), "partner_regions", ["region_id"])
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("salutation", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["house_id"], ["houses.id"], name=op.f("fk_tenants_house_id_houses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_index(op.f("ix_tenants_house_id"), "tenants", ["house_id"])
    op.create_table(
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("quiet_hours", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["house_id"], ["houses.id"], name=op.f("fk_volunteers_house_id_houses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("phone", name=op.f("uq_volunteers_phone")),
    )
    op.create_index(op.f("ix_volunteers_house_id"), "volunteers", ["house_id"])
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("flow_name", sa.String(length=100), nullable=False),
        sa.Column("flow_language", sa.String(length=16), nullable=False),
        sa.Column("flow_revision", sa.String(length=64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_calls_tenant_id_tenants"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_calls_call_sid")),
    )
    op.create_index(op.f("ix_calls_from_number"), "calls", ["from_number"])
    op.create_index(op.f("ix_calls_started_at"), "calls", ["started_at"])
    op.create_index(op.f("ix_calls_tenant_id"), "calls", ["tenant_id"])
    op.create_table(
        "tenant_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_phones_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_phones")),
        sa.UniqueConstraint("number", name=op.f("uq_tenant_phones_number")),
    )
    op.create_index(op.f("ix_tenant_phones_tenant_id"), "tenant_phones", ["tenant_id"])
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_call_events_call_id_calls"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
    )
    op.create_index(op.f("ix_call_events_call_id"), "call_events", ["call_id"])
    op.create_table(
        "callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("house_id", sa.String(length=64), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("callback_number", sa.String(length=20), nullable=False),
        sa.Column("caller_name", sa.String(length=200), nullable=False),
        sa.Column("recording_ref", sa.String(length=500), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_step_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_volunteer_id", sa.Integer(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assigned_volunteer_id"], ["volunteers.id"], name=op.f("fk_callback_tasks_assigned_volunteer_id_volunteers"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], name=op.f("fk_callback_tasks_call_id_calls"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["house_id"], ["houses.id"], name=op.f("fk_callback_tasks_house_id_houses")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_callback_tasks_tenant_id_tenants"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_tasks")),
        sa.UniqueConstraint("number", name=op.f("uq_callback_tasks_number")),
    )
    op.create_index(op.f("ix_callback_tasks_call_id"), "callback_tasks", ["call_id"])
    op.create_index(op.f("ix_callback_tasks_house_id"), "callback_tasks", ["house_id"])
    op.create_index(op.f("ix_callback_tasks_next_step_at"), "callback_tasks", ["next_step_at"])
    op.create_index(op.f("ix_callback_tasks_state"), "callback_tasks", ["state"])
    op.create_index(op.f("ix_callback_tasks_tenant_id"), "callback_tasks", ["tenant_id"])
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("to_number", sa.String(length=20), nullable=False),
        sa.Column("from_number", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_code", sa.Integer(), nullable=True),
        sa.Column("last_error_text", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["callback_tasks.id"], name=op.f("fk_sms_messages_task_id_callback_tasks"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_messages_idempotency_key")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_sms_messages_provider_sid")),
    )
    op.create_index(op.f("ix_sms_messages_next_attempt_at"), "sms_messages", ["next_attempt_at"])
    op.create_index(op.f("ix_sms_messages_status"), "sms_messages", ["status"])
    op.create_index(op.f("ix_sms_messages_task_id"), "sms_messages", ["task_id"])
    op.create_table(
        "task_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["callback_tasks.id"], name=op.f("fk_task_transitions_task_id_callback_tasks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_transitions")),
    )
    op.create_index(op.f("ix_task_transitions_task_id"), "task_transitions", ["task_id"])



def downgrade() -> None:
    # Dependents first; dropping a table drops its indexes.
    for table in (
        "task_transitions",
        "sms_messages",
        "callback_tasks",
        "call_events",
        "tenant_phones",
        "calls",
        "volunteers",
        "tenants",
        "partner_regions",
        "houses",
        "regions",
        "partners",
    ):
        op.drop_table(table)
