"""Rebuilding a server's database from a copy of its log: the answer to a burned office.

Everything the service knows about custody follows from its log, so a mirror (or an
export bundle) is enough to bring a log back: its entries are stored again exactly as
they were, the tree and checkpoints with them, and the tables derived from the
entries (devices, label keys, items, custody events, handoffs, alerts) are rebuilt by
replaying each entry through the same code that wrote them the first time, taking the
custody flags the log recorded rather than judging again.

What a log deliberately does not hold has to come from elsewhere: the sites (import
the wilayah and TPS files first), the signing keys (from the operator's key backup:
the restored log must go on signing with the key its verifiers pin), and people's
accounts (entries name actors by opaque id only; each actor comes back as a disabled
placeholder account so history stays attached to it)."""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger import jws
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.merkle import leaf_hash
from ledger.note import Note, NoteError, Verifier, parse_note
from ledger.rotation import LOG_KEY, handover_size
from ledger.tiles import TreeEdge
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts.actor import Actor, Role

from models.accounts.users import stand_in
from models.core.errors import Conflict, Forbidden, InvalidRequest
from models.core.times import parse_time
from models.custody.alerts import Alert, AlertAcknowledgement, new_alert
from models.custody.devices import Device, DeviceRegistration, DeviceRevocation
from models.custody.completeness import recount
from models.custody.handoffs import Handoff, HandoffClose
from models.custody.items import LABEL_TYPE, Item, ItemKind, label_payload, new_item
from models.custody.labels import LabelKey
from models.custody.rules import ATTESTATIONS, Reckoning, Rules
from models.custody.scans import Scan, ScanType, parse_scan
from models.custody.stocktakes import StocktakeClose
from models.custody.work import CustodyWork, SignedScan, rules_of
from models.core.routing import LogDatabases
from models.core.settings import Settings
from models.log.keys import KeyStore
from models.log.reads import origin_for
from models.log.sequencer import Appended, Batch, Refused, store_entries
from models.log.tables import Log, LogCheckpoint, LogEntry, RetiredLogKey
from models.log.witnesses import Witness, accept_cosignatures
from models.places.sites import Site

SCAN_TYPES = frozenset(t.value for t in ScanType)


class RestoreError(InvalidRequest):
    """The copy cannot be restored as it is; nothing was written."""


@dataclass
class Restored:
    log_id: str
    size: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    items: int = 0
    devices: int = 0
    events: int = 0
    actors: set[uuid.UUID] = field(default_factory=set)
    labels_to_reprint: list[str] = field(default_factory=list)  # no label key here to re-sign them
    unknown_witnesses: set[str] = field(default_factory=set)  # cosigned, but not configured here


@dataclass(frozen=True)
class _Entry:
    index: int
    record: dict[str, Any]
    received_at: datetime
    appended: Appended


