"""Following a log's checkpoint key across a rotation (docs/ENTRIES.md, `log_key`).

A log changes its key, never its origin, like this: it appends a `log_key` entry that
names the new verifier key and the one it retires, and signs the checkpoint of the
size just past that entry (the handover) with the retiring key, co-signed by the new
one; every later checkpoint is signed by the new key. So a verifier that pins the old
key can trust the new one: the handover is signed by the key it trusts, includes the
entry naming the new key, and the newer checkpoint extends it. Nothing else is
needed from the operator, and every checkpoint signed before still verifies with the
key that signed it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.merkle import HashReader, consistency_proof, inclusion_proof, leaf_hash
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import Verifier

LOG_KEY = "log_key"


class RotationError(ValueError):
    """A key rotation cannot be followed from the key trusted."""


@dataclass(frozen=True)
class LogKeyChange:
    """What a `log_key` entry says: from its index on, `key` signs instead of `retires`."""

    key: str
    retires: str


def log_key_change(record: Any, origin: str) -> LogKeyChange:
    """The change a decoded `log_key` entry of the log `origin` makes; RotationError if
    it is not one (both keys Ed25519 verifier keys named after the origin, different)."""
    if type(record) is not dict or record.get("type") != LOG_KEY:
        raise RotationError("is not a log_key entry")
    keys = []
    for field in ("key", "retires"):
        text = record.get(field)
        try:
            verifier = Verifier.from_vkey(text) if type(text) is str else None
        except ValueError as error:
            raise RotationError(f"its {field} is not an Ed25519 verifier key: {error}") from error
        if verifier is None or verifier.name != origin:
            raise RotationError(f"its {field} must be a verifier key named {origin}")
        keys.append(verifier.vkey)
    if keys[0] == keys[1]:
        raise RotationError("it retires the key it introduces")
    return LogKeyChange(*keys)


def handover_size(index: int) -> int:
    """The size of the handover checkpoint of the `log_key` entry at `index`."""
    return index + 1


def follow(
    trusted: Verifier, index: int, entry: bytes, handover_note: str, latest: Checkpoint, reader: HashReader
) -> Verifier:
    """The key the `log_key` entry at `index` hands over to, once its handover checkpoint
    is signed by `trusted`, includes the entry, and `latest` (not yet verified: the new
    key is what will verify it) extends it. `reader` reads the tree of `latest`."""
    try:
        change = log_key_change(orjson.loads(entry), trusted.name)
    except orjson.JSONDecodeError as error:
        raise RotationError(f"entry {index} is not JSON: {error}") from error
    except RotationError as error:
        raise RotationError(f"entry {index} {error}") from error
    if change.retires != trusted.vkey:
        raise RotationError(f"entry {index} retires {change.retires}, not the key trusted {trusted.vkey}")
    try:
        handover, _ = open_checkpoint(handover_note, trusted)
    except ValueError as error:
        raise RotationError(f"the handover checkpoint of entry {index} does not verify: {error}") from error
    if handover.size != handover_size(index):
        raise RotationError(f"the handover checkpoint of entry {index} is of size {handover.size}, not {index + 1}")
    if latest.size < handover.size or (latest.size == handover.size and latest.root != handover.root):
        raise RotationError(f"the checkpoint of size {latest.size} does not extend the handover of entry {index}")
    try:
        proof = inclusion_proof(index, handover.size, reader)
        verify_inclusion(leaf_hash(entry), index, handover.size, proof, handover.root)
        if latest.size > handover.size:
            proof = consistency_proof(handover.size, latest.size, reader)
            verify_consistency(handover.size, latest.size, handover.root, latest.root, proof)
    except (ValueError, LookupError) as error:
        raise RotationError(f"the rotation at entry {index} is not part of this log: {error}") from error
    return Verifier.from_vkey(change.key)
