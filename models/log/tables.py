"""The verifiable log's tables. Entries, tree nodes and checkpoints are append-only:
the database itself refuses UPDATE and DELETE on them (see the initial migration)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime, utcnow

APPEND_ONLY_TABLES = (
    "log_entries", "log_tree_nodes", "log_tiles", "log_checkpoints", "log_cosignatures",
    "retired_log_keys",
)


class Log(Base):
    """One log per KPU Kabupaten/Kota, named by its regency code (``53.03``)."""

    __tablename__ = "logs"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    origin: Mapped[str] = mapped_column(String(255), unique=True)
    verifier_key: Mapped[str] = mapped_column(Text)
    # The integrated size: the head pointer, advanced only by the sequencer under lock.
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # The record of the log's last `rules` entry (models/custody/work.py): read under the
    # log's lock, so a batch judging by other limits records them first, whatever process.
    rules: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RetiredLogKey(Base):
    """A checkpoint key the log signed with before a rotation (`jejak keys rotate --log`):
    the `log_key` entry at `retired_index` handed over from it, in the handover
    checkpoint of size retired_index + 1, which it signed last."""

    __tablename__ = "retired_log_keys"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    retired_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    verifier_key: Mapped[str] = mapped_column(Text)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogEntry(Base):
    __tablename__ = "log_entries"
    __table_args__ = (
        # One box's trail, in order: the per-item chain (seq, prev) is read through it.
        Index("ix_log_entries_item_seq", "log_id", "item_id", "seq", unique=True),
    )

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    item_id: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    # The entry's idempotency key (a scan's event_id), beside its bytes for quick reads.
    key: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LogTreeNode(Base):
    """Roots of complete 256^k-leaf subtrees (tree levels 8, 16, 24...): with the leaf
    hashes in log_entries they make every tlog tile, so any root or proof is read,
    never recomputed from all leaves."""

    __tablename__ = "log_tree_nodes"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogTile(Base):
    """Every full tile, whole: reading one on first use is one row, not 256. (The same
    hashes are in log_entries and log_tree_nodes; this is their tlog-tiles form.)"""

    __tablename__ = "log_tiles"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LogCheckpoint(Base):
    __tablename__ = "log_checkpoints"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The signed note exactly as published.
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LogCosignature(Base):
    """A witness's cosignature (C2SP tlog-cosignature) on one of the log's checkpoints,
    verified before it was stored. Its note signature line is
    `— <witness> base64(key_id ‖ signature)`."""

    __tablename__ = "log_cosignatures"
    __table_args__ = (
        ForeignKeyConstraint(
            ["log_id", "tree_size"], ["log_checkpoints.log_id", "log_checkpoints.tree_size"]
        ),
    )

    log_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The witness's key name and 4-byte key id, as in its verifier key.
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(4), primary_key=True)
    # 8-byte big-endian timestamp ‖ Ed25519 signature (cosignature/v1).
    signature: Mapped[bytes] = mapped_column(LargeBinary(72))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
