"""Every known answer of Go's golang.org/x/mod/sumdb/tlog and sumdb/note (x/mod 0.7.0).

testdata/tlog-go-sumdb.json is a verbatim copy of shared/testvectors/tlog-go-sumdb.json
(see the README there): 70 entries, their leaf hashes, the root at every size 0…70,
inclusion and consistency proofs, and a signed checkpoint note. Proofs are produced
both by MemoryTree and by TileHashReader over what TreeEdge told storage to keep.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.merkle import (
    HashReader,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from ledger.note import NoteError, NoteSignature, Signer, Verifier, open_note, parse_note, sign_note
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TileHashReader, TreeEdge, encode_hash_tile

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "testdata" / "tlog-go-sumdb.json").read_text()
)


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


ENTRIES = [entry.encode() for entry in VECTORS["entries"]]
LEAVES = [b64(x) for x in VECTORS["leaf_hashes"]]
ROOTS = {int(size): b64(root) for size, root in VECTORS["roots"].items()}


def _memory() -> MemoryTree:
    tree = MemoryTree()
    tree.extend(LEAVES)
    return tree


def _tiles() -> dict[tuple[int, int], bytes]:
    """Storage as a log keeps it: leaf hashes plus the tile roots TreeEdge returns,
    appended in uneven batches so tiles fill mid-batch."""
    stored: dict[tuple[int, int], bytes] = {}
    edge = TreeEdge.empty()
    for start, end in [(0, 1), (1, 4), (4, 13), (13, 64), (64, 70)]:
        for i in range(start, end):
            stored[(0, i)] = LEAVES[i]
        for level, index, value in edge.extend(LEAVES[start:end]):
            stored[(level, index)] = value
        assert edge.root() == ROOTS[end]
    return stored


def _tile_reader(stored: dict[tuple[int, int], bytes], size: int) -> TileHashReader:
    def fetch(keys: Any) -> list[bytes]:
        return [
            encode_hash_tile([stored[(TILE_HEIGHT * k, n * TILE_WIDTH + i)] for i in range(width)])
            for k, n, width in keys
        ]

    return TileHashReader(size, fetch)


MEMORY = _memory()
STORED = _tiles()


def _readers(size: int) -> list[HashReader]:
    return [MEMORY, _tile_reader(STORED, size)]


def test_leaf_hashes() -> None:
    assert len(ENTRIES) == 70
    assert [leaf_hash(entry) for entry in ENTRIES] == LEAVES


def test_roots_for_every_size() -> None:
    assert sorted(ROOTS) == list(range(71))
    for size, root in ROOTS.items():
        for reader in _readers(size):
            assert tree_root(size, reader) == root


@pytest.mark.parametrize(
    "case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}@{c['tree_size']}"
)
def test_inclusion(case: dict[str, Any]) -> None:
    index, size = case["index"], case["tree_size"]
    expected = [b64(x) for x in case["proof"]]
    for reader in _readers(size):
        assert inclusion_proof(index, size, reader) == expected
    verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])


@pytest.mark.parametrize(
    "case", VECTORS["consistency"], ids=lambda c: f"{c['first']}-{c['second']}"
)
def test_consistency(case: dict[str, Any]) -> None:
    old, new = case["first"], case["second"]
    expected = [b64(x) for x in case["proof"]]
    for reader in _readers(new):
        assert consistency_proof(old, new, reader) == expected
    verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


def test_vector_coverage() -> None:
    inclusion_sizes = {c["tree_size"] for c in VECTORS["inclusion"]}
    assert inclusion_sizes == {1, 2, 3, 5, 7, 8, 13, 64, 70}
    assert len(VECTORS["inclusion"]) == sum(inclusion_sizes)
    consistency_sizes = {c["second"] for c in VECTORS["consistency"]}
    assert consistency_sizes == {2, 3, 7, 8, 13, 64, 70}
    assert len(VECTORS["consistency"]) == sum(consistency_sizes)


NOTE = VECTORS["note"]


def test_note_signed_byte_for_byte() -> None:
    signer = Signer(
        NOTE["key_name"], Ed25519PrivateKey.from_private_bytes(b64(NOTE["ed25519_seed_b64"]))
    )
    assert signer.vkey == NOTE["vkey"]
    assert sign_note(NOTE["checkpoint_text"], signer) == NOTE["signed_note"]
    assert Signer.from_skey(signer.skey).vkey == NOTE["vkey"]


def test_vkey_round_trips_and_note_opens() -> None:
    verifier = Verifier.from_vkey(NOTE["vkey"])  # its base64 contains "+"
    assert "+" in NOTE["vkey"].split("+", 2)[2]
    assert verifier.vkey == NOTE["vkey"]
    note = open_note(NOTE["signed_note"], [verifier])
    assert note.text == NOTE["checkpoint_text"]
    checkpoint, _ = open_checkpoint(NOTE["signed_note"], verifier)
    assert checkpoint == Checkpoint(NOTE["key_name"], 13, ROOTS[13])


def test_altered_note_fails() -> None:
    verifier = Verifier.from_vkey(NOTE["vkey"])
    signed = NOTE["signed_note"]
    with pytest.raises(NoteError, match="does not verify"):
        open_note(signed.replace("\n13\n", "\n14\n"), [verifier])
    note = parse_note(signed)
    signature = bytearray(note.signatures[0].signature)
    signature[10] ^= 1
    note.signatures[0] = NoteSignature(
        NOTE["key_name"], note.signatures[0].key_id, bytes(signature)
    )
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.encode(), [verifier])
