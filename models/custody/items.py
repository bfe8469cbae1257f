"""Ballot boxes and logistics packages, and where each one is in its custody route.

The row is a projection of the item's log entries, kept in the same transaction as
they are appended; the log, not this table, is the record."""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger import jws

from sqlalchemy import JSON, BigInteger, Enum, Float, ForeignKey, Index, Integer, String, Text, bindparam, select, text, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.actor import Actor
from models.core.base import Base, UTCDateTime, utcnow
from models.core.db import one_of
from models.core.errors import Conflict, InvalidRequest, NotFound
from models.core.routing import LogDatabases
from models.custody import kits
from models.custody.labels import LabelKey, LabelKeyRetired, LabelKeysInBatch
from models.custody.rules import ItemState, ItemStatus, Leg
from models.log.keys import KeyStore
from models.log.sequencer import Appended, Batch, NewEntry, Refused, Sequencer, b64
from models.log.tables import LogCheckpoint, LogEntry
from models.log.tiles import TileStore
from models.places.sites import Site, regency_of, route_to, site_names, under


class ItemKind(enum.StrEnum):
    KOTAK_SUARA = "kotak_suara"  # ballot box
    SURAT_SUARA = "surat_suara"  # ballot papers
    FORMULIR = "formulir"  # forms, including the results forms C.Hasil
    SEGEL = "segel"  # numbered seals
    TINTA = "tinta"  # ink
    BILIK = "bilik"  # voting booth
    LAINNYA = "lainnya"  # other


def _enum(kind: type[enum.StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


# The destination TPS, then a contest or kind code and an optional serial:
# 53.03.08.2001-003-BUP, 53.03.08.2001-003-SS-2.
ITEM_ID = re.compile(r"(\d{2}\.\d{2}\.\d{2}\.\d{4}-\d{3})-([A-Z0-9]{2,12})(-\d{1,4})?")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_log_custodian", "log_id", "custodian"),
        # The dispatches awaiting their receive, for the "not received in time" rule
        # (dispatched_at is set only while in transit). Status itself is not indexed, and
        # pages keep room, so that a scan which moves neither custody nor a dispatch
        # updates the row in place (a PostgreSQL HOT update: no index entries): under
        # the log's lock the item updates were a batch's largest cost.
        Index("ix_items_in_transit", "dispatched_at", postgresql_where=text("dispatched_at IS NOT NULL"),
              sqlite_where=text("dispatched_at IS NOT NULL")),
        # The boxes on the road per truckload, for the convoy picture: changed only when
        # dispatched_at is (a dispatch or a receive), so no other scan touches it.
        Index("ix_items_on_road", "log_id", "dispatch_handoff", postgresql_where=text("dispatched_at IS NOT NULL"),
              sqlite_where=text("dispatched_at IS NOT NULL")),
        {"postgresql_with": {"fillfactor": 50}},  # see migration 0010
    )

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind))
    contest: Mapped[str | None] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(12))  # the id's contest or kind code: BUP, SS...
    destination: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus))
    leg: Mapped[Leg] = mapped_column(_enum(Leg))
    custodian: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    seals: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The dispatch awaiting its receive, while in transit.
    dispatch_event: Mapped[str | None] = mapped_column(String(64))
    dispatch_to: Mapped[str | None] = mapped_column(String(32))
    dispatch_seals: Mapped[list[str] | None] = mapped_column(JSON)
    dispatch_handoff: Mapped[str | None] = mapped_column(String(64))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where and when a scan last placed it, and that scan's entry (impossible travel).
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seen_lat: Mapped[float | None] = mapped_column(Float)
    seen_lon: Mapped[float | None] = mapped_column(Float)
    seen_index: Mapped[int | None] = mapped_column(BigInteger)
    label_serial: Mapped[int] = mapped_column(Integer, default=0)
    label_jws: Mapped[str] = mapped_column(Text, default="")  # the current label's signature
    registered_index: Mapped[int] = mapped_column(BigInteger)
    last_index: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def parse_item_id(item_id: str) -> tuple[str, str]:
    """(destination TPS, contest or kind code) of a well-formed item id."""
    match = ITEM_ID.fullmatch(item_id)
    if match is None:
        raise InvalidRequest(
            f"{item_id!r} is not an item id: expected the TPS code, a contest or kind code "
            "and an optional number, like 53.03.08.2001-003-BUP"
        )
    return match.group(1), match.group(2)


