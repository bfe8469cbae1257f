"""C2SP tlog-tiles: paths, encodings, and a tree stored as tiles read back exactly."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from ledger.merkle import MemoryTree, consistency_proof, inclusion_proof, leaf_hash, tree_root
from ledger.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    ExpandedTile,
    TileHashReader,
    TilePath,
    TreeEdge,
    decode_entry_bundle,
    decode_hash_tile,
    encode_entry_bundle,
    encode_hash_tile,
    encode_index,
    entries_path,
    parse_tile_path,
    tile_path,
)


def test_spec_examples() -> None:
    # c2sp.org/tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
    assert encode_index(1234067) == "x001/x234/067"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 1234067, 5) == "tile/0/x001/x234/067.p/5"
    assert entries_path(1234067) == "tile/entries/x001/x234/067"
    assert entries_path(1234067, 255) == "tile/entries/x001/x234/067.p/255"
    assert parse_tile_path("tile/0/x001/x234/067") == TilePath(0, 1234067, 256)
    assert parse_tile_path("tile/0/x001/x234/067.p/5") == TilePath(0, 1234067, 5)
    assert parse_tile_path("tile/entries/x001/x234/067.p/255") == TilePath(None, 1234067, 255)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "000"),
        (5, "005"),
        (999, "999"),
        (1000, "x001/000"),
        (1001, "x001/001"),
        (999_999, "x999/999"),
        (1_000_000, "x001/x000/000"),
        (2**63 - 1, "x009/x223/x372/x036/x854/x775/807"),
    ],
)
def test_index_encoding_round_trips(n: int, text: str) -> None:
    assert encode_index(n) == text
    assert parse_tile_path(f"tile/3/{text}") == TilePath(3, n, 256)
    assert parse_tile_path(f"tile/entries/{text}.p/1") == TilePath(None, n, 1)


def test_spec_size_example() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
    # level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of
    # width 17, and one partial level 2 tile of width 1."
    edge = TreeEdge.empty()
    edge.extend([leaf_hash(i.to_bytes(4, "big")) for i in range(70_000)])
    assert [len(tile) for tile in edge.partial] == [112, 17, 1]
    assert 70_000 // TILE_WIDTH == 273


@pytest.mark.parametrize(
    "path",
    [
        "",
        "tile",
        "tile/",
        "tile/0",
        "tile/0/",
        "tile/0/1",
        "tile/0/01",
        "tile/0/0001",
        "tile/0/x000/005",
        "tile/0/x001/x000",
        "tile/0/x1/000",
        "tile/0/001/000",
        "tile/0/x001/0000",
        "tile/00/000",
        "tile/01/000",
        "tile/64/000",
        "tile/99/000",
        "tile/-1/000",
        "tile/+1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/01",
        "tile/0/000.p/",
        "tile/0/000.p",
        "tile/0/000.p/5/",
        "tile/0/000/",
        "/tile/0/000",
        "tile//0/000",
        "tile/0//000",
        "tile/0/../000",
        "tile/0/x001/../000",
        "tile/../entries/000",
        "tile/entries/../0/000",
        "tile/0/000\n",
        "tile/0/000 ",
        " tile/0/000",
        "tile/0/\u0661\u0662\u0663",
        "tile/\u0660/000",
        "tile/0/x001\\000",
        "tile/0/000%2f",
        "TILE/0/000",
        "tile/Entries/000",
        "tile/entries/000.p/256",
        "tile/entries",
        "tile/entries/",
        "tile/data/000",
        "tile/0/x010/x000/x000/x000/x000/x000/x000/000",
        "tile/0/x009/x223/x372/x036/x854/x775/808",
        "tile/0/" + "x001/" * 1000 + "000",
    ],
)
def test_non_canonical_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError):
        parse_tile_path(path)


@pytest.mark.parametrize(
    ("level", "index", "width"), [(64, 0, 256), (-1, 0, 256), (0, -1, 256), (0, 0, 0), (0, 0, 257)]
)
def test_path_arguments_are_checked(level: int, index: int, width: int) -> None:
    with pytest.raises(ValueError):
        tile_path(level, index, width)
    if level == 0:
        with pytest.raises(ValueError):
            entries_path(index, width)


def test_hash_tiles() -> None:
    hashes = [bytes([i]) * 32 for i in range(256)]
    assert decode_hash_tile(encode_hash_tile(hashes)) == hashes
    assert decode_hash_tile(encode_hash_tile(hashes[:1])) == hashes[:1]
    for bad in [b"", b"\x00" * 31, b"\x00" * 33, b"\x00" * 32 * 257]:
        with pytest.raises(ValueError):
            decode_hash_tile(bad)
    for bad_hashes in [[], hashes + hashes[:1], [b"\x00" * 31]]:
        with pytest.raises(ValueError):
            encode_hash_tile(bad_hashes)


def test_entry_bundles() -> None:
    entries = [b"", b"a", bytes(300), bytes(65535)]
    data = encode_entry_bundle(entries)
    assert data[:5] == bytes.fromhex("0000000161")
    assert decode_entry_bundle(data) == entries
    assert decode_entry_bundle(encode_entry_bundle([b"x"] * 256)) == [b"x"] * 256
    with pytest.raises(ValueError, match="at most 65535 fit"):
        encode_entry_bundle([bytes(65536)])
    with pytest.raises(ValueError):
        encode_entry_bundle([])
    with pytest.raises(ValueError):
        encode_entry_bundle([b"x"] * 257)
    for bad in [
        b"",
        b"\x00",
        b"\x00\x02a",
        data[:-1],
        encode_entry_bundle([b"x"] * 256) + b"\x00\x00",
    ]:
        with pytest.raises(ValueError):
            decode_entry_bundle(bad)


class TileStore:
    """What a database stores: leaf hashes and the nodes TreeEdge.extend returns."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.fetches: list[list[tuple[int, int, int]]] = []

    def fetch(self, size: int) -> TileFetcher:
        return TileFetcher(self, size)


