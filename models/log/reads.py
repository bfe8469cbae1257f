"""Reading the log: logs, entries, checkpoints, roots and proofs at any size.

Every read is bounded by the integrated size, so nothing outside the tree is served."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledger import merkle
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.note import Signer
from ledger.tiles import TILE_WIDTH, encode_entry_bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.base import utcnow
from models.core.errors import Conflict, InvalidRequest, NotFound
from models.core.routing import LogDatabases
from models.log.tables import Log, LogCheckpoint, LogEntry, RetiredLogKey
from models.log.tiles import TileStore

LOG_ID = re.compile(r"^\d{2}\.\d{2}$")
MAX_ENTRIES_PER_READ = 1000


def origin_for(host: str, log_id: str) -> str:
    return f"{host}/log/{log_id}"


def check_log_id(log_id: str) -> str:
    if not LOG_ID.fullmatch(log_id):
        raise InvalidRequest(
            f"{log_id!r} is not a log name: logs are named by regency code, like 53.03"
        )
    return log_id


def create_log(session: Session, log_id: str, signer: Signer) -> Log:
    """A new, empty log with its signed size-0 checkpoint."""
    check_log_id(log_id)
    if session.get(Log, log_id) is not None:
        raise Conflict(f"log {log_id} exists")
    log = Log(id=log_id, origin=signer.name, verifier_key=signer.vkey, size=0)
    session.add(log)
    session.flush()
    add_checkpoint(session, log, merkle.EMPTY_ROOT, signer, size=0)
    return log


def get_log(session: Session, log_id: str) -> Log:
    log = session.get(Log, check_log_id(log_id))
    if log is None:
        raise NotFound(f"there is no log {log_id} here", code="log_not_found")
    return log


def list_logs(session: Session) -> list[Log]:
    return list(session.scalars(select(Log).order_by(Log.id)))


def every_log(databases: LogDatabases) -> list[Log]:
    """Every log hosted here, on whichever database, in code order."""
    found = []
    for database in databases.each():
        with database.reads() as session:
            found += list_logs(session)
    return sorted(found, key=lambda log: log.id)


def latest_checkpoint(session: Session, log_id: str) -> LogCheckpoint:
    checkpoint = session.scalars(
        select(LogCheckpoint)
        .where(LogCheckpoint.log_id == log_id)
        .order_by(LogCheckpoint.tree_size.desc())
        .limit(1)
    ).first()
    if checkpoint is None:
        raise NotFound(f"log {log_id} has no checkpoint yet")
    return checkpoint


def checkpoint_at(session: Session, log_id: str, size: int) -> LogCheckpoint:
    """The checkpoint the log signed at `size` (a key rotation's handover, for one)."""
    checkpoint = session.get(LogCheckpoint, (log_id, size))
    if checkpoint is None:
        raise NotFound(f"log {log_id} signed no checkpoint of size {size}")
    return checkpoint


def retired_log_keys(session: Session, log_id: str | None = None) -> list[RetiredLogKey]:
    """The checkpoint keys a log (or every log) signed with before, oldest first."""
    query = select(RetiredLogKey).order_by(RetiredLogKey.log_id, RetiredLogKey.retired_index)
    if log_id is not None:
        query = query.where(RetiredLogKey.log_id == log_id)
    return list(session.scalars(query))


def add_checkpoint(
    session: Session, log: Log, root: bytes, *signers: Signer, size: int
) -> LogCheckpoint:
    note = sign_checkpoint(Checkpoint(log.origin, size, root), *signers)
    checkpoint = LogCheckpoint(log_id=log.id, tree_size=size, root_hash=root, note=note)
    session.add(checkpoint)
    session.flush()
    return checkpoint


@dataclass(frozen=True)
class StoredEntry:
    index: int
    leaf_hash: bytes
    data: bytes


def read_entries(session: Session, log: Log, start: int, end: int) -> list[StoredEntry]:
    """Entries [start, end), at most MAX_ENTRIES_PER_READ of them."""
    if start < 0 or end < start:
        raise InvalidRequest(f"start={start} and end={end} do not make a range")
    if end > log.size:
        raise InvalidRequest(f"end={end} is beyond the log's size {log.size}")
    if end - start > MAX_ENTRIES_PER_READ:
        raise InvalidRequest(f"at most {MAX_ENTRIES_PER_READ} entries per read")
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data)
        .where(LogEntry.log_id == log.id, LogEntry.idx >= start, LogEntry.idx < end)
        .order_by(LogEntry.idx)
    )
    return [StoredEntry(idx, leaf, data) for idx, leaf, data in rows]


def _check_size(session: Session, tiles: TileStore, log_id: str, size: int, name: str) -> None:
    known = tiles.known_size(session, log_id, at_least=size)
    if not 0 <= size <= known:
        raise InvalidRequest(f"{name}={size} is outside the log's sizes 0..{known}")


def tree_root(session: Session, tiles: TileStore, log_id: str, size: int) -> bytes:
    _check_size(session, tiles, log_id, size, "tree_size")
    return merkle.tree_root(size, tiles.reader(session, log_id, size))


def inclusion_proof(
    session: Session, tiles: TileStore, log_id: str, index: int, size: int
) -> list[bytes]:
    _check_size(session, tiles, log_id, size, "tree_size")
    if not 0 <= index < size:
        raise InvalidRequest(f"index={index} is not in a tree of size {size}")
    return tiles.inclusion_proof(session, log_id, index, size)


def consistency_proof(
    session: Session, tiles: TileStore, log_id: str, first: int, second: int
) -> list[bytes]:
    _check_size(session, tiles, log_id, second, "second")
    if not 0 < first <= second:
        raise InvalidRequest(f"first={first} must be between 1 and second={second}")
    return merkle.consistency_proof(first, second, tiles.reader(session, log_id, second))


def hash_tile(
    session: Session, tiles: TileStore, log: Log, level: int, index: int, width: int
) -> bytes:
    """The tlog-tiles hash tile, if the integrated tree holds it."""
    last_leaf = ((index * TILE_WIDTH) + width) << (8 * level)
    if last_leaf > log.size:
        raise NotFound(f"tile {level}/{index} of width {width} is beyond the log's size")
    return tiles.fetch(session, log.id, [(level, index, width)])[0]


def entry_bundle(session: Session, log: Log, index: int, width: int) -> bytes:
    start = index * TILE_WIDTH
    if start + width > log.size:
        raise NotFound(f"entry bundle {index} of width {width} is beyond the log's size")
    return encode_entry_bundle([e.data for e in read_entries(session, log, start, start + width)])


@dataclass(frozen=True)
class LogStatus:
    log_id: str
    size: int
    checkpoint_size: int
    checkpoint_age_seconds: float


def log_status(session: Session) -> list[LogStatus]:
    """Every log's size and how far its latest checkpoint lags, in one query. Each log's
    latest checkpoint is read by its key (an index's last row for the log), so the query
    costs the same after a day of checkpoints twice a second as at first."""

    def latest(column: Any) -> Any:
        return (
            select(column)
            .where(LogCheckpoint.log_id == Log.id)
            .order_by(LogCheckpoint.tree_size.desc())
            .limit(1)
            .correlate(Log)
            .scalar_subquery()
        )

    rows = session.execute(
        select(Log.id, Log.size, latest(LogCheckpoint.tree_size), latest(LogCheckpoint.created_at)).order_by(Log.id)
    )
    now = utcnow()
    return [
        LogStatus(log_id, size, cp_size, (now - created).total_seconds())
        for log_id, size, cp_size, created in rows
        if cp_size is not None  # a log is made with its first checkpoint: none yet while it is
    ]
