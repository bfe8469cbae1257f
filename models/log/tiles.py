"""Hash tiles read from the database. Level-0 tiles are the entries' leaf hashes;
level-k tiles are the stored subtree roots at tree level 8k. A tile never changes
for a given width, so every tile read is cached, already expanded (hashed inside);
nor does an inclusion proof for a given tree size, so the latest ones are kept too (a
crowd opening one box's public page asks for the same proofs again and again)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

from ledger import merkle
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, ExpandedTile, TileHashReader, TileKey, encode_hash_tile
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.errors import NotFound
from models.log.tables import Log, LogEntry, LogTile, LogTreeNode


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A thread-safe least-recently-used cache of at most `capacity` values."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._values: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)


class TileCache(Lru[tuple[str, TileKey], ExpandedTile]):
    """Expanded tiles, keyed by (log, level, index, width)."""

    def __init__(self, capacity: int = 4096) -> None:
        super().__init__(capacity)


class _LogTiles:
    """One log's view of the shared cache, as ledger's TileHashReader wants it."""

    def __init__(self, cache: TileCache, log_id: str) -> None:
        self.cache = cache
        self.log_id = log_id

    def get(self, key: TileKey) -> ExpandedTile | None:
        return self.cache.get((self.log_id, key))

    def put(self, key: TileKey, tile: ExpandedTile) -> None:
        self.cache.put((self.log_id, key), tile)


# Inclusion proofs kept: ~20 hashes each, so about 6 MB; a box's trail is ~17 entries.
PROOFS_KEPT = 8192


class TileStore:
    def __init__(self, cache: TileCache | None = None) -> None:
        self.cache = cache or TileCache()
        self._sizes: dict[str, int] = {}
        self._proofs: Lru[tuple[str, int, int], tuple[bytes, ...]] = Lru(PROOFS_KEPT)

    def known_size(self, session: Session, log_id: str, at_least: int = 0) -> int:
        """The log's size as this process last saw it, read again only when a caller
        needs more. A log only grows, so every tile below a seen size exists for ever:
        proofs at known sizes need no database round trip for the bound."""
        known = self._sizes.get(log_id, -1)
        if at_least > known or known < 0:
            size = session.scalar(select(Log.size).where(Log.id == log_id))
            if size is None:
                raise NotFound(f"there is no log {log_id} here", code="log_not_found")
            known = max(known, size)
            self._sizes[log_id] = known
        return known

    def reader(self, session: Session, log_id: str, size: int) -> TileHashReader:
        return TileHashReader(
            size, lambda tiles: self.read(session, log_id, tiles), _LogTiles(self.cache, log_id)
        )

    def inclusion_proof(self, session: Session, log_id: str, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `size` (index < size,
        a size the log has reached): computed once per (entry, size), then kept."""
        key = (log_id, index, size)
        proof = self._proofs.get(key)
        if proof is None:
            proof = tuple(merkle.inclusion_proof(index, size, self.reader(session, log_id, size)))
            self._proofs.put(key, proof)
        return list(proof)

    def cached(self, log_id: str, key: TileKey) -> bytes | None:
        """The encoded hash tile if this process holds it, without the database."""
        tile = self.cache.get((log_id, key))
        return None if tile is None else tile.levels[0]

    def fetch(self, session: Session, log_id: str, tiles: Sequence[TileKey]) -> list[bytes]:
        """Encoded hash tiles, from the cache where it has them."""
        view = _LogTiles(self.cache, log_id)
        found = {key: tile.levels[0] for key in tiles if (tile := view.get(key)) is not None}
        missing = [key for key in tiles if key not in found]
        for key, data in zip(missing, self.read(session, log_id, missing), strict=True):
            view.put(key, ExpandedTile(data))
            found[key] = data
        return [found[key] for key in tiles]

    def read(self, session: Session, log_id: str, tiles: Sequence[TileKey]) -> list[bytes]:
        """Encoded hash tiles, straight from the database."""
        return [self._read(session, log_id, *key) for key in tiles]

    def _read(self, session: Session, log_id: str, level: int, index: int, width: int) -> bytes:
        if width == TILE_WIDTH:
            tile = session.scalar(
                select(LogTile.hashes).where(
                    LogTile.log_id == log_id, LogTile.level == level, LogTile.idx == index
                )
            )
            if tile is None:
                raise LookupError(f"log {log_id}: full tile {level}/{index} is not stored")
            return tile
        start = index * TILE_WIDTH
        if level == 0:
            query = select(LogEntry.leaf_hash).where(
                LogEntry.log_id == log_id, LogEntry.idx >= start, LogEntry.idx < start + width
            ).order_by(LogEntry.idx)
        else:
            query = select(LogTreeNode.hash).where(
                LogTreeNode.log_id == log_id,
                LogTreeNode.level == level * TILE_HEIGHT,
                LogTreeNode.idx >= start,
                LogTreeNode.idx < start + width,
            ).order_by(LogTreeNode.idx)
        hashes = list(session.scalars(query))
        if len(hashes) != width:
            raise LookupError(
                f"log {log_id}: tile {level}/{index} has {len(hashes)} hashes stored, "
                f"expected {width}"
            )
        return encode_hash_tile(hashes)