def log_of_item(item_id: str) -> str:
    destination, _ = parse_item_id(item_id)
    return regency_of(destination)


def get_item(session: Session, item_id: str) -> Item:
    item = session.get(Item, (log_of_item(item_id), item_id))
    if item is None:
        raise NotFound(f"there is no item {item_id}", code="item_not_found")
    return item



@dataclass(frozen=True)
class ItemSpec:
    """What registering an item needs; the id follows from destination and code."""

    kind: ItemKind
    destination: str
    code: str  # the contest (BUP, GUB, PPWP, DPD...) or a kind code (SS, FORM...)
    contest: str | None = None
    serial: int | None = None

    @property
    def id(self) -> str:
        return f"{self.destination}-{self.code}" + (f"-{self.serial}" if self.serial else "")


def new_item(log_id: str, item_id: str, kind: ItemKind, contest: str | None, destination: str) -> Item:
    """A newly registered item: in the KPU's warehouse, on its way out."""
    return Item(
        log_id=log_id,
        id=item_id,
        kind=kind,
        contest=contest,
        code=parse_item_id(item_id)[1],
        destination=destination,
        status=ItemStatus.REGISTERED,
        leg=Leg.OUTBOUND,
        custodian=log_id,
        seals=[],
    )


def label_payload(item: Item, serial: int, issued_at: datetime) -> dict[str, object]:
    """What a label signs: enough for a phone to know the box without a network."""
    return {
        "item": item.id,
        "kind": item.kind.value,
        "contest": item.contest,
        "dst": item.destination,
        "n": serial,
        "iat": int(issued_at.timestamp()),
    }


class _Labels:
    """Signs labels for one log, publishing its label key in the log first if needed."""

    def __init__(self, batch: Batch, key: Ed25519PrivateKey) -> None:
        self.batch = batch
        self.key = key
        self.kid = jws.thumbprint(key.public_key())
        self.publishing = False  # whether this request's first entry publishes the key

    def key_entries(self, actor: Actor) -> list[NewEntry]:
        # Keys published by an earlier request of this batch are not in the table yet.
        in_batch = self.batch.state(LabelKeysInBatch)
        row = self.batch.session.get(LabelKey, (self.batch.log.id, self.kid))
        if self.kid in in_batch.retiring or (row is not None and row.retired_index is not None):
            raise LabelKeyRetired(f"label key {self.kid} of log {self.batch.log.id} was just rotated: try again")
        if self.kid in in_batch.published or row is not None:
            return []
        in_batch.published.add(self.kid)
        self.publishing = True
        raw = self.key.public_key().public_bytes_raw()
        return [NewEntry({"type": "label_key", "kid": self.kid, "key": b64(raw), "alg": "EdDSA", **actor.fields()})]

    def abandon(self) -> None:
        """The request failed: a later one in the batch must publish the key itself."""
        if self.publishing:
            self.batch.state(LabelKeysInBatch).published.discard(self.kid)

    def issue(self, item: Item, serial: int, actor: Actor) -> NewEntry:
        token = jws.sign(label_payload(item, serial, self.batch.received_at), self.key, {"typ": LABEL_TYPE})
        item.label_serial = serial
        item.label_jws = token
        record: dict[str, object] = {
            "type": "label",
            "serial": serial,
            "kid": self.kid,
            "jws_sha256": hashlib.sha256(token.encode()).hexdigest(),
            **actor.fields(),
        }
        if serial > 1:
            record["revokes"] = serial - 1  # reprinting revokes the label before
        return NewEntry(record, item=item.id)

    def finish(self, results: list[Appended | Refused]) -> None:
        if not self.publishing:
            return
        first = results[0]
        assert isinstance(first, Appended)
        raw = self.key.public_key().public_bytes_raw()
        self.batch.session.add(
            LabelKey(log_id=self.batch.log.id, kid=self.kid, public_key=raw, published_index=first.index)
        )


