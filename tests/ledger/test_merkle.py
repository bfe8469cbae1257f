"""RFC 9162 trees and proofs: published vectors, batching, and tampering properties."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# transparency-dev/merkle testonly/constants.go (LeafInputs, RootHashes) and
# proof/verify_test.go (inclusionProofs, consistencyProofs), from the RFC 6962 reference
# tests of certificate-transparency. Inclusion vectors there use 1-based leaf numbers;
# here they are converted to 0-based indexes.
TD_LEAVES = [
    h(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
TD_ROOTS = [
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
TD_NODES = [  # every complete subtree, by level then index (NodeHashes)
    [
        h(x)
        for x in [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ]
    ],
    [
        h(x)
        for x in [
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ]
    ],
    [
        h(x)
        for x in [
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ]
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]
TD_INCLUSION = [  # (index, size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
TD_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


@pytest.fixture(scope="module")
def td_tree() -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaf_hash(x) for x in TD_LEAVES)
    return tree


def test_empty_root_is_sha256_of_nothing() -> None:
    assert TD_ROOTS[0] == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT


def test_transparency_dev_roots_and_nodes(td_tree: MemoryTree) -> None:
    for size, root in enumerate(TD_ROOTS):
        assert td_tree.root(size) == root
    for level, hashes in enumerate(TD_NODES):
        assert td_tree.read_hashes([(level, i) for i in range(len(hashes))]) == hashes


@pytest.mark.parametrize(("index", "size", "proof"), TD_INCLUSION)
def test_transparency_dev_inclusion(
    td_tree: MemoryTree, index: int, size: int, proof: list[bytes]
) -> None:
    assert td_tree.inclusion_proof(index, size) == proof
    leaf = leaf_hash(TD_LEAVES[index])
    root = TD_ROOTS[size]
    assert root_from_inclusion_proof(leaf, index, size, proof) == root
    verify_inclusion(leaf, index, size, proof, root)
    # The corruptions of transparency-dev's verify_test.go must all fail.
    probes: list[tuple[int, int, bytes, bytes, Sequence[bytes]]] = [
        (index - 1, size, leaf, root, proof),
        (index + 1, size, leaf, root, proof),
        (index ^ 2, size, leaf, root, proof),
        (index, size * 2, leaf, root, proof),
        (index, size // 2, leaf, root, proof),
        (index, size, leaf_hash(b"WrongLeaf"), root, proof),
        (index, size, leaf, EMPTY_ROOT, proof),
        (index, size, leaf, SOME_HASH, proof),
        (index, size, leaf, root, [*proof, root]),
        (index, size, leaf, root, [root, *proof]),
        (index, size, leaf, root, [*proof, b""]),
    ]
    for i in range(len(proof)):
        flipped = bytearray(proof[i])
        flipped[0] ^= 8
        probes.append((index, size, leaf, root, [*proof[:i], bytes(flipped), *proof[i + 1 :]]))
    if proof:
        probes.append((index, size, leaf, root, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, leaf, root, [proof[0], SOME_HASH, *proof[1:]]))
    for bad_index, bad_size, bad_leaf, bad_root, bad_proof in probes:
        with pytest.raises(ProofError):
            verify_inclusion(bad_leaf, bad_index, bad_size, bad_proof, bad_root)


@pytest.mark.parametrize(("old", "new", "proof"), TD_CONSISTENCY)
def test_transparency_dev_consistency(
    td_tree: MemoryTree, old: int, new: int, proof: list[bytes]
) -> None:
    assert td_tree.consistency_proof(old, new) == proof
    old_root, new_root = TD_ROOTS[old], TD_ROOTS[new]
    verify_consistency(old, new, old_root, new_root, proof)
    if not proof:
        return
    probes: list[tuple[int, int, bytes, bytes, Sequence[bytes]]] = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, SOME_HASH, new_root, proof),
        (old, new, old_root, SOME_HASH, proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = bytearray(proof[i])
        flipped[0] ^= 16
        probes.append((old, new, old_root, new_root, [*proof[:i], bytes(flipped), *proof[i + 1 :]]))
    for bad_old, bad_new, bad_old_root, bad_new_root, bad_proof in probes:
        with pytest.raises(ProofError):
            verify_consistency(bad_old, bad_new, bad_old_root, bad_new_root, bad_proof)


def test_hashing_domain_separation() -> None:
    assert leaf_hash(b"") == TD_NODES[0][0]
    assert node_hash(TD_NODES[0][0], TD_NODES[0][1]) == TD_NODES[1][0]


def test_verification_edge_cases() -> None:
    leaf = leaf_hash(b"data")
    verify_inclusion(leaf, 0, 1, [], leaf)  # a one-leaf tree's root is its leaf
    for index, size in [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 5)]:
        with pytest.raises(ProofError, match="is not in a tree of size"):
            verify_inclusion(leaf, index, size, [], leaf)
    with pytest.raises(ProofError, match="leaf hash is 0 bytes"):
        verify_inclusion(b"", 0, 1, [], leaf)
    with pytest.raises(ProofError, match="different root"):
        verify_inclusion(leaf, 0, 1, [], b"\x00" * 32)
    with pytest.raises(ProofError, match=r"index 5 at size 8 has 4 hashes, expected 3"):
        verify_inclusion(leaf, 5, 8, [SOME_HASH] * 4, SOME_HASH)
    with pytest.raises(ProofError, match=r"index 5 at size 8 has 2 hashes, expected 3"):
        verify_inclusion(leaf, 5, 8, [SOME_HASH] * 2, SOME_HASH)
    # Consistency: equal sizes need an empty proof and equal roots; size 0 is undefined.
    verify_consistency(3, 3, SOME_HASH, SOME_HASH, [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(3, 3, SOME_HASH, SOME_HASH, [SOME_HASH])
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(3, 3, SOME_HASH, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="start at size 1"):
        verify_consistency(0, 3, EMPTY_ROOT, SOME_HASH, [])
    with pytest.raises(ProofError, match="larger than new size"):
        verify_consistency(4, 3, SOME_HASH, SOME_HASH, [SOME_HASH])
    with pytest.raises(ProofError, match=r"from size 2 to 5 has 0 hashes, expected 2"):
        verify_consistency(2, 5, SOME_HASH, SOME_HASH, [])
    with pytest.raises(ProofError, match=r"from size 2 to 5 has 3 hashes, expected 2"):
        verify_consistency(2, 5, SOME_HASH, SOME_HASH, [SOME_HASH] * 3)
    with pytest.raises(ProofError, match="consistency proof hash 1 is 3 bytes"):
        verify_consistency(2, 5, SOME_HASH, SOME_HASH, [SOME_HASH, b"abc"])


def test_invalid_proof_requests(td_tree: MemoryTree) -> None:
    with pytest.raises(ValueError, match="index 8 is not in a tree of size 8"):
        td_tree.inclusion_proof(8)
    with pytest.raises(ValueError, match="index -1 is not in a tree of size 8"):
        td_tree.inclusion_proof(-1)
    with pytest.raises(ValueError, match="start at size 1"):
        td_tree.consistency_proof(0, 3)
    with pytest.raises(ValueError, match="old size 5 is larger than new size 3"):
        td_tree.consistency_proof(5, 3)
    with pytest.raises(ValueError, match="beyond the tree's size"):
        td_tree.root(9)
    with pytest.raises(ValueError, match="tree size -1 is negative"):
        tree_root(-1, td_tree)
    with pytest.raises(
        ValueError, match=r"node \(1, 4\) is not a complete subtree of a tree of size 8"
    ):
        td_tree.read_hashes([(1, 4)])
    with pytest.raises(ValueError, match="leaf hash is 3 bytes"):
        MemoryTree().append(b"abc")


class CountingReader:
    """Records each read and checks that only complete subtrees within `size` are asked for."""

    def __init__(self, tree: MemoryTree, size: int) -> None:
        self.tree, self.size = tree, size
        self.reads: list[list[tuple[int, int]]] = []

    def read_hashes(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        for level, index in nodes:
            assert (index + 1) << level <= self.size, (level, index, self.size)
        self.reads.append(list(nodes))
        return self.tree.read_hashes(nodes)


@pytest.fixture(scope="module")
def big_tree() -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaf_hash(i.to_bytes(4, "big")) for i in range(3000))
    return tree


def test_each_operation_reads_once(big_tree: MemoryTree) -> None:
    for size in [1, 2, 3, 7, 8, 255, 256, 1000, 2047, 2048, 2999]:
        reader = CountingReader(big_tree, size)
        assert tree_root(size, reader) == big_tree.root(size)
        assert len(reader.reads) == 1
        for index in {0, size // 3, size - 1}:
            reader.reads.clear()
            proof = inclusion_proof(index, size, reader)
            assert len(reader.reads) == (1 if proof else 0)
        for old in {1, size // 2 or 1, size}:
            reader.reads.clear()
            proof = consistency_proof(old, size, reader)
            assert len(reader.reads) == (1 if proof else 0)


def test_reader_answers_are_checked() -> None:
    class Short:
        def read_hashes(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
            return [b"\x00" * 32] * (len(nodes) - 1)

    class Truncated:
        def read_hashes(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
            return [b"\x00" * 31] * len(nodes)

    with pytest.raises(ValueError, match="returned 1 hashes for 2 nodes"):
        tree_root(3, Short())
    with pytest.raises(ValueError, match=r"hash for node \(1, 0\) is 31 bytes"):
        tree_root(3, Truncated())


def test_million_leaves() -> None:
    """10^6 leaves fit in ~64 MB and build in seconds; proofs stay sound at that size."""
    tree = MemoryTree()
    tree.extend(leaf_hash(i.to_bytes(4, "big")) for i in range(1_000_000))
    assert tree.size == 1_000_000
    root = tree.root()
    for index in [0, 1, 524_287, 524_288, 999_999]:
        leaf = leaf_hash(index.to_bytes(4, "big"))
        verify_inclusion(leaf, index, tree.size, tree.inclusion_proof(index), root)
    for old in [1, 524_288, 999_998]:
        verify_consistency(old, tree.size, tree.root(old), root, tree.consistency_proof(old))


# Property tests over one 3000-leaf tree of distinct leaves.
sizes = st.integers(min_value=1, max_value=3000)


def _flip(proof: list[bytes], i: int, bit: int) -> list[bytes]:
    changed = bytearray(proof[i])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:i], bytes(changed), *proof[i + 1 :]]


@settings(max_examples=300, deadline=None)
@given(size=sizes, data=st.data())
def test_inclusion_properties(big_tree: MemoryTree, size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    leaf = big_tree.read_hashes([(0, index)])[0]
    root = big_tree.root(size)
    proof = big_tree.inclusion_proof(index, size)
    verify_inclusion(leaf, index, size, proof, root)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, _flip(proof, i, bit), root)
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, [*proof, SOME_HASH], root)
    other_index = data.draw(st.integers(0, 3000).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other_index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(
            leaf, index, size, proof, _flip([root], 0, data.draw(st.integers(0, 255)))[0]
        )
    # The proof does not bind the size by itself (sizes giving the same path shape
    # accept it against the same root): the signed checkpoint binds size and root.
    # What must hold is that it proves nothing about any other tree size.
    other_size = data.draw(st.integers(index + 1, 3000).filter(lambda s: s != size))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, other_size, proof, big_tree.root(other_size))


@settings(max_examples=300, deadline=None)
@given(new=sizes, data=st.data())
def test_consistency_properties(big_tree: MemoryTree, new: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, new))
    old_root, new_root = big_tree.root(old), big_tree.root(new)
    proof = big_tree.consistency_proof(old, new)
    verify_consistency(old, new, old_root, new_root, proof)
    if old == new:
        assert proof == []
        return
    i = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    bad_proofs = [
        _flip(proof, i, bit),
        proof[:-1],
        proof[1:],
        [*proof, SOME_HASH],
        [SOME_HASH, *proof],
    ]
    for bad in bad_proofs:
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, bad)
    with pytest.raises(ProofError):
        verify_consistency(old, new, new_root, old_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, _flip([old_root], 0, bit)[0], new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, _flip([new_root], 0, bit)[0], proof)
    other_old = data.draw(st.integers(0, 3000).filter(lambda s: s != old))
    with pytest.raises(ProofError):
        verify_consistency(other_old, new, big_tree.root(min(other_old, 3000)), new_root, proof)
    other_new = data.draw(st.integers(1, 3000).filter(lambda s: s != new))
    with pytest.raises(ProofError):
        verify_consistency(old, other_new, old_root, big_tree.root(other_new), proof)


def test_module_exports_proof_error_as_value_error() -> None:
    assert issubclass(merkle.ProofError, ValueError)
