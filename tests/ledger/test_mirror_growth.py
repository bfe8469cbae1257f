"""Growing a tlog-tiles copy: the tiles it computes are the log's, and a log that
rewrote its history cannot be copied."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger import merkle
from ledger.mirror import Growth, MirrorError, bundles_between
from ledger.tiles import TILE_WIDTH, TileHashReader, encode_entry_bundle, entries_path, tile_path

ENTRIES = [f'{{"n":{n},"pad":"{"x" * (n % 17)}"}}'.encode() for n in range(1200)]


def serve(entries: list[bytes]):
    """What a log of these entries serves as entry bundles."""
    return lambda n, width: entries[n * TILE_WIDTH : n * TILE_WIDTH + width]


def grow(store: dict[str, bytes], old: int, new: int, entries: list[bytes] = ENTRIES) -> tuple[bytes, list[bytes]]:
    growth = Growth(old, store.__getitem__)
    fetch = serve(entries)
    taken = []
    for n, width in bundles_between(old, new):
        taken += growth.add(n, fetch(n, width), store.__setitem__)
    return growth.finish(store.__setitem__), taken


def tree(size: int) -> merkle.MemoryTree:
    memory = merkle.MemoryTree()
    memory.extend(merkle.leaf_hash(e) for e in ENTRIES[:size])
    return memory


def reader(store: dict[str, bytes], size: int) -> TileHashReader:
    return TileHashReader(size, lambda keys: [store[tile_path(*k)] for k in keys])


def test_a_copy_grown_in_steps_serves_the_logs_roots_and_proofs():
    store: dict[str, bytes] = {}
    memory = tree(1200)
    taken = []
    for old, new in [(0, 1), (1, 255), (255, 256), (256, 700), (700, 700), (700, 1200)]:
        root, new_entries = grow(store, old, new)
        assert root == memory.root(new)
        taken += new_entries
        for index in {0, old, new - 1} - {-1}:
            if 0 <= index < new:
                assert merkle.inclusion_proof(index, new, reader(store, new)) == memory.inclusion_proof(index, new)
    assert taken == ENTRIES  # every entry handed over once, in order
    assert store[tile_path(0, 0)] == b"".join(merkle.leaf_hash(e) for e in ENTRIES[:256])
    assert tile_path(0, 4, 176) in store and tile_path(1, 0, 4) in store  # the right edge at 1200


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 1200), min_size=1, max_size=5))
def test_any_steps_give_the_same_tree(sizes):
    store: dict[str, bytes] = {}
    old = 0
    for new in sorted(sizes):
        root, _ = grow(store, old, new)
        old = new
    assert root == tree(old).root()
    if old:
        assert merkle.consistency_proof(1, old, reader(store, old)) == tree(old).consistency_proof(1, old)


def test_a_rewritten_entry_is_refused_naming_it():
    store: dict[str, bytes] = {}
    grow(store, 0, 300)
    rewritten = list(ENTRIES)
    rewritten[260] = b'{"n":260,"rewritten":true}'
    with pytest.raises(MirrorError, match="entry 260 differs from the copy held"):
        grow(store, 300, 400, rewritten)


def test_a_fork_below_the_held_bundles_gives_another_root():
    """Entries already in full bundles are not fetched again; a log that forked there
    cannot produce the root of its new checkpoint from the copy's edge."""
    store: dict[str, bytes] = {}
    grow(store, 0, 256)
    forked = list(ENTRIES)
    forked[10] = b'{"n":10,"forked":true}'
    root, _ = grow(store, 256, 400, forked)
    forked_tree = merkle.MemoryTree()
    forked_tree.extend(merkle.leaf_hash(e) for e in forked[:400])
    assert root != forked_tree.root()  # so the forked checkpoint is refused by the caller
    assert root == tree(400).root()


def test_the_held_partial_bundle_is_read_back_from_the_copy():
    store: dict[str, bytes] = {}
    grow(store, 0, 300)
    assert store[entries_path(1, 44)] == encode_entry_bundle(ENTRIES[256:300])
    store[entries_path(1, 44)] = encode_entry_bundle([b"{}"] * 44)  # a damaged copy
    with pytest.raises(MirrorError, match="entry 256 differs"):
        grow(store, 300, 301)


def test_a_bundle_that_does_not_continue_the_copy_is_refused():
    store: dict[str, bytes] = {}
    grow(store, 0, 300)
    growth = Growth(300, store.__getitem__)
    with pytest.raises(MirrorError, match="does not continue"):
        growth.add(0, serve(ENTRIES)(0, 256), store.__setitem__)
    with pytest.raises(MirrorError, match="does not continue"):
        growth.add(1, [], store.__setitem__)