LABEL_TYPE = "jejak-label+jws"


# The item columns the rules read and write; the rest of the row is not theirs.
_READ_COLUMNS = ("id", "destination", "label_serial")
STATE_COLUMNS = (
    "status", "leg", "custodian", "seals", "dispatch_event", "dispatch_to",
    "dispatch_seals", "dispatch_handoff", "dispatched_at", "last_index",
    "seen_at", "seen_lat", "seen_lon", "seen_index",
)  # fmt: skip


def item_states(session: Session, log_id: str, *where: Any) -> dict[str, ItemState]:
    """The custody states, as the rules read them, of the log's items that match `where`."""
    table = Item.__table__
    columns = [table.c[name] for name in (*_READ_COLUMNS, *STATE_COLUMNS)]
    query = select(*columns).where(table.c.log_id == log_id, *where)
    return {row.id: ItemState(*row) for row in session.execute(query)}


class ItemsInBatch(dict[str, ItemState]):
    """Items' custody states as a batch's works have read or left them so far (a
    Batch.state): ahead of the database, where they are written once every request has
    finished, so a later work of the batch reads them here first."""

    def __init__(self, batch: Batch) -> None:
        super().__init__()


@dataclass
class ItemRegistration:
    """Work: register items (all or none) and issue each its first label."""

    specs: list[ItemSpec]
    actor: Actor
    label_key: Ed25519PrivateKey
    items: list[Item] = field(default_factory=list)
    _owners: list[str | None] = field(default_factory=list)  # the item of each entry

    def prepare(self, batch: Batch) -> list[NewEntry]:
        ids = [spec.id for spec in self.specs]
        if len(set(ids)) != len(ids):
            raise InvalidRequest("the same item is listed twice")
        existing = batch.session.scalars(
            select(Item.id).where(Item.log_id == batch.log.id, one_of(batch.session, Item.id, ids))
        ).all()
        if existing:
            raise Conflict(f"already registered: {', '.join(sorted(existing)[:10])}")
        self._labels = _Labels(batch, self.label_key)
        entries = self._labels.key_entries(self.actor)
        self._owners = [None] * len(entries)
        for spec in self.specs:
            item = new_item(batch.log.id, spec.id, spec.kind, spec.contest, spec.destination)
            self.items.append(item)
            record = {
                "type": "register",
                "kind": spec.kind.value,
                "contest": spec.contest,
                "destination": spec.destination,
                **self.actor.fields(),
            }
            entries += [NewEntry(record, item=spec.id), self._labels.issue(item, 1, self.actor)]
            self._owners += [spec.id, spec.id]
        return entries

    def abandon(self, batch: Batch) -> None:
        if hasattr(self, "_labels"):
            self._labels.abandon()

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> list[Item]:
        self._labels.finish(results)
        indexes: dict[str, list[int]] = {}
        for owner, result in zip(self._owners, results, strict=True):
            if owner is not None and isinstance(result, Appended):
                indexes.setdefault(owner, []).append(result.index)
        for item in self.items:
            item.registered_index, item.last_index = indexes[item.id][0], indexes[item.id][-1]
            batch.session.add(item)
        kits.register(batch.session, batch.log.id, ((i.destination, i.code) for i in self.items))
        return self.items


@dataclass
class LabelReprint:
    """Work: a new label for an item; the entry revokes the one before."""

    item_id: str
    actor: Actor
    label_key: Ed25519PrivateKey

    def prepare(self, batch: Batch) -> list[NewEntry]:
        item = batch.session.get(Item, (batch.log.id, self.item_id))
        if item is None:
            raise NotFound(f"there is no item {self.item_id}", code="item_not_found")
        self.item = item
        self._labels = _Labels(batch, self.label_key)
        return [*self._labels.key_entries(self.actor), self._labels.issue(item, item.label_serial + 1, self.actor)]

    def abandon(self, batch: Batch) -> None:
        if hasattr(self, "_labels"):
            self._labels.abandon()

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Item:
        self._labels.finish(results)
        last = results[-1]
        assert isinstance(last, Appended)
        self.item.last_index = last.index
        return self.item


