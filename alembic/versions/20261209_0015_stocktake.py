"""Stock-takes (issue 25): a site's stock opname, its scans' boxes and its closing.

- `stocktakes`: one row per stock-take, made by its first `stocktake` scan; the boxes
  scanned (each with its first scan's entry index) and, once closed, the closing's
  entry index and the boxes found, missing and unexpected it names. A projection of
  the log, like `handoffs`.

Revision ID: 0015_stocktake
Revises: 0014_escort_nrp
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_stocktake"
down_revision: str | None = "0014_escort_nrp"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stocktakes",
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=32), nullable=False),
        sa.Column("status", sa.Enum("open", "closed", name="stocktakestatus", native_enum=False, length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scans", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_index", sa.BigInteger(), nullable=True),
        sa.Column("found", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("unexpected", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"]),
        sa.ForeignKeyConstraint(["site"], ["sites.code"]),
        sa.PrimaryKeyConstraint("log_id", "id"),
    )
    with op.batch_alter_table("stocktakes", schema=None) as batch_op:
        batch_op.create_index("ix_stocktakes_site", ["site"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stocktakes", schema=None) as batch_op:
        batch_op.drop_index("ix_stocktakes_site")
    op.drop_table("stocktakes")
