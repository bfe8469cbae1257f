"""Completeness from a table of kits (issue 25): `items.code`, the item's contest or kind
code (BUP in 53.03.08.2001-003-BUP, SS in ...-SS-2), and `station_kits`, a row per TPS
with the pieces registered for it, those that reached it and the codes registered
(models/custody/kits.py keeps it as custody moves). Both are filled from the items.
And `ix_items_on_road`: the boxes in transit per truckload, for the convoy picture.

Revision ID: 0018_station_kits
Revises: 0017_client_credentials
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_station_kits"
down_revision: str | None = "0017_client_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An item id is its TPS code (17 characters), a hyphen, the code, and an optional
# hyphen and serial.
_AFTER_TPS = "substr(id, 19)"
_CODES = {
    "postgresql": (
        f"UPDATE items SET code = split_part({_AFTER_TPS}, '-', 1)",
        "',' || string_agg(DISTINCT code, ',') || ','",
    ),
    "sqlite": (
        f"UPDATE items SET code = CASE WHEN instr({_AFTER_TPS}, '-') > 0 "
        f"THEN substr({_AFTER_TPS}, 1, instr({_AFTER_TPS}, '-') - 1) ELSE {_AFTER_TPS} END",
        "',' || group_concat(DISTINCT code) || ','",
    ),
}
# models/custody/kits.py's `reached`: at the TPS and not on its way out, or on its way back.
_REACHED = "(custodian = destination AND status <> 'in_transit') OR leg = 'return'"


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_items_on_road", ["log_id", "dispatch_handoff"], unique=False,
            postgresql_where=sa.text("dispatched_at IS NOT NULL"), sqlite_where=sa.text("dispatched_at IS NOT NULL"),
        )  # fmt: skip
    fill_codes, codes = _CODES[op.get_bind().dialect.name]
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=12), nullable=True))
    op.execute(fill_codes)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=12), nullable=False)
    op.create_table(
        "station_kits",
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("tps", sa.String(length=32), nullable=False),
        sa.Column("pieces", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_station_kits_log_id_logs")),
        sa.ForeignKeyConstraint(["tps"], ["sites.code"], name=op.f("fk_station_kits_tps_sites")),
        sa.PrimaryKeyConstraint("log_id", "tps", name=op.f("pk_station_kits")),
    )
    op.execute(
        "INSERT INTO station_kits (log_id, tps, pieces, reached, codes) "
        f"SELECT log_id, destination, count(*), sum(CASE WHEN {_REACHED} THEN 1 ELSE 0 END), {codes} "
        "FROM items GROUP BY log_id, destination"
    )


def downgrade() -> None:
    op.drop_table("station_kits")
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("code")
        batch_op.drop_index("ix_items_on_road", postgresql_where=sa.text("dispatched_at IS NOT NULL"),
                            sqlite_where=sa.text("dispatched_at IS NOT NULL"))  # fmt: skip
