"""The auditor's checks on crafted logs: each kind of failure is caught and named by
its log index and item, and an honest log passes."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from ledger.audit import SCAN_TYPES, Audit, Checked, KeyRing, audit_log, check_bundle, check_consistency, check_entry
from ledger.checkpoint import Checkpoint
from ledger.jcs import canonicalize
from ledger.merkle import MemoryTree, leaf_hash
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TileHashReader, encode_entry_bundle
from scripts.bench_verify import SyntheticLog, realistic_log

ORIGIN = "audit.test/log/53.03"
LOG_FIELDS = ("v", "log", "item", "seq", "prev", "received_at")  # what SyntheticLog.append adds
ITEM = "53.03.01.2001-001-BUP"


class Served:
    """A log as a server would hand it out: entry bundles, and hash tiles made from
    `listed` leaf hashes (by default the entries' own)."""

    def __init__(self, entries: list[bytes], listed: list[bytes] | None = None) -> None:
        self.entries = entries
        self.tree = MemoryTree()
        self.tree.extend(listed if listed is not None else [leaf_hash(e) for e in entries])

    def bundle(self, index: int, width: int) -> bytes:
        return encode_entry_bundle(self.entries[index * TILE_WIDTH : index * TILE_WIDTH + width])

    def tiles(self, keys):
        return [
            b"".join(self.tree.read_hashes([(TILE_HEIGHT * k, n * TILE_WIDTH + i) for i in range(w)]))
            for k, n, w in keys
        ]

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(ORIGIN, self.tree.size, self.tree.root())


def audited(entries: list[bytes], listed: list[bytes] | None = None, **kwargs: Any) -> Audit:
    served = Served(entries, listed)
    audit = Audit(ORIGIN)
    audit_log(len(entries), served.bundle, served.tiles, audit, **kwargs)
    audit.finish(served.checkpoint(), served.tiles)
    return audit


def found(audit: Audit) -> list[tuple[int | None, str | None, str]]:
    return [(f.index, f.item, f.reason) for f in audit.failures]


def has(audit: Audit, index: int | None, item: str | None, text: str) -> bool:
    return any(i == index and it == item and text in reason for i, it, reason in found(audit))


def record(data: bytes) -> dict[str, Any]:
    return json.loads(data)


def rewrite(log: SyntheticLog, index: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Change an entry and keep it canonical (the next entry of its item then no longer
    chains to it: that is part of what tampering looks like)."""
    value = record(log.entries[index])
    change(value)
    log.entries[index] = canonicalize(value)


@pytest.fixture
def trail():
    """One box, two phones (one later revoked), a label key: a small honest log."""
    log = SyntheticLog(ORIGIN)
    kid = log.publish_label_key(SigningKey.generate())
    kpu, ppk = log.register_phone("kpu"), log.register_phone("ppk")
    log.register_item(ITEM, "53.03.01.2001-001", kid)  # 3, 4
    log.scan(kpu, "seal", ITEM, "53.03", seals=["S-1"])  # 5
    log.scan(kpu, "dispatch", ITEM, "53.03", counterparty="53.03.01", seals=["S-1"],
             location={"lat": -9.45, "lon": 124.48, "accuracy_m": 12.5})  # 6
    log.scan(ppk, "receive", ITEM, "53.03.01", counterparty="53.03", seals=["S-1"])  # 7
    log.revoke_phone(kpu)  # 8
    return log, kpu, ppk


def test_an_honest_log_passes_with_its_summary():
    log = realistic_log(ORIGIN, 700, phones=8)
    audit = audited(log.entries)
    assert found(audit) == [] and audit.ok
    s = audit.summary
    assert s.entries == len(log.entries) and s.signatures == len(log.samples)
    assert s.types["device_register"] == 9 and s.types["label_key"] == 1  # eight custodians' phones, an escort's
    assert len(audit.devices) == 9 and len(audit.label_keys) == 1
    assert s.types["pickup"] == s.types["delivery"] > 0
    assert len(audit.chains) == s.types["register"]
    assert s.first_received == record(log.entries[0])["received_at"]
    assert s.last_received == record(log.entries[-1])["received_at"]


def test_the_trail_fixture_is_honest(trail):
    log, _, _ = trail
    assert found(audited(log.entries)) == []


def test_a_non_canonical_entry(trail):
    log, _, _ = trail
    log.entries[3] = json.dumps(record(log.entries[3]), indent=1).encode()
    audit = audited(log.entries)
    assert has(audit, 3, ITEM, "is not the RFC 8785 canonical form of its JSON")


def test_an_entry_of_another_log(trail):
    log, _, _ = trail
    rewrite(log, 5, lambda r: r.update(log="evil.test/log/53.03"))
    assert has(audited(log.entries), 5, ITEM, "belongs to log 'evil.test/log/53.03', not audit.test/log/53.03")


def test_a_gap_in_an_items_seq(trail):
    log, _, _ = trail
    rewrite(log, 6, lambda r: r.update(seq=5))
    assert has(audited(log.entries), 6, ITEM, "has seq 5, expected 4 (the item's previous entry is 5)")


def test_a_prev_that_is_not_the_previous_leaf_hash(trail):
    log, _, _ = trail
    rewrite(log, 7, lambda r: r.update(prev=base64.b64encode(b"\x01" * 32).decode()))
    audit = audited(log.entries)
    assert has(audit, 7, ITEM, "not the leaf hash of the item's previous entry 6")


def test_an_items_first_entry_must_have_no_prev(trail):
    log, _, _ = trail
    rewrite(log, 3, lambda r: r.update(prev=base64.b64encode(b"\x02" * 32).decode()))
    assert has(audited(log.entries), 3, ITEM, "expected null: it is the item's first entry")


def test_an_altered_scan_fails_its_signature(trail):
    log, _, _ = trail
    rewrite(log, 6, lambda r: r["scan"].update(seals=["S-2"]))
    audit = audited(log.entries)
    assert has(audit, 6, ITEM, "the scan's signature does not verify with the key of device")


def test_a_swapped_signature(trail):
    log, _, _ = trail
    sig5 = record(log.entries[5])["sig"]
    rewrite(log, 6, lambda r: r.update(sig=sig5))
    assert has(audited(log.entries), 6, ITEM, "signature does not verify")


def test_the_scan_must_agree_with_its_entry(trail):
    log, _, _ = trail
    rewrite(log, 7, lambda r: r.update(type="store"))
    assert has(audited(log.entries), 7, ITEM, "the signed scan's type 'receive' is not the entry's 'store'")


def test_a_scan_before_its_device_is_registered():
    log = SyntheticLog(ORIGIN)
    phone = log.register_phone()
    registration = log.entries.pop()
    log.register_item(ITEM, "x", "kid")
    log.scan(phone, "seal", ITEM, "53.03")  # 2
    log.entries.append(registration)  # 3: the key enters the log after it was used
    audit = audited(log.entries)
    assert has(audit, 2, ITEM, f"is signed by device {phone.id}, which is not registered before it")


def test_a_scan_after_its_device_was_revoked(trail):
    log, kpu, _ = trail
    log.scan(kpu, "store", ITEM, "53.03.01")  # 9
    audit = audited(log.entries)
    assert has(audit, 9, ITEM, f"is signed by device {kpu.id} after its revocation at entry 8")


def test_a_device_registered_twice_and_revoked_twice(trail):
    log, kpu, _ = trail
    log.append({k: v for k, v in record(log.entries[1]).items() if k not in LOG_FIELDS})  # 9
    log.revoke_phone(kpu)  # 10
    audit = audited(log.entries)
    assert has(audit, 9, None, f"registers device {kpu.id} again (first at entry 1)")
    assert has(audit, 10, None, f"revokes device {kpu.id} again (revoked at entry 8)")


def test_event_ids_are_unique(trail):
    log, _, _ = trail
    first = record(log.entries[5])["event_id"]
    rewrite(log, 7, lambda r: (r.update(event_id=first), r["scan"].update(event_id=first)))
    audit = audited(log.entries)
    assert has(audit, 7, ITEM, f"repeats event id {first}, logged first at entry 5")


def test_labels_need_a_published_key(trail):
    log, _, _ = trail
    rewrite(log, 4, lambda r: r.update(kid="unknown-kid"))
    assert has(audited(log.entries), 4, ITEM, "a label signed with key unknown-kid, which is not published before it")
    rewrite(log, 0, lambda r: r.update(kid="not-the-thumbprint"))
    assert has(audited(log.entries), 0, None, "kid not-the-thumbprint is not the RFC 7638 thumbprint")


def test_a_scan_entry_without_its_scan_and_entries_without_a_type(trail):
    log, _, _ = trail
    rewrite(log, 5, lambda r: [r.pop("scan"), r.pop("sig")])
    rewrite(log, 8, lambda r: r.pop("type"))
    rewrite(log, 7, lambda r: r.update(type=["receive"]))
    audit = audited(log.entries)
    assert has(audit, 5, ITEM, "a scan entry needs its signed scan, a 64-byte base64 sig and a device")
    assert has(audit, 8, None, "has no type: None")
    assert has(audit, 7, ITEM, "has no type: ['receive']")


def test_newer_entry_types_are_counted_not_failed(trail):
    log, _, _ = trail
    log.append({"type": "reroute", "to": "53.03.02"}, ITEM)
    audit = audited(log.entries)
    assert found(audit) == [] and audit.summary.types["reroute"] == 1


def test_an_entry_that_is_not_json(trail):
    log, _, _ = trail
    log.entries[2] = b"{not json"
    audit = audited(log.entries)
    assert has(audit, 2, None, "is not JSON")


def test_changed_bytes_are_caught_against_the_hash_tile_and_the_root(trail):
    log, _, _ = trail
    listed = [leaf_hash(e) for e in log.entries]
    rewrite(log, 6, lambda r: r.update(flags=["quietly_changed"]))
    audit = audited(log.entries, listed)
    assert has(audit, 6, ITEM, "its bytes do not hash to the leaf hash the log's hash tile lists for it")
    assert any(i is None and "the entries are not the ones the log signed" in r for i, _, r in found(audit))


def test_swapped_entries_are_named(trail):
    log, _, _ = trail
    listed = [leaf_hash(e) for e in log.entries]
    log.entries[5], log.entries[6] = log.entries[6], log.entries[5]
    audit = audited(log.entries, listed)
    assert has(audit, 5, ITEM, "these bytes are listed at index 6 in the log's hash tile: entries were moved")
    assert has(audit, 6, ITEM, "these bytes are listed at index 5")
    assert has(audit, 5, ITEM, "has seq 4, expected 3")


def test_a_missing_entry_is_named():
    log = realistic_log(ORIGIN, 300, phones=8)
    listed = [leaf_hash(e) for e in log.entries]
    served = Served(log.entries, listed)
    items = [record(e)["item"] for e in log.entries]
    gone = next(i for i in range(40, 200) if items[i] and items[i] in items[i + 1 : 256])  # mid-chain, in bundle 0

    def without_it(index: int, width: int) -> bytes:  # as a server serves a deleted row
        entries = log.entries[index * TILE_WIDTH : index * TILE_WIDTH + width]
        return encode_entry_bundle(entries[:gone] + entries[gone + 1 :] if index == 0 else entries)

    audit = Audit(ORIGIN)
    audit_log(len(listed), without_it, served.tiles, audit)
    audit.finish(served.checkpoint(), served.tiles)
    assert has(audit, gone, None, "is missing: its bundle lacks the entry its hash tile lists")
    assert has(audit, 0, None, "its entry bundle holds 255 entries, expected 256")
    # Entries after the gap keep their own indexes: the item that lost one shows the gap.
    item = items[gone]
    after = items.index(item, gone + 1)
    assert has(audit, after, item, "expected")
    assert {f.index for f in audit.failures} == {0, gone, after}
    assert audit.edge.size == len(listed)  # the tree stays aligned with the log's indexes


def test_entries_moved_in_a_short_bundle_are_named():
    log = realistic_log(ORIGIN, 300, phones=8)
    served = Served(log.entries)

    def shuffled(index: int, width: int) -> bytes:
        entries = log.entries[index * TILE_WIDTH : index * TILE_WIDTH + width]
        if index == 0:
            entries[10], entries[11] = entries[11], entries[10]
            del entries[40]
        return encode_entry_bundle(entries)

    audit = Audit(ORIGIN)
    audit_log(len(log.entries), shuffled, served.tiles, audit)
    assert has(audit, 10, record(log.entries[10])["item"], "comes after entry 11 in its bundle: entries were moved")
    assert has(audit, 40, None, "is missing")


def test_an_unreadable_bundle_is_a_failure_not_a_crash(trail):
    log, _, _ = trail
    served = Served(log.entries)

    def lost(index: int, width: int) -> bytes:
        raise OSError("disk on fire")

    audit = Audit(ORIGIN)
    audit_log(len(log.entries), lost, served.tiles, audit)
    audit.finish(served.checkpoint(), served.tiles)
    assert found(audit) == [(0, None, "entries 0..8 cannot be read: disk on fire")]


def test_higher_tiles_are_compared():
    log = realistic_log(ORIGIN, 2 * TILE_WIDTH + 10, phones=4)
    served = Served(log.entries)
    honest = served.tiles

    def forged(keys):
        return [bytes(len(t)) if k[0] == 1 else t for k, t in zip(keys, honest(keys), strict=True)]

    audit = Audit(ORIGIN)
    audit_log(len(log.entries), served.bundle, forged, audit)
    audit.finish(served.checkpoint(), forged)
    assert found(audit) == [(None, None, "hash tile tile/1/000.p/2 is not the one entries 0..511 build")]


def test_failures_are_counted_beyond_the_limit(trail):
    log, _, _ = trail
    for index in range(len(log.entries)):
        rewrite(log, index, lambda r: r.update(v=2))
    served = Served(log.entries)
    audit, unlimited = Audit(ORIGIN, limit=3), Audit(ORIGIN)
    audit_log(len(log.entries), served.bundle, served.tiles, audit)
    audit_log(len(log.entries), served.bundle, served.tiles, unlimited)
    assert len(audit.failures) == 3 and audit.failures == unlimited.failures[:3]
    assert audit.failure_count == len(unlimited.failures) > len(log.entries)


def test_keys_not_at_hand_are_checked_in_log_order(trail):
    """A worker without the device's key leaves the signature to the ordered audit,
    which checks it with the key the log order says."""
    log, _, _ = trail
    served = Served(log.entries)

    class Keyless:
        def submit(self, fn, first, width, bundle, tile, origin, keys, verify):
            return ThreadPoolExecutor(1).submit(fn, first, width, bundle, tile, origin, {}, verify)

    audit = Audit(ORIGIN)
    audit_log(len(log.entries), served.bundle, served.tiles, audit, submit=Keyless().submit)
    assert found(audit) == [] and audit.summary.signatures == 3
    rewrite(log, 7, lambda r: r["scan"].update(site="53.03.02"))
    served = Served(log.entries)
    audit = Audit(ORIGIN)
    audit_log(len(log.entries), served.bundle, served.tiles, audit, submit=Keyless().submit)
    assert has(audit, 7, ITEM, "signature does not verify")


def test_the_keyring_hands_out_the_keys_a_bundle_names(trail):
    log, kpu, ppk = trail
    ring = KeyRing()
    bundle = encode_entry_bundle(log.entries)
    ring.learn(0, bundle)
    assert ring.for_bundle(encode_entry_bundle(log.entries[7:8])) == {
        ppk.id: [(2, bytes(ppk.key.verify_key))]
    }
    checked = check_bundle(0, len(log.entries), bundle, None, ORIGIN, ring.for_bundle(bundle))
    assert checked.failures == [] and [f.key_index for f in checked.facts if f.signature_ok] == [1, 1, 2]


def _tree(entries: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaf_hash(e) for e in entries)
    return tree


def test_consistency_with_a_saved_checkpoint():
    log = realistic_log(ORIGIN, 600, phones=4)
    tree = _tree(log.entries)
    size = tree.size
    saved = Checkpoint(ORIGIN, 300, tree.root(300))
    now = Checkpoint(ORIGIN, size, tree.root())
    assert check_consistency(saved, now, tree) is None
    assert check_consistency(now, now, tree) is None
    assert check_consistency(Checkpoint(ORIGIN, 0, tree.root(0)), now, tree) is None
    rollback = check_consistency(now, saved, tree)
    assert rollback and rollback.reason.startswith(f"rollback: the log now has 300 entries, fewer than the {size}")
    other = Checkpoint("elsewhere/log/53.03", 300, tree.root(300))
    assert "is of log elsewhere/log/53.03" in check_consistency(other, now, tree).reason


def test_a_rewritten_history_is_reported_as_a_fork():
    log = realistic_log(ORIGIN, 600, phones=4)
    honest = _tree(log.entries)
    saved = Checkpoint(ORIGIN, 300, honest.root(300))
    log.entries[10] = log.entries[11]
    forked = _tree(log.entries)
    same_size = check_consistency(saved, Checkpoint(ORIGIN, 300, forked.root(300)), forked)
    assert same_size and same_size.reason.startswith("forked history: the log signed two different trees of size 300")
    larger = check_consistency(saved, Checkpoint(ORIGIN, forked.size, forked.root()), forked)
    assert larger and larger.reason.startswith(f"forked history: the tree of size {forked.size}")


def test_consistency_that_cannot_be_read_is_not_passed():
    log = realistic_log(ORIGIN, 600, phones=4)
    tree = _tree(log.entries)

    def unreadable(keys):
        raise OSError("server gone")

    failure = check_consistency(
        Checkpoint(ORIGIN, 300, tree.root(300)),
        Checkpoint(ORIGIN, tree.size, tree.root()),
        TileHashReader(tree.size, unreadable),
    )
    assert failure and "cannot be checked: server gone" in failure.reason


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)
_fields = st.sampled_from(["v", "log", "item", "seq", "prev", "type", "scan", "sig", "device", "key", "kid",
                           "alg", "event_id", "received_at"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_fields, _json | st.sampled_from(sorted(SCAN_TYPES | {"device_register", "label_key"}))))
def test_any_entry_is_judged_never_crashes(value):
    """Whatever an entry holds, the audit names what is wrong with it and goes on."""
    data = json.dumps(value).encode()
    failures: list = []
    fact = check_entry(3, data, ORIGIN, {}, lambda *_: True, failures)
    assert fact.index == 3 and all(f.index == 3 for f in failures)
    Audit(ORIGIN, whole=False).add(Checked([fact], failures, None, (None, None)), lambda _: data)