class TileFetcher:
    def __init__(self, store: TileStore, size: int) -> None:
        self.store, self.size = store, size

    def __call__(self, keys: Sequence[tuple[int, int, int]]) -> list[bytes]:
        self.store.fetches.append(list(keys))
        assert len(set(keys)) == len(keys), "a tile was requested twice in one call"
        tiles = []
        for k, n, width in keys:
            level_width = self.size >> (TILE_HEIGHT * k)
            # Only tiles that exist for this size: full ones, or the exact partial one.
            assert (n + 1) * TILE_WIDTH <= level_width or (n, width) == divmod(
                level_width, TILE_WIDTH
            )
            start = n * TILE_WIDTH
            tiles.append(
                encode_hash_tile(
                    [self.store.nodes[(TILE_HEIGHT * k, start + i)] for i in range(width)]
                )
            )
        return tiles


def _build(leaf_count: int, seed: int) -> tuple[MemoryTree, TileStore, TreeEdge, list[int]]:
    """Grow a tree in random batches, checking the edge against MemoryTree at each size."""
    rng = random.Random(seed)
    leaves = [leaf_hash(f"entry {i}".encode()) for i in range(leaf_count)]
    memory = MemoryTree()
    memory.extend(leaves)
    store = TileStore()
    edge = TreeEdge.empty()
    sizes = []
    while edge.size < leaf_count:
        batch = leaves[
            edge.size : edge.size + rng.choice([1, 2, 3, 7, 100, 255, 256, 257, 600, 4000])
        ]
        for i, value in enumerate(batch):
            store.nodes[(0, edge.size + i)] = value
        for level, index, value in edge.extend(batch):
            assert level % TILE_HEIGHT == 0 and level > 0
            assert (level, index) not in store.nodes
            store.nodes[(level, index)] = value
        sizes.append(edge.size)
        assert edge.root() == memory.root(edge.size)
        assert TreeEdge.load(edge.size, store.fetch(edge.size)) == edge
    return memory, store, edge, sizes


def _check_reads(memory: MemoryTree, store: TileStore, size: int, rng: random.Random) -> None:
    reader = TileHashReader(size, store.fetch(size))
    store.fetches.clear()
    assert tree_root(size, reader) == memory.root(size)
    for index in {0, size - 1, rng.randrange(size)}:
        assert inclusion_proof(index, size, reader) == memory.inclusion_proof(index, size)
    for old in {1, size, rng.randint(1, size)}:
        assert consistency_proof(old, size, reader) == memory.consistency_proof(old, size)
    assert all(fetch for fetch in store.fetches)
    assert len(store.fetches) <= 7  # one fetch per read_hashes call, none for empty proofs


def test_small_tree_via_tiles() -> None:
    memory, store, edge, _ = _build(70, seed=70)
    assert edge.size == 70
    rng = random.Random(1)
    for size in range(1, 71):
        _check_reads(memory, store, size, rng)
        # Every inclusion and consistency proof, as the known-answer vectors use.
        reader = TileHashReader(size, store.fetch(size))
        for index in range(size):
            assert inclusion_proof(index, size, reader) == memory.inclusion_proof(index, size)
        for old in range(1, size + 1):
            assert consistency_proof(old, size, reader) == memory.consistency_proof(old, size)