def restore_log(
    databases: LogDatabases,
    keys: KeyStore,
    witnesses: Sequence[Witness],
    settings: Settings,
    info: dict[str, Any],
    notes: Sequence[str],
    bundles: Iterable[list[bytes]],
    progress: Callable[[int, int], None] | None = None,
) -> Restored:
    """Restore the log `info` describes ({"log", "origin", "verifier_key", "retired_keys"})
    from its checkpoint notes and its entry bundles in order, in one transaction: all or
    nothing. Checkpoints signed before a key rotation verify with the key they name as
    retired, and only as far as the log's own `log_key` entries retired it. The keys
    directory must hold the log's key; cosignatures by the configured `witnesses` are
    kept; the settings name the log's origin and the custody rules' limits."""
    log_id, origin, vkey = info["log"], info["origin"], info["verifier_key"]
    verifiers = [Verifier.from_vkey(k) for k in [vkey, *(r["verifier_key"] for r in info.get("retired_keys", []))]]
    if origin_for(settings.host, log_id) != origin:
        raise RestoreError(
            f"this server names the log {origin_for(settings.host, log_id)}, the copy is of {origin}: "
            f"set JEJAK_HOST to {origin.removesuffix('/log/' + log_id)}"
        )
    # The keys directory must hold the log's own key, from the operator's key backup: a
    # new one would sign checkpoints no verifier accepts (so none is ever created here).
    if not keys.log_key_path(log_id).exists():
        raise RestoreError(
            f"there is no key for log {log_id} at {keys.log_key_path(log_id)}: "
            "put back the key file from your key backup first"
        )
    if keys.log_signer(log_id, origin).vkey != vkey:
        raise RestoreError(f"the key for log {log_id} in the keys directory is not the one its checkpoints are signed with")
    checkpoints = _opened(notes, verifiers)
    if not checkpoints:
        raise RestoreError("the copy holds no checkpoint")
    latest = checkpoints[-1][0]
    if checkpoints[-1][2] != vkey:
        raise RestoreError(f"the copy's latest checkpoint is not signed by the log's key {vkey}")
    report = Restored(log_id)
    with databases.for_log(log_id).session(write=True) as session:
        log = session.get(Log, log_id)
        if log is None:
            log = Log(id=log_id, origin=origin, verifier_key=vkey, size=0)
            session.add(log)
            session.flush()
        elif log.size or log.verifier_key != vkey:
            # Importing the sites creates each regency's empty log: that one is reused.
            raise Conflict(f"log {log_id} exists here already with entries or another key: restore into a fresh database")
        replay = _Replay(session, log, report, rules_of(settings), keys.label_keys(log_id))
        edge = TreeEdge.empty()
        roots = {c.size: c.root for c, _, _ in checkpoints}
        _check_root(edge, roots)
        for entries in bundles:
            parsed = [_parse(data, edge.size + i, log_id, origin) for i, data in enumerate(entries)]
            # Stop at each checkpoint's size on the way, to check the root it signed.
            cuts = sorted(size - edge.size for size in roots if 0 < size - edge.size < len(parsed))
            start = 0
            for stop in [*cuts, len(parsed)]:
                store_entries(session, log_id, edge, [row for row, _ in parsed[start:stop]])
                _check_root(edge, roots)
                start = stop
            replay.run([entry for _, entry in parsed])
            if progress is not None:
                progress(edge.size, latest.size)
        if edge.size != latest.size:
            raise RestoreError(f"the copy holds {edge.size} entries, its checkpoint says {latest.size}")
        replay.close()
        for checkpoint, note, key in checkpoints:
            if key != vkey and checkpoint.size > handover_size(replay.retired_log_keys.get(key, -1)):
                raise RestoreError(f"the checkpoint of size {checkpoint.size} is signed by {key}, which the log does not retire after it")
            _store_checkpoint(witnesses, session, log, checkpoint, note, report)
        report.size = edge.size
    return report


def _opened(notes: Sequence[str], verifiers: Sequence[Verifier]) -> list[tuple[Checkpoint, Note, str]]:
    """Every checkpoint the copy holds, each verified, by size; one per size; with the
    key that verified it, the log's current one if it did."""
    by_size: dict[int, tuple[Checkpoint, Note, str]] = {}
    for text in notes:
        for verifier in verifiers:
            try:
                checkpoint, _ = open_checkpoint(text, verifier)
                break
            except (NoteError, ValueError) as error:
                failure = error
        else:
            raise RestoreError(f"a checkpoint of the copy does not verify with the log's keys: {failure}")
        held = by_size.get(checkpoint.size)
        if held is not None and held[0].root != checkpoint.root:
            raise RestoreError(f"the copy holds two different checkpoints of size {checkpoint.size}: the log forked")
        by_size[checkpoint.size] = (checkpoint, parse_note(text), verifier.vkey)
    return [by_size[size] for size in sorted(by_size)]


def _check_root(edge: TreeEdge, roots: dict[int, bytes]) -> None:
    if edge.size in roots and edge.root() != roots[edge.size]:
        raise RestoreError(f"the entries do not make the root of the checkpoint at size {edge.size}")


