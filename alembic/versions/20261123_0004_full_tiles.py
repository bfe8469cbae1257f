"""Full tiles stored whole (append-only), so a tile is one row to read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.core.append_only import drop_append_only, make_append_only

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDTH = 256


def upgrade() -> None:
    tiles = op.create_table(
        "log_tiles",
        sa.Column("log_id", sa.String(length=16), nullable=False),
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["log_id"], ["logs.id"], name=op.f("fk_log_tiles_log_id_logs")),
        sa.PrimaryKeyConstraint("log_id", "level", "idx", name=op.f("pk_log_tiles")),
    )
    _backfill(tiles)
    make_append_only("log_tiles")


def _backfill(tiles: sa.Table) -> None:
    """The full tiles of logs written before this revision, from the stored hashes:
    level 0 from the leaf hashes, level k from the nodes at tree level 8k."""
    bind = op.get_bind()
    sources = [
        (0, sa.text("SELECT log_id, idx, leaf_hash FROM log_entries ORDER BY log_id, idx")),
        *[
            (k, sa.text(f"SELECT log_id, idx, hash FROM log_tree_nodes WHERE level = {8 * k} ORDER BY log_id, idx"))
            for k in (1, 2, 3)
        ],
    ]
    for level, query in sources:
        current: tuple[str, int] | None = None
        hashes: list[bytes] = []
        rows = []
        for log_id, idx, value in bind.execute(query):
            key = (log_id, idx // WIDTH)
            if key != current:
                current, hashes = key, []
            hashes.append(value)
            if len(hashes) == WIDTH:
                rows.append({"log_id": log_id, "level": level, "idx": idx // WIDTH, "hashes": b"".join(hashes)})
            if len(rows) >= 1000:
                op.bulk_insert(tiles, rows)
                rows = []
        if rows:
            op.bulk_insert(tiles, rows)


def downgrade() -> None:
    drop_append_only("log_tiles")
    op.drop_table("log_tiles")
