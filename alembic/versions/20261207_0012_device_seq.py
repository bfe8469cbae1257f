"""Each scan's `device_seq` beside its event, one per phone and number: a number used
again is answered `conflict`, a gap in a phone's numbers raises `device_gap`.

Events already stored take their number from their entry's signed scan (the
append-only guard on events is lifted for that, and put back). Where an
older log let a phone use a number twice, the first scan keeps it and the later ones
keep none (the entries, which never change, still show them).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.core.append_only import drop_append_only, make_append_only

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FROM_ENTRIES = {
    "postgresql": """
        UPDATE events SET device_seq = (convert_from(e.data, 'UTF8')::jsonb #>> '{scan,device_seq}')::bigint
        FROM log_entries e WHERE e.log_id = events.log_id AND e.idx = events.entry_index
    """,
    "sqlite": """
        UPDATE events SET device_seq = (
            SELECT json_extract(CAST(e.data AS TEXT), '$.scan.device_seq') FROM log_entries e
            WHERE e.log_id = events.log_id AND e.idx = events.entry_index
        )
    """,
}
LATER_REUSES = """
    UPDATE events SET device_seq = NULL WHERE EXISTS (
        SELECT 1 FROM events f WHERE f.log_id = events.log_id AND f.device_id = events.device_id
        AND f.device_seq = events.device_seq AND f.entry_index < events.entry_index
    )
"""


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_seq", sa.BigInteger(), nullable=True))
    # Events are append-only: the guard is lifted for the one backfill, in this transaction.
    drop_append_only("events")
    op.execute(FROM_ENTRIES[op.get_bind().dialect.name])
    op.execute(LATER_REUSES)
    make_append_only("events")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_log_device_seq", ["log_id", "device_id", "device_seq"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_log_device_seq")
        batch_op.drop_column("device_seq")
