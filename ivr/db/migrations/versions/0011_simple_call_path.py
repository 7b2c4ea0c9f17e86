"""Provider-neutral call records; the audit event is written by the application, not a trigger.

Revision ID: 0011_simple_call_path
Revises: 0010_matrix_chat
- The trigger of 0004 and its calls.last_event_* columns go: a step inserts its call_events row
  itself, in the same transaction as the step (ivr/calls/handler.py). Events already logged stay.
- calls.call_sid becomes provider + provider_call_id (unique together); from_number keeps the
  caller's address as given (room for SIP URIs and client ids); status holds the domain's words
  (active, ended, unanswered, failed) instead of Twilio's.
- sms_messages.provider_sid becomes provider_message_id with a channel column; addresses widen.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_simple_call_path"
down_revision = "0010_matrix_chat"
branch_labels = None
depends_on = None

EVENT_COLUMNS = ("last_event_kind", "last_event_node", "last_event_detail", "last_event_outcome")
# Twilio's CallStatus words (twilio.com/docs/voice/api/call-resource#call-status-values) -> ours.
TO_DOMAIN = {"queued": "active", "ringing": "active", "in-progress": "active", "completed": "ended",
             "busy": "unanswered", "no-answer": "unanswered", "canceled": "unanswered", "failed": "failed"}
TO_TWILIO = {"active": "in-progress", "ended": "completed", "unanswered": "no-answer", "failed": "failed"}


def _drop_trigger() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    on_calls = " ON calls" if postgresql else ""
    op.execute("DROP TRIGGER IF EXISTS call_events_on_step" + on_calls)
    op.execute("DROP TRIGGER IF EXISTS call_events_on_start" + on_calls)
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS call_events_log()")


def _map_status(mapping: dict[str, str]) -> None:
    calls = sa.table("calls", sa.column("status", sa.String))
    op.execute(calls.update().values(status=sa.case(mapping, value=calls.c.status, else_=calls.c.status)))


def upgrade() -> None:
    _drop_trigger()
    with op.batch_alter_table("calls") as batch:
        for column in EVENT_COLUMNS:
            batch.drop_column(column)
        batch.drop_constraint("uq_calls_call_sid", type_="unique")
        batch.alter_column("call_sid", new_column_name="provider_call_id", existing_type=sa.String(64),
                           type_=sa.String(128), existing_nullable=False)
        batch.add_column(sa.Column("provider", sa.String(16), server_default="twilio", nullable=False))
        batch.alter_column("from_number", existing_type=sa.String(20), type_=sa.String(255))
    with op.batch_alter_table("calls") as batch:  # a second pass: batch mode loses constraints on renamed columns
        batch.create_unique_constraint("uq_calls_provider", ["provider", "provider_call_id"])
    _map_status(TO_DOMAIN)
    with op.batch_alter_table("callback_tasks") as batch:
        batch.alter_column("callback_number", existing_type=sa.String(20), type_=sa.String(255),
                           existing_nullable=False)
    with op.batch_alter_table("sms_messages") as batch:
        batch.drop_constraint("uq_sms_messages_provider_sid", type_="unique")
        batch.alter_column("provider_sid", new_column_name="provider_message_id", existing_type=sa.String(64),
                           type_=sa.String(128))
        batch.add_column(sa.Column("channel", sa.String(16), server_default="sms", nullable=False))
        batch.alter_column("to_number", existing_type=sa.String(20), type_=sa.String(255), existing_nullable=False)
        batch.alter_column("from_number", existing_type=sa.String(20), type_=sa.String(255),
                           existing_nullable=False)
    with op.batch_alter_table("sms_messages") as batch:
        batch.create_unique_constraint("uq_sms_messages_provider_message_id", ["provider_message_id"])


def downgrade() -> None:
    with op.batch_alter_table("sms_messages") as batch:
        batch.drop_constraint("uq_sms_messages_provider_message_id", type_="unique")
        batch.drop_column("channel")
        batch.alter_column("provider_message_id", new_column_name="provider_sid", existing_type=sa.String(128),
                           type_=sa.String(64))
    with op.batch_alter_table("sms_messages") as batch:
        batch.create_unique_constraint("uq_sms_messages_provider_sid", ["provider_sid"])
    _map_status(TO_TWILIO)
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint("uq_calls_provider", type_="unique")
        batch.drop_column("provider")
        batch.alter_column("provider_call_id", new_column_name="call_sid", existing_type=sa.String(128),
                           type_=sa.String(64), existing_nullable=False)
    with op.batch_alter_table("calls") as batch:
        batch.create_unique_constraint("uq_calls_call_sid", ["call_sid"])
    # The columns of 0004 come back empty; its downgrade drops them (and no trigger is there to drop).
    for column, type_ in zip(EVENT_COLUMNS, (sa.String(32), sa.String(100), sa.Text(), sa.Text())):
        op.add_column("calls", sa.Column(column, type_, nullable=True))
