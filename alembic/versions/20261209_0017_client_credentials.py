"""Service accounts sign in with client credentials (issue 24): `users.client_secret_hash`,
the SHA-256 of the account's client secret (models/accounts/clients.py); null for an
account without one.

Revision ID: 0017_client_credentials
Revises: 0016_enrollment
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_client_credentials"
down_revision: str | None = "0016_enrollment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_secret_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("client_secret_hash")
