"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): the tree as immutable tiles.

A tile at tile level k holds consecutive node hashes at tree level 8k: tile
(k, N, W) is the nodes (8k, 256N) … (8k, 256N + W - 1). Level-0 tiles are leaf
hashes; the rest are roots of full tiles one level down. Any complete subtree is
recomputed by hashing inside one tile, so a log stores only leaf hashes plus the
nodes at levels 8, 16, 24… (what `TreeEdge.extend` returns).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ledger.encoding import MAX_UINT63
from ledger.merkle import HASH_SIZE, Node, node_hash, tree_root

TILE_HEIGHT = 8
TILE_WIDTH = 256
MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 65535  # entry bundles carry a 16-bit length

TileKey = tuple[int, int, int]  # (tile level, tile index, width)
FetchTiles = Callable[[Sequence[TileKey]], Sequence[bytes]]

# Index groups: all but the last start with "x". ASCII digits only; 19 digits hold 2^63.
_TILE_PATH = re.compile(
    r"tile/(?:(entries)|(0|[1-9][0-9]?))/((?:x[0-9]{3}/){0,6}[0-9]{3})(?:\.p/([1-9][0-9]{0,2}))?"
)


@dataclass(frozen=True)
class TilePath:
    level: int | None  # None for an entry bundle
    index: int
    width: int


def encode_index(n: int) -> str:
    """Tile index `n` as zero-padded 3-digit path elements: 1234067 → x001/x234/067."""
    if not 0 <= n <= MAX_UINT63:
        raise ValueError(f"tile index {n} is outside 0..2^63-1")
    path = f"{n % 1000:03d}"
    while n >= 1000:
        n //= 1000
        path = f"x{n % 1000:03d}/{path}"
    return path


def _width_suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is outside 1..{TILE_WIDTH}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """`tile/<L>/<N>[.p/<W>]` for a hash tile."""
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise ValueError(f"tile level {level} is outside 0..{MAX_TILE_LEVEL}")
    return f"tile/{level}/{encode_index(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """`tile/entries/<N>[.p/<W>]` for an entry bundle."""
    return f"tile/entries/{encode_index(index)}{_width_suffix(width)}"


def parse_tile_path(path: str) -> TilePath:
    """Parse a canonical tile or entry-bundle path; anything else is a ValueError."""
    if len(path) > 64:  # the longest canonical path is 52 characters
        raise ValueError(f"tile path of {len(path)} characters is too long")
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise ValueError(
            f"{path!r} is not a tile path tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]"
        )
    entries, level_text, index_text, width_text = match.groups()
    level = None if entries else int(level_text)
    index = int(index_text.replace("x", "").replace("/", ""))
    width = int(width_text) if width_text else TILE_WIDTH
    if level is not None and level > MAX_TILE_LEVEL:
        raise ValueError(f"tile level {level} is outside 0..{MAX_TILE_LEVEL}")
    if width_text and width >= TILE_WIDTH:
        raise ValueError(f"partial tile width {width} is outside 1..{TILE_WIDTH - 1}")
    # One spelling per tile: rejects leading zero groups such as x000/005.
    if encode_index(index) != index_text:
        raise ValueError(
            f"tile index {index_text!r} is not canonical; expected {encode_index(index)!r}"
        )
    return TilePath(level, index, width)


def encode_hash_tile(hashes: Sequence[bytes]) -> bytes:
    if not 1 <= len(hashes) <= TILE_WIDTH:
        raise ValueError(f"a hash tile holds 1..{TILE_WIDTH} hashes, got {len(hashes)}")
    for i, value in enumerate(hashes):
        if len(value) != HASH_SIZE:
            raise ValueError(f"hash {i} of the tile is {len(value)} bytes, expected {HASH_SIZE}")
    return b"".join(hashes)


def decode_hash_tile(data: bytes) -> list[bytes]:
    if len(data) % HASH_SIZE:
        raise ValueError(
            f"hash tile of {len(data)} bytes is not a whole number of {HASH_SIZE}-byte hashes"
        )
    if not 1 <= len(data) // HASH_SIZE <= TILE_WIDTH:
        raise ValueError(f"a hash tile holds 1..{TILE_WIDTH} hashes, got {len(data) // HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise ValueError(f"an entry bundle holds 1..{TILE_WIDTH} entries, got {len(entries)}")
    parts = []
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(
                f"entry {i} of the bundle is {len(entry)} bytes, at most {MAX_ENTRY_SIZE} fit"
            )
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(entries) == TILE_WIDTH:
            raise ValueError(f"entry bundle holds more than {TILE_WIDTH} entries")
        if offset + 2 > len(data):
            raise ValueError(f"entry bundle is truncated in the length of entry {len(entries)}")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise ValueError(
                f"entry bundle is truncated: entry {len(entries)} needs {length} bytes, "
                f"{len(data) - offset} remain"
            )
        entries.append(data[offset : offset + length])
        offset += length
    if not entries:
        raise ValueError("entry bundle is empty")
    return entries


def _subtree_hash(hashes: Sequence[bytes]) -> bytes:
    """Root of a complete subtree given its 2^n hashes at one level."""
    layer = list(hashes)
    while len(layer) > 1:
        layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
    return layer[0]


def _tile_for(level: int, index: int, size: int) -> tuple[TileKey, int, int]:
    """The tile holding node (level, index)'s descendants, the node's height above the
    tile's base level, and the offset of its first descendant in the tile."""
    k, rel = divmod(level, TILE_HEIGHT)
    first = index << rel  # the leftmost descendant at tree level 8k
    n = first // TILE_WIDTH
    width_at_level = size >> (TILE_HEIGHT * k)  # how many level-8k nodes the tree has
    width = min(TILE_WIDTH, width_at_level - n * TILE_WIDTH)
    return (k, n, width), rel, first % TILE_WIDTH


