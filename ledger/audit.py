"""What an auditor checks in a log, from its entries and signed checkpoint alone
(docs/DESIGN.md §4, docs/ENTRIES.md). Pure: no network, no database.

The work is split so that the costly part runs in parallel:
- `check_bundle` looks at one entry bundle on its own: each entry is the RFC 8785
  form of its JSON, belongs to the log, hashes to what the log's hash tile lists, and
  each scan's signature verifies with the device key it is handed. Any process may
  run it for any bundle.
- `Audit` takes those results in log order and checks what needs the history: each
  item's chain, that a key was in the log before it was used and not revoked, that
  event ids are unique, and that the leaf hashes build the checkpoint's tree.
- `audit_log` drives both over a whole log; `check_consistency` compares a saved
  checkpoint with the current one.

Every failure names the entry's index and item; failures are collected, not fatal.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.checkpoint import Checkpoint
from ledger.jcs import canonicalize, canonicalize_with_member
from ledger.jws import thumbprint
from ledger.merkle import HASH_SIZE, HashReader, ProofError, consistency_proof, leaf_hash
from ledger.merkle import verify_consistency
from ledger.rotation import LOG_KEY, RotationError, log_key_change
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, FetchTiles, TreeEdge, decode_entry_bundle
from ledger.tiles import tile_path

FORMAT_VERSION = 1
# docs/ENTRIES.md: the entries a signed scan becomes, and the other types of format v1.
# An escort's pickup or delivery is about a truckload, or one box of it: an item or none.
ATTESTATION_TYPES = frozenset({"pickup", "delivery"})
SCAN_TYPES = frozenset(
    {"seal", "dispatch", "receive", "open", "count", "reseal", "incident", "correction", "store", "stocktake"}
) | ATTESTATION_TYPES
ITEM_TYPES = SCAN_TYPES - ATTESTATION_TYPES | {"register", "label", "missing"}
ENTRY_TYPES = ITEM_TYPES | ATTESTATION_TYPES | {
    "device_register", "device_revoke", "label_key", LOG_KEY, "handoff_close", "stocktake_close", "alert_ack", "rules"
}
# What must agree between a signed scan and the entry that records it.
SCAN_FIELDS = ("type", "item", "event_id", "device")
DEFAULT_LIMIT = 100

Verify = Callable[[bytes, bytes, bytes], bool]  # (raw public key, message, signature)
Keys = Mapping[str, Sequence[tuple[int, bytes]]]  # device → (registered at index, key), in order


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Failure:
    index: int | None  # None: about the log as a whole (its checkpoint, its tree)
    item: str | None
    reason: str

    def __str__(self) -> str:
        where = "log" if self.index is None else f"entry {self.index}"
        return f"{where}{f' (item {self.item})' if self.item else ''}: {self.reason}"


class Fact(NamedTuple):
    """What the ordered checks need to know of one entry (small: it crosses processes)."""

    index: int
    leaf: bytes
    type: str | None
    item: str | None
    seq: Any
    prev: Any  # the previous leaf hash, decoded from base64 where it can be
    event_id: str | None
    device: str | None
    detail: bytes | str | None  # device_register: its key; label_key and label: the kid; log_key: the key
    # A scan: whether its signature verified (None: nothing to check, already failed),
    # with the key registered at `key_index` (None: no key was at hand).
    signature_ok: bool | None
    key_index: int | None
    retires: str | None = None  # label_key: the kid it retires; log_key: the key it retires


class Checked(NamedTuple):
    facts: list[Fact]
    failures: list[Failure]
    # The leaf hashes the tree takes where they are not the facts' own: the hash
    # tile's, where the bundle does not hold the entries it should.
    leaves: list[bytes] | None
    received: tuple[str | None, str | None]  # the first and last received_at


def _received(record: dict[str, Any]) -> str | None:
    value = record.get("received_at")
    return value if type(value) is str else None


def _received_at(data: bytes) -> str | None:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return _received(record) if type(record) is dict else None


def _b64(text: Any, size: int) -> bytes | None:
    if type(text) is not str:
        return None
    try:
        raw = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == size else None


def _text(value: Any) -> str:
    """A hash as the entries spell it (base64), anything else as itself."""
    return base64.b64encode(value).decode() if type(value) is bytes else repr(value)


def _key_before(registrations: Sequence[tuple[int, bytes]] | None, index: int) -> tuple[int, bytes] | None:
    found = None
    for registered, key in registrations or ():
        if registered >= index:
            break
        found = (registered, key)
    return found


def check_entry(
    index: int, data: bytes, origin: str, keys: Keys, verify: Verify, failures: list[Failure]
) -> Fact:
    """Everything about one entry that needs no other entry; failures are appended."""
    leaf = leaf_hash(data)
    item: str | None = None

    def fail(reason: str) -> None:
        failures.append(Failure(index, item, reason))

    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        fail(f"is not JSON: {error}")
        return Fact(index, leaf, None, None, None, None, None, None, None, None, None)
    if type(record) is not dict:
        fail("is not a JSON object")
        return Fact(index, leaf, None, None, None, None, None, None, None, None, None)
    get = record.get
    item = get("item")
    if item is not None and type(item) is not str:
        item = None
        fail(f"item {get('item')!r} is not a string")
    kind = get("type")
    if type(kind) is not str:
        fail(f"has no type: {kind!r}")
        kind = None
    scan = get("scan") if kind in SCAN_TYPES else None
    canonical = message = None
    try:
        if type(scan) is dict:
            canonical, message = canonicalize_with_member(record, "scan")
        else:
            canonical = canonicalize(record)
    except ValueError:
        pass
    if canonical != data:
        fail("is not the RFC 8785 canonical form of its JSON")
    if get("v") != FORMAT_VERSION:
        fail(f"has format version {get('v')!r}, expected {FORMAT_VERSION}")
    if get("log") != origin:
        fail(f"belongs to log {get('log')!r}, not {origin}")
    if kind is None or kind not in ENTRY_TYPES:
        pass  # a newer kind of entry: its bytes, chain and tree are checked, not its meaning
    elif item is None and kind in ITEM_TYPES:
        fail(f"a {kind} entry must name an item")
    elif item is not None and kind not in ITEM_TYPES | ATTESTATION_TYPES:
        fail(f"a {kind} entry is about no item, but names {item}")
    seq, prev = get("seq"), get("prev")
    if item is None and (seq is not None or prev is not None):
        fail("has seq or prev without an item")
    prev = _b64(prev, HASH_SIZE) or prev
    if _received(record) is None:
        fail("has no received_at time")
    event_id, device = get("event_id"), get("device")
    detail: bytes | str | None = None
    signature_ok = key_index = retires = None
    if kind in SCAN_TYPES:
        signature = _b64(get("sig"), 64)
        if type(scan) is not dict or signature is None or type(device) is not str:
            fail("a scan entry needs its signed scan, a 64-byte base64 sig and a device")
        else:
            for name in SCAN_FIELDS:
                if scan.get(name) != get(name):
                    fail(f"the signed scan's {name} {scan.get(name)!r} is not the entry's {get(name)!r}")
            if message is None:
                fail("the signed scan has no RFC 8785 form")
            else:
                found = _key_before(keys.get(device), index)
                if found is None:
                    signature_ok = False
                else:
                    key_index, key = found
                    signature_ok = verify(key, message, signature)
    elif kind == "device_register":
        detail = _b64(get("key"), 32)
        if type(device) is not str or detail is None or get("alg") != "Ed25519":
            fail("a device registration needs a device, a 32-byte base64 key and alg Ed25519")
            detail = None
    elif kind == "device_revoke":
        if type(device) is not str:
            fail("a device revocation needs a device")
    elif kind in ("label_key", "label"):
        detail = get("kid") if type(get("kid")) is str else None
        if detail is None:
            fail(f"a {kind} entry needs a kid")
        elif kind == "label_key":
            key = _b64(get("key"), 32)
            if key is None or get("alg") != "EdDSA":
                fail("a label key needs a 32-byte base64 key and alg EdDSA")
            elif thumbprint(Ed25519PublicKey.from_public_bytes(key)) != detail:
                fail(f"kid {detail} is not the RFC 7638 thumbprint of the label key")
            retires = get("retires")
            if retires is not None and type(retires) is not str:
                fail(f"retires {retires!r} is not a kid")
                retires = None
    elif kind == LOG_KEY:
        try:
            change = log_key_change(record, origin)
            detail, retires = change.key, change.retires
        except RotationError as error:
            fail(f"is not a log key change: it {error}")
    if event_id is not None and type(event_id) is not str:
        fail(f"event_id {event_id!r} is not a string")
        event_id = None
    return Fact(
        index, leaf, kind, item, seq, prev, event_id, device if type(device) is str else None,
        detail, signature_ok, key_index, retires,
    )


def compare_with_tile(first: int, leaves: Sequence[bytes], tile: bytes) -> list[Failure]:
    """The entries' leaf hashes against the log's level-0 hash tile for them: names
    each entry that was changed, moved or removed after the tile was made."""
    listed = [tile[i : i + HASH_SIZE] for i in range(0, len(tile), HASH_SIZE)]
    if leaves == listed:
        return []
    at = {value: first + i for i, value in enumerate(listed)}
    failures = []
    if len(leaves) == len(listed):
        for i, (ours, theirs) in enumerate(zip(leaves, listed, strict=True)):
            if ours != theirs:
                moved = at.get(ours)
                failures.append(
                    Failure(
                        first + i,
                        None,
                        f"these bytes are listed at index {moved} in the log's hash tile: "
                        "entries were moved"
                        if moved is not None
                        else "its bytes do not hash to the leaf hash the log's hash tile lists "
                        "for it: the entry was changed",
                    )
                )
        return failures
    present = set(leaves)
    for i, value in enumerate(listed):
        if value not in present:
            failures.append(
                Failure(first + i, None, "is missing: its bundle lacks the entry its hash tile lists")
            )
    previous = None
    for i, value in enumerate(leaves):
        index = at.get(value)
        if index is None:
            failures.append(
                Failure(
                    None, None,
                    f"entry bundle from index {first} holds, at position {i}, bytes that no "
                    "leaf hash of its tile lists",
                )
            )
        elif previous is not None and index < previous:
            failures.append(Failure(index, None, f"comes after entry {previous} in its bundle: entries were moved"))
        else:
            previous = index
    return failures


def check_bundle(
    first: int,
    width: int,
    bundle: bytes | None,
    tile: bytes | None,
    origin: str,
    keys: Keys,
    verify: Verify = verify_ed25519,
) -> Checked:
    """Entries [first, first + width) from their encoded bundle, against their hash
    tile (None: not compared). A bundle of None could not be read at all."""
    failures: list[Failure] = []
    entries: list[bytes] = []
    if bundle is not None:
        try:
            # A full bundle may stand in for a partial one the log has since filled.
            entries = decode_entry_bundle(bundle)[:width]
        except ValueError as error:
            failures.append(Failure(first, None, f"its entry bundle cannot be decoded: {error}"))
    indexes: Sequence[int | None] = range(first, first + len(entries))
    if bundle is not None and len(entries) != width:
        failures.append(
            Failure(first, None, f"its entry bundle holds {len(entries)} entries, expected {width}")
        )
        if tile is not None:  # each entry where the tile lists it, so the rest keep their names
            at = {tile[i : i + HASH_SIZE]: first + i // HASH_SIZE for i in range(0, len(tile), HASH_SIZE)}
            indexes = [at.get(leaf_hash(data)) for data in entries]
    facts = [
        check_entry(index, data, origin, keys, verify, failures)
        for index, data in zip(indexes, entries, strict=True)
        if index is not None
    ]
    # In the bundle's order, to be compared with the tile's.
    leaves = [f.leaf for f in facts] if len(facts) == len(entries) else [leaf_hash(data) for data in entries]
    facts.sort(key=lambda fact: fact.index)
    received = (_received_at(entries[0]), _received_at(entries[-1])) if entries else (None, None)
    if tile is not None and bundle is not None:
        items = {fact.index: fact.item for fact in facts}
        failures += [
            Failure(f.index, items.get(f.index), f.reason) for f in compare_with_tile(first, leaves, tile)
        ]
    if len(leaves) == width and len(facts) == width:
        return Checked(facts, failures, None, received)
    # Keep the tree aligned with the log's indexes; the failures above say why.
    listed = [tile[i : i + HASH_SIZE] for i in range(0, len(tile or b""), HASH_SIZE)]
    return Checked(facts, failures, listed if len(listed) == width else [bytes(HASH_SIZE)] * width, received)


@dataclass
class _Device:
    registered: int
    key: bytes | None
    revoked: int | None = None


@dataclass
class Summary:
    entries: int = 0
    types: Counter[str] = field(default_factory=Counter)
    signatures: int = 0  # scan signatures that verified
    first_received: str | None = None
    last_received: str | None = None


class Audit:
    """The checks that need log order. Feed it `check_bundle` results in index order;
    with `whole` (the default) they must cover the log from index 0 without gaps, and
    the leaf hashes build the tree that `finish` compares with the checkpoint. Without,
    any increasing subset (one item's trail and its devices' registrations) will do."""

    def __init__(
        self,
        origin: str,
        *,
        whole: bool = True,
        limit: int = DEFAULT_LIMIT,
        verify: Verify = verify_ed25519,
    ) -> None:
        self.origin = origin
        self.whole = whole
        self.limit = limit
        self.verify = verify
        self.failures: list[Failure] = []
        self.failure_count = 0
        self.summary = Summary()
        self.edge = TreeEdge.empty()
        self.chains: dict[str, tuple[int, bytes, int]] = {}  # item → (seq, leaf hash, index)
        self.devices: dict[str, _Device] = {}
        self.label_keys: dict[str, int] = {}
        self.retired_label_keys: dict[str, int] = {}  # kid → the index of the entry that retired it
        self.log_keys: list[tuple[int, str]] = []  # (index of its log_key entry, verifier key)
        self.event_ids: dict[str, int] = {}

    def fail(self, failure: Failure) -> None:
        self.failure_count += 1
        if len(self.failures) < self.limit:
            self.failures.append(failure)

    @property
    def ok(self) -> bool:
        return self.failure_count == 0

    def add(
        self, checked: Checked, entry: Callable[[int], bytes] | None = None
    ) -> list[tuple[int, int, bytes]]:
        """Take the next results in order. `entry(index)` gives an entry's bytes, for a
        scan whose signature must be checked again with the key the log order says.
        Returns the hash tiles above level 0 that these leaves completed."""
        for failure in checked.failures:
            self.fail(failure)
        for fact in checked.facts:
            self._add(fact, entry)
        summary = self.summary
        first, last = checked.received
        summary.first_received = summary.first_received or first
        summary.last_received = last or summary.last_received
        if not self.whole:
            return []
        full: list[tuple[int, int, bytes]] = []
        leaves = checked.leaves if checked.leaves is not None else [f.leaf for f in checked.facts]
        self.edge.extend(leaves, full)
        return [tile for tile in full if tile[0] > 0]

    def _add(self, fact: Fact, entry: Callable[[int], bytes] | None) -> None:
        index, item, kind = fact.index, fact.item, fact.type
        summary = self.summary
        summary.entries += 1
        if kind is not None:
            summary.types[kind] += 1

        def fail(reason: str) -> None:
            self.fail(Failure(index, item, reason))

        if item is not None:
            seq, leaf, at = self.chains.get(item, (0, None, None))
            if fact.seq != seq + 1:
                fail(
                    f"has seq {fact.seq!r}, expected {seq + 1}"
                    + (f" (the item's previous entry is {at})" if at is not None else "")
                )
            if fact.prev != leaf:
                prev = _text(fact.prev)
                fail(
                    f"has prev {prev}, expected null: it is the item's first entry"
                    if leaf is None
                    else f"has prev {prev}, not the leaf hash of the item's previous entry {at} "
                    f"({_text(leaf)})"
                )
            seq_now = fact.seq if type(fact.seq) is int else seq + 1
            self.chains[item] = (seq_now, fact.leaf, index)
        if fact.event_id is not None:
            first = self.event_ids.setdefault(fact.event_id, index)
            if first != index:
                fail(f"repeats event id {fact.event_id}, logged first at entry {first}")
        device = self.devices.get(fact.device) if fact.device is not None else None
        if kind == "device_register" and fact.device is not None:
            if device is not None:  # the first registration stands
                fail(f"registers device {fact.device} again (first at entry {device.registered})")
            else:
                key = fact.detail if type(fact.detail) is bytes else None
                self.devices[fact.device] = _Device(index, key)
        elif kind == "device_revoke" and fact.device is not None:
            if device is None:
                fail(f"revokes device {fact.device}, which is not registered before it")
            elif device.revoked is not None:
                fail(f"revokes device {fact.device} again (revoked at entry {device.revoked})")
            else:
                device.revoked = index
        elif kind == "label_key" and type(fact.detail) is str:
            self.label_keys.setdefault(fact.detail, index)
            if fact.retires is not None and self.whole:
                self._retire_label_key(fact.retires, index, fail)
        elif kind == "label" and self.whole and fact.detail not in self.label_keys:
            fail(f"a label signed with key {fact.detail}, which is not published before it")
        elif kind == "label" and self.whole and (retired := self.retired_label_keys.get(str(fact.detail))) is not None:
            fail(f"a label signed with key {fact.detail}, retired at entry {retired}")
        elif kind == LOG_KEY and type(fact.detail) is str:
            if self.log_keys and fact.retires != self.log_keys[-1][1]:
                fail(f"retires the log key {fact.retires}, but the key since entry {self.log_keys[-1][0]} "
                     f"is {self.log_keys[-1][1]}")
            self.log_keys.append((index, fact.detail))
        if fact.signature_ok is not None:
            self._check_signature(fact, device, entry, fail)

    def _retire_label_key(self, kid: str, index: int, fail: Callable[[str], None]) -> None:
        if kid not in self.label_keys:
            fail(f"retires label key {kid}, which is not published before it")
        elif kid in self.retired_label_keys:
            fail(f"retires label key {kid} again (retired at entry {self.retired_label_keys[kid]})")
        else:
            self.retired_label_keys[kid] = index

    def _check_signature(
        self,
        fact: Fact,
        device: _Device | None,
        entry: Callable[[int], bytes] | None,
        fail: Callable[[str], None],
    ) -> None:
        if device is None or device.key is None:
            fail(f"is signed by device {fact.device}, which is not registered before it")
            return
        if device.revoked is not None:
            fail(f"is signed by device {fact.device} after its revocation at entry {device.revoked}")
        ok = fact.signature_ok
        if fact.key_index != device.registered:
            # The worker had no key, or another one, at hand: check with the log's.
            ok = entry is not None and self._verify_scan(entry(fact.index), device.key)
        if ok:
            self.summary.signatures += 1
        else:
            fail(
                f"the scan's signature does not verify with the key of device {fact.device} "
                f"(registered at entry {device.registered})"
            )

    def _verify_scan(self, data: bytes, key: bytes) -> bool:
        record = orjson.loads(data)
        signature = _b64(record["sig"], 64)
        return signature is not None and self.verify(key, canonicalize(record["scan"]), signature)

    def finish(self, checkpoint: Checkpoint, read_tiles: FetchTiles | None = None) -> None:
        """With the whole log fed: its tree must be the checkpoint's, and the log's
        partial hash tiles above level 0 (if `read_tiles`) must be the ones it builds."""
        if not self.whole:
            return
        if self.edge.size != checkpoint.size:
            self.fail(
                Failure(None, None, f"has {self.edge.size} entries, its checkpoint {checkpoint.size}")
            )
            return
        if read_tiles is not None:
            partial = [
                (k, self.edge.size >> (TILE_HEIGHT * (k + 1)), b"".join(hashes))
                for k, hashes in enumerate(self.edge.partial)
                if k > 0 and hashes
            ]
            for failure in compare_tiles(partial, read_tiles):
                self.fail(failure)
        root = self.edge.root()
        if root != checkpoint.root:
            self.fail(
                Failure(
                    None,
                    None,
                    f"its entries build the root {base64.b64encode(root).decode()}, but the "
                    f"checkpoint signs {base64.b64encode(checkpoint.root).decode()} for size "
                    f"{checkpoint.size}: the entries are not the ones the log signed",
                )
            )


def compare_tiles(built: Iterable[tuple[int, int, bytes]], read_tiles: FetchTiles) -> list[Failure]:
    """Hash tiles above level 0, as built from the entries, against the log's."""
    failures = []
    for level, index, hashes in built:
        width = len(hashes) // HASH_SIZE
        span = TILE_WIDTH ** level
        first, last = index * TILE_WIDTH * span, (index * TILE_WIDTH + width) * span - 1
        try:
            (theirs,) = read_tiles([(level, index, width)])
        except Exception as error:  # noqa: BLE001 - an unreadable tile is a finding, not a crash
            failures.append(Failure(None, None, f"cannot read {tile_path(level, index, width)}: {error}"))
            continue
        if theirs != hashes:
            failures.append(
                Failure(
                    None,
                    None,
                    f"hash tile {tile_path(level, index, width)} is not the one entries "
                    f"{first}..{last} build",
                )
            )
    return failures


