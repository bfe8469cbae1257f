"""RFC 9162 §2.1 Merkle trees: hashing, proofs and their verification.

Proofs are built from complete-subtree hashes only, the way Go's
golang.org/x/mod/sumdb/tlog does: a node (level, index) is the root of the
complete subtree over leaves [index·2^level, (index+1)·2^level). Such a node never
changes once the tree has grown past it, so it can be stored once and read back.
Each function plans every node it needs first and reads them in one batch, since
a database usually sits behind the reader.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
MAX_PROOF_HASHES = 63  # the longest proof in a tree of at most 2^63 - 1 leaves

Node = tuple[int, int]  # (level, index)


class ProofError(ValueError):
    """An inclusion or consistency proof does not verify."""


class HashReader(Protocol):
    def read_hashes(self, nodes: Sequence[Node]) -> Sequence[bytes]:
        """The hashes of the given complete-subtree nodes, in the same order."""
        ...


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _check_hash(what: str, value: bytes, error: type[ValueError] = ValueError) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def check_proof_length(count: int, error: type[ValueError] = ValueError) -> None:
    """Refuse more hashes than any proof can have (before decoding them)."""
    if count > MAX_PROOF_HASHES:
        raise error(f"proof has {count} hashes, at most {MAX_PROOF_HASHES}")


def check_proof_shape(proof: Sequence[bytes], error: type[ValueError] = ValueError) -> None:
    """A proof as carried in a message: at most MAX_PROOF_HASHES hashes of HASH_SIZE bytes."""
    check_proof_length(len(proof), error)
    for i, value in enumerate(proof):
        _check_hash(f"proof hash {i}", value, error)


def _split(n: int) -> int:
    """RFC 9162's k: the largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_nodes(lo: int, hi: int) -> list[Node]:
    """The complete subtrees that make up MTH(D[lo:hi]), left to right.

    RFC 9162 splits a range at the largest power of two, and every range it
    produces starts at a multiple of that power, so greedily taking the largest
    power of two that fits yields aligned complete subtrees.
    """
    nodes = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees: each one is the left child of the rest."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _range_hashes(ranges: Sequence[tuple[int, int]], reader: HashReader) -> list[bytes]:
    """MTH(D[lo:hi]) for each range, with a single read of every subtree they need."""
    plans = [_subtree_nodes(lo, hi) for lo, hi in ranges]
    nodes = [node for plan in plans for node in plan]
    if not nodes:
        return []
    hashes = list(reader.read_hashes(nodes))
    if len(hashes) != len(nodes):
        raise ValueError(f"hash reader returned {len(hashes)} hashes for {len(nodes)} nodes")
    for node, value in zip(nodes, hashes, strict=True):
        _check_hash(f"hash reader's hash for node {node}", value)
    result, start = [], 0
    for plan in plans:
        result.append(_fold(hashes[start : start + len(plan)]))
        start += len(plan)
    return result


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size {size} is negative")


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PATH(index, D[0:size]), bottom-up (RFC 9162 §2.1.3.1)."""
    ranges = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    ranges.reverse()  # the recursion emits the root's child last
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes form PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1)."""
    ranges = []
    lo, hi, m, whole_old_tree = 0, new_size, old_size, True
    while m < hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, whole_old_tree = lo + k, m - k, False
    if not whole_old_tree:  # SUBPROOF(m, D[m], false) = MTH(D[m])
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def tree_root(size: int, reader: HashReader) -> bytes:
    """MTH(D[0:size])."""
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], reader)[0]