def list_items(
    session: Session,
    *,
    jurisdiction: str,
    site: str | None,
    status: ItemStatus | None,
    custodian: str | None,
    contest: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[Item]:
    """Items whose destination lies in the jurisdiction (and under `site`), by log and id."""
    query = select(Item).order_by(Item.log_id, Item.id).limit(limit)
    for area in (jurisdiction, site):
        if area:
            query = query.where(under(Item.destination, area))
    if status is not None:
        query = query.where(Item.status == status)
    if custodian is not None:
        query = query.where(Item.custodian == custodian)
    if contest is not None:
        query = query.where(Item.contest == contest)
    if after is not None:
        query = query.where(tuple_(Item.log_id, Item.id) > tuple_(*after))
    return list(session.scalars(query))


def bound_for(session: Session, site: str, *, limit: int) -> list[Item]:
    """The items whose destination is `site` or lies below it, in id order (so by TPS)."""
    query = select(Item).where(Item.log_id == regency_of(site), under(Item.destination, site))
    return list(session.scalars(query.order_by(Item.id).limit(limit)))


@dataclass(frozen=True)
class TrailEntry:
    index: int
    leaf_hash: bytes
    data: bytes
    proof: list[bytes] | None  # None while the entry is newer than the latest checkpoint


_LATEST = (
    select(LogCheckpoint.tree_size, LogCheckpoint.note)
    .where(LogCheckpoint.log_id == bindparam("log"))
    .order_by(LogCheckpoint.tree_size.desc())
    .limit(1)
    .subquery()
)
# Built once: building it per read was a tenth of a public read's time under load.
_TRAIL = (
    select(_LATEST.c.tree_size, _LATEST.c.note, LogEntry.idx, LogEntry.leaf_hash, LogEntry.data)
    .select_from(_LATEST)
    .outerjoin(LogEntry, (LogEntry.log_id == bindparam("log")) & (LogEntry.item_id == bindparam("item")))
    .order_by(LogEntry.seq)
)


def trail_rows(session: Session, item_id: str) -> tuple[LogCheckpoint, list[tuple[int, bytes, bytes]]]:
    """The log's latest checkpoint and the item's entries (index, leaf hash, bytes) in
    chain order, in one statement: one snapshot, so the checkpoint covers no entry the
    reader has not seen, and one round trip. Read by the item's id alone (every item has
    its registration entry: none means no such item). Entries never change, so their
    indexes and the checkpoint's size determine a trail."""
    log_id = log_of_item(item_id)
    rows = session.connection().execute(_TRAIL, {"log": log_id, "item": item_id}).all()
    if not rows:
        raise NotFound(f"log {log_id} has no checkpoint yet")
    if rows[0].idx is None:
        raise NotFound(f"there is no item {item_id}", code="item_not_found")
    checkpoint = LogCheckpoint(log_id=log_id, tree_size=rows[0].tree_size, note=rows[0].note)
    return checkpoint, [(idx, leaf, data) for _, _, idx, leaf, data in rows]


# Built once, as _TRAIL is: what the page shows of the item (its columns, not an ORM
# object: a third of the read's time), its entries, and the names of the four places on
# the route its id names (KPU, PPK, PPS, TPS: route0..route3), where nearly all of its
# trail happens.
_SHOWN = (Item.id, Item.log_id, Item.status, Item.custodian, Item.dispatch_to, Item.destination)
_ROUTE_NAMES = [select(Site.name).where(Site.code == bindparam(f"route{n}")).scalar_subquery() for n in range(4)]
_ITEM_AND_TRAIL = (
    select(*_SHOWN, LogEntry.idx, LogEntry.data, *_ROUTE_NAMES)
    .outerjoin(LogEntry, (LogEntry.log_id == Item.log_id) & (LogEntry.item_id == Item.id))
    .where(Item.log_id == bindparam("log"), Item.id == bindparam("item"))
    .order_by(LogEntry.seq)
)


@dataclass(frozen=True)
class ItemTrail:
    """What the public check page shows before the browser has checked it: the item (its
    id, log_id, status, custodian, dispatch_to and destination), its entries in chain
    order (decoded, with their log indexes) and the names of the places on its route and
    in its trail, by code."""

    item: Row[Any]
    records: list[tuple[int, dict[str, Any]]]
    places: dict[str, str]


def item_trail(session: Session, item_id: str) -> ItemTrail:
    """An item's trail and its places' names: one round trip, and a second only for a place
    off the route its id names (a box taken elsewhere)."""
    destination, _ = parse_item_id(item_id)
    route = route_to(destination)
    known = {f"route{n}": code for n, code in enumerate(route)}
    params = {"log": regency_of(destination), "item": item_id, **known}
    rows = session.connection().execute(_ITEM_AND_TRAIL, params).all()
    if not rows:
        raise NotFound(f"there is no item {item_id}", code="item_not_found")
    item = rows[0]
    records = [(row.idx, json.loads(row.data)) for row in rows if row.idx is not None]
    places = {code: name for code, name in zip(route, item[-4:], strict=True) if name is not None}
    named = {*route_to(item.destination), item.custodian, item.dispatch_to or item.custodian}
    for _, record in records:
        scan = record.get("scan") or {}
        named.update(c for c in (scan.get("site"), scan.get("counterparty"), record.get("site")) if c)
    if elsewhere := named - set(route):
        places |= site_names(session, elsewhere)
    return ItemTrail(item, records, places)


def prove(
    session: Session, tiles: TileStore, checkpoint: LogCheckpoint, rows: Iterable[tuple[int, bytes, bytes]]
) -> list[TrailEntry]:
    """Entries (index, leaf hash, bytes) of the checkpoint's log, each with its inclusion
    proof against it; read the checkpoint before the entries, so that it covers none the
    reader has not seen."""
    size, log_id = checkpoint.tree_size, checkpoint.log_id
    return [
        TrailEntry(idx, leaf, data, tiles.inclusion_proof(session, log_id, idx, size) if idx < size else None)
        for idx, leaf, data in rows
    ]


MAX_ITEMS_PER_REQUEST = 1000


def register_items(
    databases: LogDatabases, keys: KeyStore, sequencer: Sequencer, actor: Actor, specs: list[ItemSpec]
) -> list[Item]:
    """Register items of one regency, all or none, each with its first label."""
    if not 0 < len(specs) <= MAX_ITEMS_PER_REQUEST:
        raise InvalidRequest(f"register 1 to {MAX_ITEMS_PER_REQUEST} items per request")
    for spec in specs:
        parse_item_id(spec.id)
    regencies = {regency_of(spec.destination) for spec in specs}
    if len(regencies) != 1:
        raise InvalidRequest("register the items of one regency (one log) per request")
    log_id = regencies.pop()
    destinations = sorted({spec.destination for spec in specs})
    with databases.for_log(log_id).reads() as session:
        known = set(session.scalars(select(Site.code).where(one_of(session, Site.code, destinations))))
    if missing := [d for d in destinations if d not in known]:
        raise InvalidRequest(f"no such polling station: {', '.join(missing[:10])}")
    work = ItemRegistration(specs, actor, keys.label_key(log_id))
    items: list[Item] = sequencer.submit(log_id, work, 2 * len(specs) + 1)
    return items


def reprint_label(keys: KeyStore, sequencer: Sequencer, actor: Actor, item: Item) -> Item:
    work = LabelReprint(item.id, actor, keys.label_key(item.log_id))
    reprinted: Item = sequencer.submit(item.log_id, work, 2)
    return reprinted


def label_url(public_url: str, item: Item) -> str:
    """What the QR code holds: the public check page (under JEJAK_PUBLIC_URL), the
    signature in the fragment (never sent to the server, checked on the phone)."""
    return f"{public_url.rstrip('/')}/v/{item.id}#{item.label_jws}"