def _parse(data: bytes, index: int, log_id: str, origin: str) -> tuple[dict[str, Any], _Entry]:
    """An entry's row for log_entries and what the replay needs of it."""
    try:
        record = orjson.loads(data)
        received_at = parse_time(record["received_at"])
        if record["log"] != origin:
            raise ValueError(f"it belongs to {record['log']}")
    except (ValueError, KeyError, TypeError) as error:
        raise RestoreError(f"entry {index} is not an entry of this log: {error}") from error
    leaf = leaf_hash(data)
    key = record.get("event_id") if record.get("type") in SCAN_TYPES else None
    row = {
        "log_id": log_id,
        "idx": index,
        "leaf_hash": leaf,
        "data": data,
        "item_id": record.get("item"),
        "seq": record.get("seq"),
        "key": key,
        "received_at": received_at,
    }
    appended = Appended(index, leaf, data, record.get("seq"), received_at)
    return row, _Entry(index, record, received_at, appended)


def _store_checkpoint(
    witnesses: Sequence[Witness], session: Session, log: Log, checkpoint: Checkpoint, note: Note, report: Restored
) -> None:
    """The log's own signature goes to log_checkpoints; cosignatures by witnesses this
    server is configured with are checked and kept, others are reported."""
    own = [s for s in note.signatures if s.name == log.origin]
    others = [s for s in note.signatures if s.name != log.origin]
    if session.get(LogCheckpoint, (log.id, checkpoint.size)) is None:  # the empty log's is there
        session.add(
            LogCheckpoint(
                log_id=log.id,
                tree_size=checkpoint.size,
                root_hash=checkpoint.root,
                note=Note(note.text, own).encode(),
            )
        )
        session.flush()
    report.checkpoints += 1
    configured = {w.name for w in witnesses}
    report.unknown_witnesses |= {s.name for s in others if s.name not in configured}
    if any(s.name in configured for s in others):
        try:
            _, names = accept_cosignatures(session, log, note.encode(), witnesses)
        except Forbidden as error:
            raise RestoreError(f"a cosignature on the checkpoint of size {checkpoint.size} does not verify: {error}") from error
        report.cosignatures += len(names)


