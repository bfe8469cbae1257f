"""The audit trail of administrative actions (append-only), and account locks after
wrong passwords.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.core.append_only import drop_append_only, make_append_only

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_trail",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_trail")),
    )
    op.create_index("ix_audit_trail_at", "audit_trail", ["at", "id"], unique=False)
    op.create_index(op.f("ix_audit_trail_action"), "audit_trail", ["action"], unique=False)
    op.create_index(op.f("ix_audit_trail_jurisdiction"), "audit_trail", ["jurisdiction"], unique=False)
    make_append_only("audit_trail")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
    drop_append_only("audit_trail")
    op.drop_index(op.f("ix_audit_trail_jurisdiction"), table_name="audit_trail")
    op.drop_index(op.f("ix_audit_trail_action"), table_name="audit_trail")
    op.drop_index("ix_audit_trail_at", table_name="audit_trail")
    op.drop_table("audit_trail")
