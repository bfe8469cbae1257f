"""Retired checkpoint keys of each log, after key rotations (append-only).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.core.append_only import drop_append_only, make_append_only

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "retired_log_keys",
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("retired_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("verifier_key", sa.Text(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_retired_log_keys_log_id_logs")),
        sa.PrimaryKeyConstraint("log_id", "retired_index", name=op.f("pk_retired_log_keys")),
    )
    make_append_only("retired_log_keys")


def downgrade() -> None:
    drop_append_only("retired_log_keys")
    op.drop_table("retired_log_keys")
