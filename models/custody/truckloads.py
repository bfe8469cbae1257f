"""A truckload read back from its log: its manifest (signed with the KPU's label key),
each box's dispatch, receive or missing entry, its closing, and the people and places a
berita acara serah terima names. The formats are models/custody/manifests.py's and
docs/LABELS.md's; the pages and PDFs are api/handoffs/'s."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from ledger import jws
from ledger.proof_bundle import ProofBundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.users import User
from models.core.db import one_of
from models.core.errors import Conflict
from models.core.times import parse_time
from models.custody import manifests
from models.custody.events import Event
from models.custody.handoffs import Attestation, Handoff, HandoffStatus, attestations
from models.custody.items import TrailEntry, prove
from models.custody.labels import LabelKey, LabelKeyRetired
from models.custody.scans import ScanType
from models.log.keys import KeyStore
from models.log.reads import get_log, latest_checkpoint
from models.log.receipts import receipt
from models.log.tables import LogCheckpoint, LogEntry
from models.log.tiles import TileStore
from models.places.sites import site_names

# A receive by someone the dispatch did not name, or with nothing dispatched, took
# nothing over (models/custody/rules.py).
_TOOK_NOTHING = frozenset({"wrong_site", "no_dispatch"})


@dataclass(frozen=True)
class Entry:
    index: int
    leaf_hash: bytes
    data: bytes
    record: dict[str, Any]

    @property
    def actor(self) -> str | None:
        actor: str | None = self.record.get("actor")
        return actor

    @property
    def observed(self) -> datetime:
        """When the scan was made (an entry that is not a scan: when the log recorded it)."""
        scan = self.record.get("scan") or {}
        return parse_time(scan.get("observed_at") or self.record["received_at"])

    @property
    def flags(self) -> list[str]:
        flags: list[str] = self.record.get("flags", [])
        return flags


@dataclass(frozen=True)
class Leg:
    """One box of the truckload: the dispatch that loaded it and what became of it."""

    item: str
    dispatch: Entry
    receive: Entry | None = None  # the receive that took it over at the destination
    missing: Entry | None = None  # the truckload's closing found it missing

    @property
    def seals(self) -> list[str]:
        seals: list[str] = self.dispatch.record["scan"].get("seals") or []
        return seals


@dataclass
class Truckload:
    handoff: Handoff
    manifest: manifests.Manifest
    legs: list[Leg]  # by item
    closing: Entry | None
    # Receives naming this truckload of boxes it never carried (flagged manifest_mismatch).
    strays: list[Entry] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        """Every entry of the truckload, in log order."""
        found = [e for leg in self.legs for e in (leg.dispatch, leg.receive, leg.missing) if e is not None]
        found += self.strays + ([self.closing] if self.closing else [])
        return sorted({e.index: e for e in found}.values(), key=lambda e: e.index)

    def mismatches(self) -> list[manifests.Mismatch]:
        received = [leg.item for leg in self.legs if leg.receive] + [e.record["item"] for e in self.strays]
        missing = [leg.item for leg in self.legs if leg.missing]
        return manifests.mismatches([box["item"] for box in self.manifest.boxes], received, missing)


def read_truckload(session: Session, handoff: Handoff) -> Truckload:
    """The truckload as its log entries tell it."""
    log_id, handoff_id = handoff.log_id, handoff.id
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data)
        .where(LogEntry.log_id == log_id, one_of(session, LogEntry.item_id, handoff.items))
        .order_by(LogEntry.idx)
    ).all()
    trail = [Entry(index, leaf, data, orjson.loads(data)) for index, leaf, data in rows]
    loaded = manifests.loadings(handoff_id, ((e.index, e.record) for e in trail))
    boxes: dict[str, list[Entry]] = {}
    for entry in trail:
        boxes.setdefault(entry.record["item"], []).append(entry)
    legs = [_leg(handoff, box.index, boxes[box.item]) for box in loaded]
    closing = _closing(session, handoff, trail) if handoff.status is HandoffStatus.CLOSED else None
    return Truckload(
        handoff,
        manifests.build(handoff_id, loaded),
        sorted(legs, key=lambda leg: leg.item),
        closing,
        _strays(session, handoff),
    )


def manifest_digests(session: Session, handoff: Handoff) -> set[str]:
    """Every manifest the truckload has had in the log (manifests.digests): what an
    escort's pickup or delivery may cite."""
    rows = session.execute(
        select(LogEntry.idx, LogEntry.data)
        .where(LogEntry.log_id == handoff.log_id, one_of(session, LogEntry.item_id, handoff.items))
        .order_by(LogEntry.idx)
    )
    return manifests.digests(handoff.id, ((index, orjson.loads(data)) for index, data in rows))


