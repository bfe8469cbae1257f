"""Alert rules: acknowledgements in the log, one alert per rule and event, where each
box was last scanned, and an index for the dispatches awaiting their receive.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ack_index", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_alerts_log_rule_event", ["log_id", "rule", "event_id"], unique=True)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("seen_lat", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("seen_lon", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("seen_index", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_items_status_dispatched", ["status", "dispatched_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_status_dispatched")
        batch_op.drop_column("seen_index")
        batch_op.drop_column("seen_lon")
        batch_op.drop_column("seen_lat")
        batch_op.drop_column("seen_at")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_log_rule_event")
        batch_op.drop_column("ack_index")
