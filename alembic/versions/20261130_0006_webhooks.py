"""Webhooks: integrators' subscriptions, the delivery log, and events by log index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.Column("alerts_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Boolean(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_by", sa.String(length=32), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_webhook_subscriptions_log_id_logs")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_webhook_subscriptions_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(
        op.f("ix_webhook_subscriptions_log_id"), "webhook_subscriptions", ["log_id"], unique=False
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("entry_index", sa.BigInteger(), nullable=True),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("redelivery", sa.Boolean(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_webhook_deliveries_log_id_logs")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("log_id", "subscription_id", "number", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        "ix_webhook_deliveries_message", "webhook_deliveries", ["log_id", "subscription_id", "message_id"]
    )
    op.create_index(
        "ix_webhook_deliveries_alert", "webhook_deliveries", ["log_id", "subscription_id", "alert_id"]
    )
    # Not in batch mode: on SQLite that would copy the table and lose its append-only triggers.
    op.create_index("ix_events_log_index", "events", ["log_id", "entry_index"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_events_log_index", table_name="events")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
