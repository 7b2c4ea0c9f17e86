"""Flow revisions know when a server last loaded them; workers note when they ran (for /healthz).

Revision ID: 0005_flow_loads_heartbeats
Revises: 0004
A clean flow file that a server loads (edited on disk or uploaded in the console) stamps its
revision's loaded_at; the revision with the newest loaded_at of a (name, language) is the one every
server serves (ivr/flows/revisions.py). A file put back to an older text stamps that old revision
again, so it becomes the most recent; a restart with an unchanged file stamps nothing.

worker_heartbeats holds, per worker process, when its minutely sweep last ran: /healthz is
"degraded" when none ran lately (HAUSRUF_WORKER_STALE_MINUTES).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_flow_loads_heartbeats"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flow_revisions") as batch:
        batch.add_column(sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE flow_revisions SET loaded_at = first_seen_at")
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("flow_revisions") as batch:
        batch.drop_column("loaded_at")
