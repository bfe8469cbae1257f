"""Onboarding officers at scale (issue 26): imported accounts carry their personal data
and election period, and enroll their phone with a one-time code.

- `users.nik` (unique when set: one official's identity card), `users.phone`,
  `users.period` (indexed: an election period's accounts are disabled in one action).
- `enrollments`: one-time codes, stored as SHA-256 digests (models/accounts/enrollment.py),
  with when each was issued, by whom, when it expires, was spent or revoked, and the
  phone it enrolled.

Revision ID: 0016_enrollment
Revises: 0015_stocktake
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_enrollment"
down_revision: str | None = "0015_stocktake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nik", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("period", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_users_nik", ["nik"], unique=True)
        batch_op.create_index("ix_users_period", ["period"], unique=False)
    op.create_table(
        "enrollments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.Uuid(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_enrollments_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_enrollments_code_hash")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index("ix_enrollments_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("enrollments")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_period")
        batch_op.drop_index("ix_users_nik")
        batch_op.drop_column("period")
        batch_op.drop_column("phone")
        batch_op.drop_column("nik")