class ExpandedTile:
    """Every complete-subtree hash inside one hash tile, hashed once: `levels[r]` holds,
    concatenated, the nodes r levels above the tile's base (`levels[0]` is the tile)."""

    __slots__ = ("levels",)

    def __init__(self, tile: bytes) -> None:
        levels = [tile]
        while len(levels[-1]) >= 2 * HASH_SIZE:
            below = levels[-1]
            levels.append(
                b"".join(
                    node_hash(below[i : i + HASH_SIZE], below[i + HASH_SIZE : i + 2 * HASH_SIZE])
                    for i in range(0, len(below) - HASH_SIZE, 2 * HASH_SIZE)
                )
            )
        self.levels = levels

    def node(self, rel: int, offset: int) -> bytes:
        """The node `rel` levels up whose first descendant is base hash `offset`."""
        start = (offset >> rel) * HASH_SIZE
        return self.levels[rel][start : start + HASH_SIZE]


class TileCache(Protocol):
    """Where a TileHashReader may keep expanded tiles. Tiles are immutable for a given
    (level, index, width), so a cache never needs invalidating."""

    def get(self, key: TileKey) -> ExpandedTile | None: ...

    def put(self, key: TileKey, tile: ExpandedTile) -> None: ...


class TileHashReader:
    """Reads complete-subtree hashes of the tree of `size` from its hash tiles.

    `fetch_tiles` gets every tile a `read_hashes` call needs at once, as
    (tile level, tile index, width) with a partial width for the tree's right
    edge, and returns the encoded hash tiles in the same order. With a `cache`,
    tiles already expanded are neither fetched nor hashed again.
    """

    def __init__(
        self, size: int, fetch_tiles: FetchTiles, cache: TileCache | None = None
    ) -> None:
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        self.size = size
        self._fetch_tiles = fetch_tiles
        self._cache = cache

    def read_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
        places = []
        for level, index in nodes:
            if level < 0 or index < 0 or (index + 1) << level > self.size:
                raise ValueError(
                    f"node ({level}, {index}) is not a complete subtree "
                    f"of a tree of size {self.size}"
                )
            places.append(_tile_for(level, index, self.size))
        tiles: dict[TileKey, ExpandedTile] = {}
        missing = []
        for key in dict.fromkeys(key for key, _, _ in places):  # each tile once, in order
            cached = self._cache.get(key) if self._cache is not None else None
            if cached is None:
                missing.append(key)
            else:
                tiles[key] = cached
        for key, data in zip(missing, _fetch(self._fetch_tiles, missing), strict=True):
            tiles[key] = ExpandedTile(data)
            if self._cache is not None:
                self._cache.put(key, tiles[key])
        return [tiles[key].node(rel, offset) for key, rel, offset in places]


def _fetch(fetch_tiles: FetchTiles, keys: list[TileKey]) -> list[bytes]:
    """Fetch tiles in one call and check each has exactly the width asked for."""
    if not keys:
        return []
    data = list(fetch_tiles(keys))
    if len(data) != len(keys):
        raise ValueError(f"fetch_tiles returned {len(data)} tiles for {len(keys)} requested")
    for (level, index, width), tile in zip(keys, data, strict=True):
        if len(tile) != width * HASH_SIZE:
            raise ValueError(
                f"tile {tile_path(level, index, width)} is {len(tile)} bytes, "
                f"expected {width * HASH_SIZE}"
            )
    return data