def _leg(handoff: Handoff, loaded_at: int, trail: list[Entry]) -> Leg:
    """A box's leg from the dispatch that loaded it (entry `loaded_at` of its trail, in
    log order) to its receive at the destination or its `missing` entry."""
    at = next(n for n, entry in enumerate(trail) if entry.index == loaded_at)
    item, dispatch = trail[at].record["item"], trail[at]
    for entry in trail[at + 1 :]:
        kind, scan = entry.record["type"], entry.record.get("scan") or {}
        if kind == "missing" and entry.record["handoff"] == handoff.id:
            return Leg(item, dispatch, missing=entry)
        if kind == ScanType.DISPATCH and manifests.LOADED_NOTHING not in entry.flags:
            break  # sent on before anyone received it
        if kind == ScanType.RECEIVE and scan["site"] == handoff.to_site and not _TOOK_NOTHING & set(entry.flags):
            return Leg(item, dispatch, receive=entry)
    return Leg(item, dispatch)


def _strays(session: Session, handoff: Handoff) -> list[Entry]:
    """Receives at the destination naming the truckload, of boxes it did not carry."""
    indexes = session.scalars(
        select(Event.entry_index).where(
            Event.log_id == handoff.log_id,
            Event.site == handoff.to_site,
            Event.type == ScanType.RECEIVE.value,
            Event.handoff_id == handoff.id,
            Event.item_id.not_in(handoff.items),
        )
    ).all()
    return _entries(session, handoff.log_id, sorted(indexes))


def _entries(session: Session, log_id: str, indexes: list[int]) -> list[Entry]:
    rows = session.execute(
        select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data)
        .where(LogEntry.log_id == log_id, one_of(session, LogEntry.idx, indexes))
        .order_by(LogEntry.idx)
    )
    return [Entry(index, leaf, data, orjson.loads(data)) for index, leaf, data in rows]


def _closing(session: Session, handoff: Handoff, trail: list[Entry]) -> Entry:
    """The `handoff_close` entry. It has no item, so no index leads to it; every entry
    of its batch has the batch's `received_at`, which is the handoff's `closed_at`. So
    it is among the entries without an item of that time, which follow the last entry
    of the truckload's boxes from an earlier batch: the search starts there."""
    closed_at = handoff.closed_at
    assert closed_at is not None
    before = [e.index for e in trail if parse_time(e.record["received_at"]) < closed_at]
    after = max(before, default=-1)
    while True:
        row = session.execute(
            select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data)
            .where(
                LogEntry.log_id == handoff.log_id,
                LogEntry.idx > after,
                LogEntry.item_id.is_(None),
                LogEntry.received_at == closed_at,
            )
            .order_by(LogEntry.idx)
            .limit(1)
        ).first()
        if row is None:
            raise Conflict(f"the log holds no closing of handoff {handoff.id} of {closed_at}")
        entry = Entry(row[0], row[1], row[2], orjson.loads(row[2]))
        if entry.record["type"] == "handoff_close" and entry.record["handoff"] == handoff.id:
            return entry
        after = entry.index  # another closing, or a key, in the same batch


# ---------------------------------------------------------------- the signed manifest


@dataclass(frozen=True)
class SignedManifest:
    truckload: Truckload
    jws: str
    kid: str
    url: str  # what its QR code holds
    names: dict[str, str]  # place names of its two ends

    @property
    def manifest(self) -> manifests.Manifest:
        return self.truckload.manifest


def public_path(log_id: str, handoff_id: str) -> str:
    """The truckload's public check page (api/pages/)."""
    return f"/v/m/{log_id}/{handoff_id}"


def sign_manifest(session: Session, keys: KeyStore, public_url: str, truckload: Truckload) -> SignedManifest:
    """The manifest signed by the log's current label key, which the log must have
    published (a `label_key` entry), so that a phone holding the log's label keys
    checks it offline."""
    handoff = truckload.handoff
    key = keys.label_key(handoff.log_id)
    kid = jws.thumbprint(key.public_key())
    published = session.get(LabelKey, (handoff.log_id, kid))
    if published is None:
        raise Conflict(
            f"the label key {kid} of log {handoff.log_id} is not in its log yet: "
            f"`jejak keys rotate --label {handoff.log_id}` publishes it"
        )
    if published.retired_index is not None:
        raise LabelKeyRetired(f"label key {kid} of log {handoff.log_id} was just rotated: try again")
    token = manifests.sign(truckload.manifest, key)
    url = f"{public_url.rstrip('/')}{public_path(handoff.log_id, handoff.id)}#{token}"
    names = site_names(session, {handoff.from_site, handoff.to_site})
    return SignedManifest(truckload, token, kid, url, names)


