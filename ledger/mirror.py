"""Growing a copy of a log in its C2SP tlog-tiles layout, checking as it goes.

A mirror holds a log's entry bundles and hash tiles up to some size. To grow it, the
new entries are appended to the tree edge rebuilt from the tiles it already holds,
so the new root can only match the log's new checkpoint if the new tree extends the
old one: a log that rewrote or forked its history is refused, never copied. The hash
tiles are computed here from the entries, never taken on trust. Storage is the
caller's: this module only reads and writes through the functions it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ledger.merkle import leaf_hash
from ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TreeEdge,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_hash_tile,
    entries_path,
    tile_path,
)

ReadPath = Callable[[str], bytes]  # a tlog-tiles path → its bytes
WritePath = Callable[[str, bytes], None]


class MirrorError(ValueError):
    """What the log served cannot be the continuation of the copy held."""


def bundles_between(old_size: int, new_size: int) -> Iterator[tuple[int, int]]:
    """(index, width) of every entry bundle holding an entry of [old_size, new_size)."""
    if old_size >= new_size:
        return
    for n in range(old_size // TILE_WIDTH, -(-new_size // TILE_WIDTH)):
        yield n, min(TILE_WIDTH, new_size - n * TILE_WIDTH)


class Growth:
    """A copy holding entries [0, held_size), growing one entry bundle at a time.

    Each bundle's tiles and the bundle itself go to `write` as they are made; the
    caller compares `finish()`'s root with the checkpoint before it trusts them
    (write to a staging area, move into place once the root matches)."""

    def __init__(self, held_size: int, read_held: ReadPath) -> None:
        self.edge = TreeEdge.load(held_size, lambda keys: [read_held(tile_path(*key)) for key in keys])
        width = held_size % TILE_WIDTH
        # The held part of the last, partial bundle: the log must serve it unchanged.
        self._held = decode_entry_bundle(read_held(entries_path(held_size // TILE_WIDTH, width))) if width else []

    @property
    def size(self) -> int:
        return self.edge.size

    def add(self, index: int, entries: list[bytes], write: WritePath) -> list[bytes]:
        """Take entry bundle `index` in; returns the entries new to the copy."""
        start, width = index * TILE_WIDTH, len(entries)
        if not 0 < width <= TILE_WIDTH or not start <= self.size < start + width:
            raise MirrorError(f"entry bundle {index} of width {width} does not continue a copy of {self.size}")
        held = self.size - start
        for i in range(held):
            if entries[i] != self._held[i]:
                raise MirrorError(f"entry {start + i} differs from the copy held: the log rewrote its history")
        new = entries[held:]
        full_tiles: list[tuple[int, int, bytes]] = []
        self.edge.extend([leaf_hash(entry) for entry in new], full_tiles)
        for level, tile_index, tile in full_tiles:
            write(tile_path(level, tile_index), tile)
        write(entries_path(index, width), encode_entry_bundle(entries))
        self._held = entries if width < TILE_WIDTH else []
        return new

    def finish(self, write: WritePath) -> bytes:
        """Write the partial tiles of the tree's right edge; returns the copy's root."""
        for k, hashes in enumerate(self.edge.partial):
            if hashes:
                index = self.size >> (TILE_HEIGHT * (k + 1))
                write(tile_path(k, index, len(hashes)), encode_hash_tile(hashes))
        return self.edge.root()