class KeyRing:
    """Device keys found ahead of the ordered checks, so that bundles can be checked in
    parallel: every `device_register` in a bundle is read before the bundle is handed
    out. Only a hint: `Audit` confirms in log order that each key was the right one,
    and checks a signature again where it was not."""

    _REGISTER = b'"type":"device_register"'
    _DEVICE = re.compile(rb'"device":"([A-Za-z0-9._:\-]+)"')

    def __init__(self) -> None:
        self.keys: dict[str, list[tuple[int, bytes]]] = {}

    def learn(self, first: int, bundle: bytes) -> None:
        if self._REGISTER not in bundle:
            return
        try:
            entries = decode_entry_bundle(bundle)
        except ValueError:
            return  # the bundle's own check reports it
        for offset, data in enumerate(entries):
            if self._REGISTER not in data:
                continue
            try:
                record = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
            key = _b64(record.get("key"), 32) if type(record) is dict else None
            if key is not None and record.get("type") == "device_register":
                self.keys.setdefault(str(record.get("device")), []).append((first + offset, key))

    def for_bundle(self, bundle: bytes) -> dict[str, list[tuple[int, bytes]]]:
        """The keys of the devices a bundle mentions."""
        keys = self.keys
        named = {name.decode() for name in self._DEVICE.findall(bundle)}
        return {name: keys[name] for name in named if name in keys}