def _partial_widths(size: int) -> list[int]:
    """The width of the rightmost (partial) tile at each tile level of a tree of `size`."""
    widths: list[int] = []
    while size >> (TILE_HEIGHT * len(widths)):
        widths.append((size >> (TILE_HEIGHT * len(widths))) % TILE_WIDTH)
    return widths


@dataclass
class TreeEdge:
    """The right edge of a tree: enough to append leaves and compute the root.

    `partial[k]` holds the level-8k hashes of the rightmost, incomplete tile at
    tile level k: (size >> 8k) % 256 of them. Trailing empty levels may be omitted.
    """

    size: int
    partial: list[list[bytes]]

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"tree size {self.size} is negative")
        widths = _partial_widths(self.size)
        for k in range(max(len(widths), len(self.partial))):
            expected = widths[k] if k < len(widths) else 0
            tile = self.partial[k] if k < len(self.partial) else []
            if len(tile) != expected:
                raise ValueError(
                    f"tree edge of size {self.size} has {len(tile)} hashes at tile level {k}, "
                    f"expected {expected}"
                )
            for value in tile:
                if len(value) != HASH_SIZE:
                    raise ValueError(
                        f"tree edge hash at tile level {k} is {len(value)} bytes, "
                        f"expected {HASH_SIZE}"
                    )

    @classmethod
    def empty(cls) -> TreeEdge:
        return cls(0, [])

    @classmethod
    def load(cls, size: int, fetch_tiles: FetchTiles) -> TreeEdge:
        """The edge of the stored tree of `size`, fetching only its partial tiles."""
        if size < 0:
            raise ValueError(f"tree size {size} is negative")
        keys = [
            (k, size >> (TILE_HEIGHT * (k + 1)), width)
            for k, width in enumerate(_partial_widths(size))
            if width
        ]
        partial: list[list[bytes]] = [[] for _ in _partial_widths(size)]
        for (k, _, _), tile in zip(keys, _fetch(fetch_tiles, keys), strict=True):
            partial[k] = decode_hash_tile(tile)
        return cls(size, partial)

    def copy(self) -> TreeEdge:
        return TreeEdge(self.size, [list(tile) for tile in self.partial])

    def extend(
        self,
        leaf_hashes: Sequence[bytes],
        full_tiles: list[tuple[int, int, bytes]] | None = None,
    ) -> list[tuple[int, int, bytes]]:
        """Append leaf hashes; returns the tiles they filled as nodes (level, index, hash),
        level = 8, 16, 24…: what storage needs, beside the leaf hashes, to serve every tile.
        With `full_tiles`, also appends each filled tile as (tile level, index, encoded
        hash tile), for storage that keeps full tiles whole."""
        for i, value in enumerate(leaf_hashes):  # all or nothing: check before appending
            if len(value) != HASH_SIZE:
                raise ValueError(f"leaf hash {i} is {len(value)} bytes, expected {HASH_SIZE}")
        completed = []
        for value in leaf_hashes:
            self.size += 1
            k, node = 0, value
            while True:
                if k == len(self.partial):
                    self.partial.append([])
                tile = self.partial[k]
                tile.append(node)
                if len(tile) < TILE_WIDTH:
                    break
                # The tile is full: its root is the next hash one tile level up.
                node = _subtree_hash(tile)
                level = TILE_HEIGHT * (k + 1)
                if full_tiles is not None:
                    full_tiles.append((k, (self.size >> level) - 1, b"".join(tile)))
                tile.clear()
                completed.append((level, (self.size >> level) - 1, node))
                k += 1
        return completed

    def root(self) -> bytes:
        """The root of the tree of `size`, from the partial tiles alone."""
        return tree_root(self.size, TileHashReader(self.size, self._partial_tiles))

    def _partial_tiles(self, keys: Sequence[TileKey]) -> list[bytes]:
        # The root's complete subtrees are the set bits of `size`, and each one lies
        # in the partial tile of its tile level, which is all the edge holds.
        for k, index, width in keys:
            assert index == self.size >> (TILE_HEIGHT * (k + 1)) and width == len(self.partial[k])
        return [encode_hash_tile(self.partial[k]) for k, _, _ in keys]