def test_large_tree_via_tiles() -> None:
    memory, store, _, sizes = _build(100_000, seed=100_000)
    rng = random.Random(2)
    interesting = [
        1,
        255,
        256,
        257,
        511,
        512,
        65_535,
        65_536,
        65_537,
        65_792,
        70_000,
        99_999,
        100_000,
    ]
    for size in (
        interesting + sizes[:: max(1, len(sizes) // 40)] + rng.sample(range(1, 100_001), 100)
    ):
        _check_reads(memory, store, size, rng)
    # Only leaf hashes and the roots of full tiles are stored.
    assert sum(1 for level, _ in store.nodes if level) == 100_000 // 256 + 100_000 // 65_536


def test_reader_rejects_incomplete_nodes_and_bad_tiles() -> None:
    memory, store, _, _ = _build(300, seed=3)
    reader = TileHashReader(300, store.fetch(300))
    with pytest.raises(
        ValueError, match=r"node \(2, 75\) is not a complete subtree of a tree of size 300"
    ):
        reader.read_hashes([(2, 75)])
    with pytest.raises(ValueError, match=r"node \(9, 0\)"):
        reader.read_hashes([(9, 0)])
    with pytest.raises(ValueError, match="negative"):
        TileHashReader(-1, store.fetch(0))
    short = TileHashReader(300, lambda keys: [b"\x00" * 32 for _ in keys])
    with pytest.raises(ValueError, match=r"tile tile/0/000 is 32 bytes, expected 8192"):
        short.read_hashes([(0, 1)])
    missing = TileHashReader(300, lambda keys: [])
    with pytest.raises(ValueError, match="returned 0 tiles for 1 requested"):
        missing.read_hashes([(0, 1)])
    # A partial tile is asked for with its width.
    TileHashReader(300, store.fetch(300)).read_hashes([(3, 32)])
    assert store.fetches[-1] == [(0, 1, 44)]
    assert memory.size == 300


def test_tree_edge_invariants() -> None:
    edge = TreeEdge.empty()
    assert edge.root() == MemoryTree().root()
    nodes = edge.extend([leaf_hash(b"x")] * 256)
    assert [(level, index) for level, index, _ in nodes] == [(8, 0)]
    copy = edge.copy()
    copy.extend([leaf_hash(b"y")])
    assert (edge.size, copy.size) == (256, 257)
    assert edge.partial[0] == [] and len(copy.partial[0]) == 1
    with pytest.raises(ValueError, match="has 1 hashes at tile level 0, expected 0"):
        TreeEdge(256, [[b"\x00" * 32], [b"\x00" * 32]])
    with pytest.raises(ValueError, match="has 0 hashes at tile level 1, expected 1"):
        TreeEdge(256, [])
    with pytest.raises(ValueError, match="is 3 bytes"):
        TreeEdge(1, [[b"abc"]])
    with pytest.raises(ValueError, match="leaf hash 1 is 3 bytes"):
        TreeEdge.empty().extend([b"\x00" * 32, b"abc"])
    # Trailing empty levels are optional.
    assert TreeEdge(65_536, [[], [], [b"\x00" * 32]]).size == 65_536
    assert TreeEdge(1, [[b"\x00" * 32], [], []]).size == 1


class DictTileCache:
    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int, int], ExpandedTile] = {}

    def get(self, key: tuple[int, int, int]) -> ExpandedTile | None:
        return self.tiles.get(key)

    def put(self, key: tuple[int, int, int], tile: ExpandedTile) -> None:
        self.tiles[key] = tile


def test_cached_reads_fetch_and_hash_each_tile_once() -> None:
    memory, store, _, _ = _build(70_000, seed=7)
    cache = DictTileCache()
    store.fetches.clear()
    rng = random.Random(3)
    for size in (70_000, 69_999, 65_536, 300):
        for _ in range(20):
            index = rng.randrange(size)
            reader = TileHashReader(size, store.fetch(size), cache)
            assert inclusion_proof(index, size, reader) == memory.inclusion_proof(index, size)
            old = rng.randint(1, size)
            assert consistency_proof(old, size, reader) == memory.consistency_proof(old, size)
    fetched = [key for call in store.fetches for key in call]
    assert len(fetched) == len(set(fetched)) == len(cache.tiles)


def test_expanded_tile_holds_every_complete_subtree() -> None:
    hashes = [bytes([i]) * 32 for i in range(13)]
    tile = ExpandedTile(b"".join(hashes))
    memory = MemoryTree()
    memory.extend(hashes)  # the tile's hashes as if they were leaf hashes
    assert [len(level) // 32 for level in tile.levels] == [13, 6, 3, 1]
    for rel in range(4):
        for j in range(13 >> rel):
            assert tile.node(rel, j << rel) == memory.read_hashes([(rel, j)])[0]


def test_extend_hands_over_every_tile_it_fills() -> None:
    memory = MemoryTree()
    edge = TreeEdge.empty()
    tiles: list[tuple[int, int, bytes]] = []
    rng = random.Random(9)
    leaves = [rng.randbytes(32) for _ in range(70_000)]
    for start in range(0, len(leaves), 997):
        edge.extend(leaves[start : start + 997], full_tiles=tiles)
    memory.extend(leaves)
    assert [(k, n) for k, n, _ in tiles if k == 0] == [(0, n) for n in range(70_000 // 256)]
    assert [(k, n) for k, n, _ in tiles if k == 1] == [(1, 0)]
    for k, n, data in tiles:
        expected = memory.read_hashes([(8 * k, n * 256 + i) for i in range(256)])
        assert data == b"".join(expected)