class Result(Protocol):
    def result(self) -> Checked: ...


Submit = Callable[..., Result]


class _Done:
    def __init__(self, value: Checked) -> None:
        self.value = value

    def result(self) -> Checked:
        return self.value


def _inline(fn: Callable[..., Checked], *args: Any) -> _Done:
    return _Done(fn(*args))


def audit_log(
    size: int,
    read_bundle: Callable[[int, int], bytes],
    read_tiles: FetchTiles,
    audit: Audit,
    *,
    submit: Submit | None = None,
    verify: Verify = verify_ed25519,
    ahead: int = 8,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Feed `audit` every entry of the tree of `size`: each bundle read with
    read_bundle(bundle index, width), its level-0 hash tile and the tiles above with
    `read_tiles`, checked by `submit(check_bundle, ...)` (by default here; a process
    pool's submit runs them in parallel, `ahead` bundles at most in flight) and audited in order. A bundle
    or tile that cannot be read is a failure of the entries it holds."""
    submit = submit or _inline
    keyring = KeyRing()
    pending: deque[tuple[int, bytes | None, Result]] = deque()

    def settle() -> None:
        first, bundle, outcome = pending.popleft()
        cache: dict[str, list[bytes]] = {}

        def entry(index: int) -> bytes:
            if "entries" not in cache:
                cache["entries"] = decode_entry_bundle(bundle or b"")
            return cache["entries"][index - first]

        for failure in compare_tiles(audit.add(outcome.result(), entry), read_tiles):
            audit.fail(failure)
        if progress is not None:
            progress(audit.summary.entries)

    for index in range(0, (size + TILE_WIDTH - 1) // TILE_WIDTH):
        first, width = index * TILE_WIDTH, min(TILE_WIDTH, size - index * TILE_WIDTH)
        bundle = tile = None
        try:
            bundle = read_bundle(index, width)
        except Exception as error:  # noqa: BLE001 - reported, and the audit goes on
            audit.fail(Failure(first, None, f"entries {first}..{first + width - 1} cannot be read: {error}"))
        try:
            (tile,) = read_tiles([(0, index, width)])
        except Exception as error:  # noqa: BLE001
            audit.fail(Failure(first, None, f"cannot read {tile_path(0, index, width)}: {error}"))
        if bundle is not None:
            keyring.learn(first, bundle)
        keys = keyring.for_bundle(bundle) if bundle is not None else {}
        pending.append(
            (first, bundle, submit(check_bundle, first, width, bundle, tile, audit.origin, keys, verify))
        )
        while len(pending) > ahead:
            settle()
    while pending:
        settle()


def check_consistency(saved: Checkpoint, current: Checkpoint, reader: HashReader) -> Failure | None:
    """Is the current checkpoint's tree an extension of the saved one's? A smaller size
    is a rollback; a different root at the same size, or a tree that does not contain
    the saved one, is a rewritten (forked) history. `reader` reads the current tree."""

    def failure(reason: str) -> Failure:
        return Failure(None, None, reason)

    old, new = saved, current
    old_root, new_root = (base64.b64encode(c.root).decode() for c in (old, new))
    if old.origin != new.origin:
        return failure(f"the saved checkpoint is of log {old.origin}, not {new.origin}")
    if new.size < old.size:
        return failure(
            f"rollback: the log now has {new.size} entries, fewer than the {old.size} of the "
            "saved checkpoint"
        )
    if new.size == old.size:
        if new.root != old.root:
            return failure(
                f"forked history: the log signed two different trees of size {new.size} "
                f"(saved root {old_root}, now {new_root})"
            )
        return None
    if old.size == 0:
        return None
    try:
        proof = consistency_proof(old.size, new.size, reader)
        verify_consistency(old.size, new.size, old.root, new.root, proof)
    except ProofError as error:
        return failure(
            f"forked history: the tree of size {new.size} (root {new_root}) does not extend the "
            f"saved one of size {old.size} (root {old_root}): {error}"
        )
    except Exception as error:  # noqa: BLE001 - unreadable tiles leave it unproven
        return failure(f"consistency with the saved checkpoint cannot be checked: {error}")
    return None
