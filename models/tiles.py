"""Hash tiles read from the database. Level-0 tiles are the entries' leaf hashes;
level-k tiles are the stored subtree roots at tree level 8k. Full tiles never change,
so they are cached; partial ones are always read."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TileHashReader, encode_hash_tile
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.log import LogEntry, LogTreeNode

TileKey = tuple[int, int, int]  # (tile level, tile index, width)


class TileCache:
    """A small thread-safe LRU of full tiles, keyed by (log, level, index)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._tiles: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int]) -> bytes | None:
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: tuple[str, int, int], tile: bytes) -> None:
        with self._lock:
            self._tiles[key] = tile
            self._tiles.move_to_end(key)
            while len(self._tiles) > self.capacity:
                self._tiles.popitem(last=False)


class TileStore:
    def __init__(self, cache: TileCache | None = None) -> None:
        self.cache = cache or TileCache()

    def fetch(self, session: Session, log_id: str, tiles: Sequence[TileKey]) -> list[bytes]:
        return [self._tile(session, log_id, *key) for key in tiles]

    def reader(self, session: Session, log_id: str, size: int) -> TileHashReader:
        return TileHashReader(size, lambda tiles: self.fetch(session, log_id, tiles))

    def _tile(self, session: Session, log_id: str, level: int, index: int, width: int) -> bytes:
        full = width == TILE_WIDTH
        if full and (cached := self.cache.get((log_id, level, index))) is not None:
            return cached
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
        tile = encode_hash_tile(hashes)
        if full:
            self.cache.put((log_id, level, index), tile)
        return tile