# -------------------------------------------------------------------- berita acara


@dataclass(frozen=True)
class Person:
    name: str  # the account's full name, else its username; an escort not in Jejak: its NRP
    role: str
    nrp: str | None = None


@dataclass(frozen=True)
class BeritaAcara:
    """What the berita acara serah terima of a closed truckload states."""

    truckload: Truckload
    origin: str  # the log's origin
    names: dict[str, str]  # site code → place name, for the sites it mentions
    people: dict[str, Person]  # actor id → the person, for every actor it cites
    escorts: list[Person]  # the NRPs the dispatches named, with their accounts' names
    attestations: list[Attestation]  # the escorts' pickups and deliveries, in log order
    receipt: ProofBundle  # the closing's C2SP tlog-proof
    url: str  # the public check page, pinned to the closing entry (its QR code)


def receipt_url(public_url: str, log_id: str, handoff_id: str, closing: Entry) -> str:
    """The public check page, its fragment pinning the closing entry: `r=<index>.<leaf
    hash, base64url>` (docs/LABELS.md)."""
    pin = f"r={closing.index}.{jws.b64url(closing.leaf_hash)}"
    return f"{public_url.rstrip('/')}{public_path(log_id, handoff_id)}#{pin}"


def closing_receipt(session: Session, tiles: TileStore, truckload: Truckload) -> tuple[Entry, str]:
    """The truckload's closing and its receipt, a C2SP tlog-proof (Conflict until the
    receiver has closed it, NotYet until a signed checkpoint covers the closing)."""
    handoff, closing = truckload.handoff, truckload.closing
    if closing is None:
        raise Conflict(
            f"handoff {handoff.id} is not closed: the receiver closes it (POST /api/v1/handoffs/{handoff.log_id}/"
            f"{handoff.id}/close) once the boxes are counted, and its receipt is the closing's"
        )
    return closing, receipt(session, tiles, handoff.log_id, closing.index, f"the closing of handoff {handoff.id}")


def berita_acara(session: Session, tiles: TileStore, public_url: str, handoff: Handoff) -> BeritaAcara:
    """The berita acara serah terima of a closed truckload, with its receipt."""
    truckload = read_truckload(session, handoff)
    closing, proof = closing_receipt(session, tiles, truckload)
    log_id = handoff.log_id
    actors = sorted({uuid.UUID(e.actor) for e in truckload.entries if e.actor})
    users = session.scalars(select(User).where(one_of(session, User.id, actors))).all() if actors else []
    people = {str(u.id): Person(u.full_name or u.username, u.role.value, u.nrp) for u in users}
    nrps = truckload.manifest.payload["escorts"]
    named = {
        u.nrp: u.full_name or u.username
        for u in session.scalars(select(User).where(one_of(session, User.nrp, nrps))).all()
    } if nrps else {}  # fmt: skip
    escorts = [Person(named.get(nrp, ""), "escort", nrp) for nrp in nrps]
    codes = {handoff.from_site, handoff.to_site} | {e.record["scan"]["site"] for e in truckload.strays}
    return BeritaAcara(
        truckload,
        get_log(session, log_id).origin,
        site_names(session, codes),
        people,
        escorts,
        attestations(session, log_id, handoff.id),
        ProofBundle.parse(proof),
        receipt_url(public_url, log_id, handoff.id, closing),
    )


# ------------------------------------------------------------------ the public view


@dataclass(frozen=True)
class TruckloadHistory:
    truckload: Truckload
    checkpoint: LogCheckpoint
    entries: list[TrailEntry]  # every entry of the truckload, each with its inclusion proof


def truckload_history(session: Session, tiles: TileStore, handoff: Handoff) -> TruckloadHistory:
    """The truckload's entries, each proven against the latest checkpoint: what its public
    check page verifies (entries name no one)."""
    checkpoint = latest_checkpoint(session, handoff.log_id)
    truckload = read_truckload(session, handoff)
    rows = [(e.index, e.leaf_hash, e.data) for e in truckload.entries]
    return TruckloadHistory(truckload, checkpoint, prove(session, tiles, checkpoint, rows))