def inclusion_proof(index: int, size: int, reader: HashReader) -> list[bytes]:
    """The RFC 9162 audit path for leaf `index` in the tree of `size`, bottom-up."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    return _range_hashes(_inclusion_ranges(index, size), reader)


def consistency_proof(old_size: int, new_size: int, reader: HashReader) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of `old_size` to that of `new_size`."""
    if old_size < 1:
        raise ValueError(f"consistency proofs start at size 1 (RFC 9162 §2.1.4), got {old_size}")
    if old_size > new_size:
        raise ValueError(f"old size {old_size} is larger than new size {new_size}")
    return _range_hashes(_consistency_ranges(old_size, new_size), reader)


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` proves leaf hash `leaf` at `index` under (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    _check_hash("leaf hash", leaf, ProofError)

    def wrong_length() -> ProofError:
        expected = len(_inclusion_ranges(index, size))
        return ProofError(
            f"inclusion proof for index {index} at size {size} has {len(proof)} hashes, "
            f"expected {expected}"
        )

    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        _check_hash(f"inclusion proof hash {i}", p, ProofError)
        if sn == 0:
            raise wrong_length()
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise wrong_length()
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf hash `leaf` is at `index` in the tree of `size` with `root`."""
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofError(
            f"inclusion proof for index {index} at size {size} leads to a different root"
        )


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of `new_size` with `new_root` extends that of `old_size`
    with `old_root` (RFC 9162 §2.1.4.2; equal sizes need an empty proof and equal roots)."""
    if old_size < 1:
        raise ProofError(f"consistency proofs start at size 1 (RFC 9162 §2.1.4), got {old_size}")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    _check_hash("old root", old_root, ProofError)
    _check_hash("new root", new_root, ProofError)
    for i, p in enumerate(proof):
        _check_hash(f"consistency proof hash {i}", p, ProofError)
    if old_size == new_size:
        if proof:
            raise ProofError(
                f"consistency proof between equal sizes {old_size} must be empty, "
                f"has {len(proof)} hashes"
            )
        if old_root != new_root:
            raise ProofError(f"roots differ for the same size {old_size}")
        return

    def wrong_length() -> ProofError:
        expected = len(_consistency_ranges(old_size, new_size))
        return ProofError(
            f"consistency proof from size {old_size} to {new_size} has {len(proof)} hashes, "
            f"expected {expected}"
        )

    if not proof:
        raise wrong_length()
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old tree is a node of the new
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise wrong_length()
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise wrong_length()
    if fr != old_root:
        raise ProofError(
            f"consistency proof from size {old_size} to {new_size} does not match the old root"
        )
    if sr != new_root:
        raise ProofError(
            f"consistency proof from size {old_size} to {new_size} does not match the new root"
        )


class MemoryTree:
    """A tree in memory holding every complete-subtree hash, so any read is O(1).

    Each level is one bytearray of concatenated hashes: 10^6 leaves take ~64 MB.
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    @property
    def size(self) -> int:
        return len(self._levels[0]) // HASH_SIZE if self._levels else 0

    def append(self, leaf_hash: bytes) -> int:
        """Add a leaf hash; returns its index."""
        _check_hash("leaf hash", leaf_hash)
        index = self.size
        value, level, i = leaf_hash, 0, index
        while True:
            if level == len(self._levels):
                self._levels.append(bytearray())
            hashes = self._levels[level]
            hashes += value
            if not i & 1:
                return index
            # A right child completes its parent.
            value = node_hash(bytes(hashes[-2 * HASH_SIZE : -HASH_SIZE]), value)
            level, i = level + 1, i >> 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for value in leaf_hashes:
            self.append(value)

    def read_hashes(self, nodes: Sequence[Node]) -> list[bytes]:
        size = self.size
        result = []
        for level, index in nodes:
            if level < 0 or index < 0 or (index + 1) << level > size:
                raise ValueError(
                    f"node ({level}, {index}) is not a complete subtree of a tree of size {size}"
                )
            start = index * HASH_SIZE
            result.append(bytes(self._levels[level][start : start + HASH_SIZE]))
        return result

    def _size_or_current(self, size: int | None) -> int:
        if size is None:
            return self.size
        if size > self.size:
            raise ValueError(f"size {size} is beyond the tree's size {self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self._size_or_current(size), self)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size_or_current(size), self)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(old, self._size_or_current(new), self)
