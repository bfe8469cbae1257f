"""Entries carry their idempotency key (a scan's event_id) beside their bytes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new nullable column: no existing row is touched (the table refuses UPDATE).
    with op.batch_alter_table("log_entries", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_entries", recreate="never") as batch_op:
        batch_op.drop_column("key")
