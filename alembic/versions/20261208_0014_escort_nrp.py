"""Escorts in the chain (issue 27): an escort is a person with an NRP, their phone
carries it, and a truckload records when it was picked up and delivered under guard.

- `users.nrp` is unique when set (an escort's NRP names one person; the command line
  and the accounts refuse an escort account without one).
- `devices.nrp`: the NRP of the account that registered the phone, as its
  `device_register` entry records it: an escort's pickups and deliveries take their NRP
  from there, never from what the scan says.
- `events.item_id` may be null: a pickup or delivery of a whole truckload is one scan
  about no single box. A database holding such events cannot go below this revision.
- `events` by handoff: a truckload's attestations are read by it.
- `handoffs.escorted` (an escort must pick it up: it names one), `dispatch_event` (its
  first dispatch, which a `no_pickup` alert cites), `picked_up_at`, `delivered_at`
  (the first attesting scan's observed time): the `no_pickup` watch reads them.
  Existing truckloads are not escorted: no alert is raised for what was dispatched
  before.

Revision ID: 0014_escort_nrp
Revises: 0013
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.core.append_only import drop_append_only, make_append_only

revision: str = "0014_escort_nrp"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_nrp", ["nrp"], unique=True)
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nrp", sa.String(length=32), nullable=True))
    # SQLite rebuilds the table to drop NOT NULL: its append-only guard goes and comes back.
    drop_append_only("events")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("item_id", existing_type=sa.String(length=64), nullable=True)
        batch_op.create_index("ix_events_log_handoff", ["log_id", "handoff_id"], unique=False)
    make_append_only("events")
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escorted", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("dispatch_event", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
        batch_op.drop_column("picked_up_at")
        batch_op.drop_column("dispatch_event")
        batch_op.drop_column("escorted")
    drop_append_only("events")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_log_handoff")
        batch_op.alter_column("item_id", existing_type=sa.String(length=64), nullable=False)
    make_append_only("events")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("nrp")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_nrp")
