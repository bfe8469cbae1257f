"""Witnesses' cosignatures on checkpoints (append-only).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.core.append_only import drop_append_only, make_append_only

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_cosignatures",
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.LargeBinary(length=4), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=72), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id", "tree_size"],
            ["log_checkpoints.log_id", "log_checkpoints.tree_size"],
            name=op.f("fk_log_cosignatures_log_id_log_checkpoints"),
        ),
        sa.PrimaryKeyConstraint(
            "log_id", "tree_size", "witness", "key_id", name=op.f("pk_log_cosignatures")
        ),
    )
    make_append_only("log_cosignatures")


def downgrade() -> None:
    drop_append_only("log_cosignatures")
    op.drop_table("log_cosignatures")