class _Replay:
    """Rebuilds the tables derived from entries, entry by entry, in log order."""

    def __init__(
        self, session: Session, log: Log, report: Restored, rules: Rules, label_keys: dict[str, Ed25519PrivateKey]
    ) -> None:
        self.session = session
        self.log = log
        self.report = report
        # The limits in force: the log's last `rules` entry; a log from before those
        # entries was judged by limits it did not record, taken as this server's.
        self.rules = rules
        self._recorded: dict[str, Any] | None = None  # that entry's limits
        self._missing: list[_Entry] = []  # a handoff's "missing" entries, until its closing
        # Like the log key, label keys (current and retired) are only used if the key
        # backup brought them back.
        self._label_keys = label_keys
        self.retired_log_keys: dict[str, int] = {}  # verifier key → index of the log_key entry
        # Each box's latest scan that may have placed it, as the log alone shows it: the
        # earlier end of an impossible_travel alert when the sites here lack coordinates
        # the original had (areas' coordinates are in no import file).
        self._placed: dict[str, tuple[datetime, int]] = {}  # item → (observed, entry index)

    def run(self, entries: list[_Entry]) -> None:
        scans: list[_Entry] = []
        for entry in entries:
            if entry.record.get("type") in SCAN_TYPES:
                if scans and not _same_batch(scans[-1], entry):
                    self._scans(scans)
                    scans = []
                scans.append(entry)
                continue
            if scans:
                self._scans(scans)
                scans = []
            self._other(entry)
        if scans:
            self._scans(scans)

    def close(self) -> None:
        if self._missing:
            raise RestoreError(f"entry {self._missing[0].index} reports a missing item of a handoff never closed")
        # The next scans record this server's limits unless the log's last entry has them.
        self.log.rules = self._recorded
        self.session.flush()
        recount(self.session, self.log.id)  # the kits, from the items the log rebuilt

    def _batch(self, entry: _Entry, works: list[Any]) -> Batch:
        return Batch(self.session, self.log, entry.received_at, works=works)

    def _actor(self, record: dict[str, Any]) -> Actor:
        """The entry's actor; an account not here yet comes back as a disabled placeholder."""
        actor = Actor(uuid.UUID(record["actor"]), Role(record["role"]), self.log.id)
        if actor.id not in self.report.actors:
            self.report.actors.add(actor.id)
            stand_in(
                self.session, actor, f"restored-{actor.id.hex[:12]}", self.log.id,
                "restored: no password until an admin sets one",
            )
        return actor

    def _scans(self, entries: list[_Entry]) -> None:
        """One actor's scans of one original batch, through the custody rules' own
        bookkeeping, with the flags the log recorded."""
        first = entries[0]
        signed = [self._signed(e.record) for e in entries]
        work = CustodyWork(signed, self._actor(first.record), self.rules)
        self.log.rules = self.rules.record()  # recorded already, if at all: no entry is planned
        batch = self._batch(first, [work])
        self._require_sites(batch, {s.scan.site for s in signed} | {s.scan.counterparty for s in signed if s.scan.counterparty})
        planned = work.prepare(batch)
        refused = [p for p in planned if isinstance(p, Refused)]
        if refused:
            raise RestoreError(f"entry {first.index}: the restored state refuses a logged scan: {refused[0]}")
        work.use_recorded_flags([e.record.get("flags", []) for e in entries])
        work.use_recorded_earlier(self._placing([s.scan for s in signed], entries))
        work.finish(batch, [e.appended for e in entries])
        batch.write_collected()
        self.report.events += len(entries)

    def _signed(self, record: dict[str, Any]) -> SignedScan:
        """A logged scan as it was taken in; an escort's with the NRP of the phone that signed it."""
        scan = parse_scan(record["scan"])
        nrp = None
        if scan.type in ATTESTATIONS:
            nrp = self.session.get_one(Device, (self.log.id, scan.device)).nrp
        return SignedScan(scan, record["scan"], record["sig"], nrp)

    def _placing(self, scans: list[Scan], entries: list[_Entry]) -> list[int | None]:
        """For each scan, the entry of the box's latest scan before it that placed the
        box if its site had coordinates: as the custody rules place a box (a correction
        a stock-take's or an escort's scan never does, an older scan synced late neither), whatever the
        sites here say."""
        earlier: list[int | None] = []
        for scan, entry in zip(scans, entries, strict=True):
            last = self._placed.get(scan.item) if scan.item else None
            earlier.append(last[1] if last else None)
            places = scan.type not in (ScanType.CORRECTION, ScanType.STOCKTAKE) and scan.type not in ATTESTATIONS
            if scan.item and places and (last is None or scan.observed >= last[0]):
                self._placed[scan.item] = (scan.observed, entry.index)
        return earlier

    def _require_sites(self, batch: Batch, codes: set[str]) -> None:
        found = set(self.session.scalars(select(Site.code).where(Site.code.in_(sorted(codes)))))
        if missing := sorted(codes - found):
            raise RestoreError(
                f"sites {', '.join(missing[:10])} are not in this database: import the regency's "
                "areas (jejak sites import) and polling stations (jejak sites import-tps) first"
            )

    def _other(self, entry: _Entry) -> None:
        record, kind = entry.record, entry.record.get("type")
        if kind == "device_register":
            DeviceRegistration(
                self.log.id, self._actor(record), base64.b64decode(record["key"]), "", record["device"],
                record.get("nrp"),
            ).finish(self._batch(entry, []), [entry.appended])
            self.report.devices += 1
        elif kind == "device_revoke":
            device = self.session.get_one(Device, (self.log.id, record["device"]))
            DeviceRevocation(device, self._actor(record)).finish(self._batch(entry, []), [entry.appended])
        elif kind == "label_key":
            self.session.add(
                LabelKey(
                    log_id=self.log.id,
                    kid=record["kid"],
                    public_key=base64.b64decode(record["key"]),
                    published_index=entry.index,
                    published_at=entry.received_at,
                )
            )
            if "retires" in record:
                self.session.get_one(LabelKey, (self.log.id, record["retires"])).retired_index = entry.index
        elif kind == LOG_KEY:
            self.session.add(
                RetiredLogKey(
                    log_id=self.log.id,
                    retired_index=entry.index,
                    verifier_key=record["retires"],
                    retired_at=entry.received_at,
                )
            )
            self.retired_log_keys[record["retires"]] = entry.index
        elif kind == "register":
            self._actor(record)
            self._require_sites(self._batch(entry, []), {record["destination"]})
            item = new_item(self.log.id, record["item"], ItemKind(record["kind"]), record["contest"], record["destination"])
            item.registered_index = item.last_index = entry.index
            self.session.add(item)
            self.session.flush()
            self.report.items += 1
        elif kind == "label":
            self._label(entry)
        elif kind == "missing":
            self._missing.append(entry)
        elif kind == "handoff_close":
            handoff = self.session.get_one(Handoff, (self.log.id, record["handoff"]))
            missing, self._missing = self._missing, []
            close = HandoffClose(record["handoff"], self._actor(record), handoff, record["missing"])
            close.finish(self._batch(entry, []), [m.appended for m in missing] + [entry.appended])
        elif kind == "stocktake_close":
            recorded = Reckoning(record["found"], record["missing"], record["unexpected"])
            close = StocktakeClose(record["stocktake"], self._actor(record), recorded)
            batch = self._batch(entry, [])
            close.prepare(batch)  # the closing as recorded: nothing reckoned here
            close.finish(batch, [entry.appended])
        elif kind == "alert_ack":
            self._acknowledge(entry)
        elif kind == "rules":
            self.rules = Rules.of_record(record)
            self._recorded = self.rules.record()
        else:
            raise RestoreError(f"entry {entry.index} is of a type this server does not know: {kind!r}")

    def _acknowledge(self, entry: _Entry) -> None:
        """The acknowledged alert takes back the id the acknowledgement names. An alert
        raised by the timer has no entry of its own: it comes back from its acknowledgement."""
        record = entry.record
        open_alerts = self.session.scalars(
            select(Alert)
            .where(Alert.log_id == self.log.id, Alert.rule == record["rule"], Alert.acked_at.is_(None))
            .order_by(Alert.created_at)
        )
        alert = next((a for a in open_alerts if list(a.evidence) == record["evidence"]), None)
        if alert is None:
            evidence = record["evidence"]
            item = self.session.scalar(
                select(LogEntry.item_id).where(LogEntry.log_id == self.log.id, LogEntry.idx == evidence[0])
            ) if evidence else None
            alert = new_alert(self.log.id, record["rule"], item_id=item, detail="restored from its acknowledgement",
                              evidence=evidence, created_at=entry.received_at)
            self.session.add(alert)
        alert.id = uuid.UUID(record["alert"])
        self.session.flush()
        work = AlertAcknowledgement(self.log.id, alert.id, self._actor(record), record["reason"])
        work.alert = alert
        work.finish(self._batch(entry, []), [entry.appended])

    def _label(self, entry: _Entry) -> None:
        """The item's current label. Ed25519 is deterministic, so with the same label key
        the label is signed again byte for byte, and its hash in the log proves it."""
        record = entry.record
        item = self.session.get_one(Item, (self.log.id, record["item"]))
        item.label_serial = record["serial"]
        item.last_index = entry.index
        item.label_jws = ""
        key = self._label_keys.get(record["kid"])
        if key is not None:
            token = jws.sign(label_payload(item, record["serial"], entry.received_at), key, {"typ": LABEL_TYPE})
            if hashlib.sha256(token.encode()).hexdigest() == record["jws_sha256"]:
                item.label_jws = token
        if not item.label_jws:
            self.report.labels_to_reprint.append(item.id)


def _same_batch(before: _Entry, entry: _Entry) -> bool:
    """Whether two scans were integrated in one request of one actor."""
    return (
        before.received_at == entry.received_at
        and before.record.get("actor") == entry.record.get("actor")
        and before.index + 1 == entry.index
    )
