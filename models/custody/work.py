"""Signed scans judged and recorded: the sequencer's work for custody.

Authenticity failures are refused (the scan never enters the log). Custody
irregularities are evidence: the scan enters the log with the flags the rules
(models/custody/rules.py) found, and each flag raises an alert. Rules run under the
log's lock, so scans of one box are judged in the order they enter its log, whatever
process received them (a request's boxes may be read before it, and are read again
under it if an entry has changed them since)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from collections.abc import Mapping
from typing import Any, Literal

from ledger.jcs import Canonical, canonicalize
from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from models.core.base import utcnow
from models.core.bulk import BulkStatement, KeyedUpdate
from models.core.db import one_of
from models.custody.alerts import INSERT_ALERTS, alert_row
from models.custody.devices import Device
from models.custody.events import Event
from models.custody.rules import (
    ATTESTATIONS, Escorts, ItemState, Outcome, Rules, ScanType, Truckload, attest, attestation_refusal, guards,
    join_truckload, judge, stocktake_refusal, sync_order, truckload_refusal,
)  # fmt: skip
from models.accounts.actor import Actor
from models.core.settings import Settings
from models.custody.handoffs import Handoff, HandoffStatus
from models.custody.items import STATE_COLUMNS as _STATE_COLUMNS, Item, ItemsInBatch, item_states
from models.custody.kits import ReachedTally
from models.custody.refusals import Refusal
from models.custody.scans import Scan
from models.custody.stocktakes import StocktakesInBatch
from models.custody.truckloads import manifest_digests
from models.log.sequencer import Appended, Batch, NewEntry, Refused
from models.log.tables import Log, LogEntry
from models.places.sites import Site

_IN_BATCH = 500  # ids per IN (...)


def rules_of(settings: Settings) -> Rules:
    """The rules' limits as the settings give them."""
    return Rules(
        late_after=timedelta(hours=settings.late_scan_hours),
        far_km=settings.far_from_site_km,
        max_kmh=settings.max_travel_kmh,
        return_deadline=settings.return_deadline,
        escort_required=settings.escort_required,
    )


@dataclass(frozen=True)
class SignedScan:
    scan: Scan
    raw: dict[str, Any]  # exactly as the device signed it
    sig: str
    # An escort's pickup or delivery: the NRP its phone was registered with (their account's).
    nrp: str | None = None

    @cached_property
    def canonical(self) -> Canonical:
        """What the device signed, made once for its signature and its log entry; a
        ValueError if the scan has no RFC 8785 form."""
        return Canonical(self.raw)


@dataclass
class ScanResult:
    event_id: str
    status: Literal["accepted", "duplicate", "conflict", "rejected"]
    reason: str | None = None  # a Refusal, when rejected or a conflict: it carries the code
    index: int | None = None
    leaf_hash: bytes | None = None
    flags: list[str] = field(default_factory=list)

    @property
    def reason_code(self) -> str | None:
        return self.reason.code if isinstance(self.reason, Refusal) else None


Reused = Literal["event_id", "device_seq"]


def _conflict(scan: Scan, index: int, reused: Reused) -> ScanResult:
    """The answer to a scan whose event_id or device_seq entry `index` already holds for
    another scan: nothing recorded, and the phone told so (a `duplicate` would hide it)."""
    used = f"event_id {scan.event_id}"
    if reused == "device_seq":
        used = f"device_seq {scan.device_seq} of device {scan.device}"
    why = Refusal(f"{reused}_reused", f"{used} was used for another scan, entry {index}; this scan was not recorded")
    return ScanResult(scan.event_id, "conflict", why, index=index)


@dataclass(frozen=True)
class _SameAs:
    """An answer naming a scan of this batch, whose entry index is known only in finish:
    a replay of it, or a conflict with it over what they share."""

    first: str  # its event id
    conflict: Reused | None = None

    @property
    def status(self) -> str:
        return "duplicate" if self.conflict is None else "conflict"

    def result(self, scan: Scan, first: ScanResult) -> ScanResult:
        assert first.index is not None
        if self.conflict is not None:
            return _conflict(scan, first.index, self.conflict)
        return ScanResult(scan.event_id, "duplicate", index=first.index, leaf_hash=first.leaf_hash, flags=first.flags)


@dataclass(frozen=True)
class _First:
    """The entry holding an event id already in the log: what a replay is answered."""

    leaf_hash: bytes
    scan: bytes  # the signed scan's RFC 8785 bytes, to tell a replay from a conflict
    flags: list[str]


def _load_firsts(session: Any, log_id: str, indexes: list[int]) -> dict[int, _First]:
    rows = _in(
        session, select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data).where(LogEntry.log_id == log_id),
        LogEntry.idx, indexes, scalars=False,
    )  # fmt: skip
    found = {}
    for index, leaf, data in rows:
        record = json.loads(data)
        found[index] = _First(leaf, canonicalize(record["scan"]), record.get("flags", []))
    return found


def _load_devices(session: Any, log_id: str, devices: list[str]) -> tuple[set[str], dict[str, int]]:
    """Of the batch's devices, those revoked, and each one's highest device_seq in the
    log: one round trip under the lock, where every one counts."""
    highest = (
        select(func.max(Event.device_seq))
        .where(Event.log_id == Device.log_id, Event.device_id == Device.id)
        .correlate(Device)
        .scalar_subquery()
    )
    query = select(Device.id, Device.revoked_at.is_not(None), highest).where(Device.log_id == log_id)
    rows = _in(session, query, Device.id, devices, scalars=False)
    return {device for device, revoked, _ in rows if revoked}, {d: seq for d, _, seq in rows if seq is not None}


def _load_numbers(
    session: Any, log_id: str, scans: list[Scan], keys: dict[str, int], highest: dict[str, int]
) -> dict[tuple[str, int], int]:
    """The entries holding the numbers that scans other than replays use again (read
    only for a number at or below its device's `highest`: a phone numbers its scans
    upwards)."""
    again = sorted(
        {(s.device, s.device_seq) for s in scans if s.device_seq <= highest.get(s.device, -1) and s.event_id not in keys}
    )
    numbered: dict[tuple[str, int], int] = {}
    for start in range(0, len(again), _IN_BATCH):
        query = select(Event.device_id, Event.device_seq, Event.entry_index).where(
            Event.log_id == log_id, tuple_(Event.device_id, Event.device_seq).in_(again[start : start + _IN_BATCH])
        )
        numbered |= {(device, seq): index for device, seq, index in session.execute(query)}
    return numbered


_ITEM = Item.__table__


def _load_items(session: Any, log_id: str, ids: list[str]) -> dict[str, ItemState]:
    found: dict[str, ItemState] = {}
    for start in range(0, len(ids), _IN_BATCH):
        found |= item_states(session, log_id, one_of(session, _ITEM.c.id, ids[start : start + _IN_BATCH]))
    return found


_UPDATE_ITEMS = KeyedUpdate(_ITEM, ["log_id", "id"], [*_STATE_COLUMNS, "updated_at"])
_INSERT_EVENTS = BulkStatement(
    insert(Event.__table__),
    ["log_id", "event_id", "entry_index", "item_id", "type", "site", "counterparty", "actor_id", "role",
     "device_id", "device_seq", "handoff_id", "observed_at", "received_at", "flags"],
    binary=True,
)  # fmt: skip


def _save_items(session: Any, log_id: str, items: list[ItemState]) -> None:
    """Write the rules' changes back (on PostgreSQL, one UPDATE for a batch of them)."""
    now = utcnow()
    rows = [
        {"log_id": log_id, "id": i.id, "updated_at": now, **{n: getattr(i, n) for n in _STATE_COLUMNS}}
        for i in items
    ]
    _UPDATE_ITEMS.execute(session.connection(), rows)


class _State:
    """The items, sites and events the batch's scans touch, loaded once per batch."""

    def __init__(self, batch: Batch) -> None:
        session, log_id = batch.session, batch.log.id
        works = [w for w in batch.works if isinstance(w, CustodyWork)]
        scans = [s.scan for w in works for s in w.scans]
        item_ids = sorted({s.item for s in scans if s.item})
        self.items = batch.state(ItemsInBatch)
        self.items |= _items_read_ahead(batch, works)
        self.items |= _load_items(session, log_id, [i for i in item_ids if i not in self.items])
        self.reached = ReachedTally()  # what the batch's moves change in the TPS' kits
        self.reached.before(self.items.values())
        # Only replays (their key is in the log already) and corrected events are read.
        self.keys = batch.keys
        replayed = sorted({batch.keys[s.event_id] for s in scans if s.event_id in batch.keys})
        self.firsts = _load_firsts(session, log_id, replayed)
        event_ids = sorted({s.ref for s in scans if s.ref})
        self.events = {
            e.event_id: e
            for e in _in(session, select(Event).where(Event.log_id == log_id), Event.event_id, event_ids)
        }
        # The phones: those revoked; their numbers, each one's highest in the log so far,
        # and the entry (or the event id of this batch's scan) holding each number the
        # batch's scans use again.
        self.revoked, self.highest = _load_devices(session, log_id, sorted({s.device for s in scans}))
        self.numbered: dict[tuple[str, int], int | str] = dict(
            _load_numbers(session, log_id, scans, batch.keys, self.highest)
        )
        # Sites are not in the log: read before the lock or under it, they are as current.
        self.sites = {code: site for w in works if w.ahead for code, site in w.ahead.sites.items()}
        self.sites |= _load_sites(session, [c for c in _site_codes(scans) if c not in self.sites])
        # The truckloads the batch's dispatches join, its escorts attest, and its
        # receives take boxes from, read at once: one query, not a query and an insert
        # per truck.
        joining = (ScanType.DISPATCH, *ATTESTATIONS)
        handoff_ids = {s.handoff for s in scans if s.handoff and s.type in joining}
        handoff_ids |= {
            self.items[s.item].dispatch_handoff for s in scans if s.type is ScanType.RECEIVE and s.item in self.items
        }
        handoff_ids.discard(None)
        self.handoffs: dict[str, Handoff] = {
            h.id: h
            for h in _in(session, select(Handoff).where(Handoff.log_id == log_id), Handoff.id, sorted(handoff_ids))
        }
        # The manifests the truckloads cited by the batch's escorts have had.
        cited = sorted({s.handoff for s in scans if s.type in ATTESTATIONS and s.manifest} & set(self.handoffs))
        self.manifests = {h: manifest_digests(session, self.handoffs[h]) for h in cited}
        # As the rules see them, with what the batch's scans change before it is written.
        self.truckloads = {
            h.id: Truckload(
                h.from_site, h.to_site, closed=h.status is HandoffStatus.CLOSED, escorts=frozenset(h.escorts),
                delivered=h.delivered_at is not None,
            )
            for h in self.handoffs.values()
        }
        self.stocktakes = batch.state(StocktakesInBatch)
        # Results of this batch's scans by event id, for replays within the batch.
        self.results: dict[str, ScanResult] = {}
        # Scans of this batch judged so far: event id → item, for replays and corrections,
        # and → their signed bytes, to tell a replay from a conflict.
        self.pending: dict[str, str] = {}
        self.signed: dict[str, bytes] = {}
        # The batch's accepted scans as event rows, written with the items they moved
        # once for all the batch's requests (a batch of single scans is many requests;
        # two statements each made the lock's hold a third longer).
        self.new_events: list[dict[str, Any]] = []
        self.new_alerts: list[dict[str, Any]] = []  # what the rules flagged, a row an alert
        batch.finishing.append(lambda: self.write(session, log_id))

    def write(self, session: Session, log_id: str) -> None:
        if self.new_events:  # not the ORM: its unit of work costs more than the insert
            _INSERT_EVENTS.execute(session.connection(), self.new_events)
            INSERT_ALERTS.execute(session.connection(), self.new_alerts)
            moved = [self.items[i] for i in dict.fromkeys(e["item_id"] for e in self.new_events if e["item_id"] is not None)]
            _save_items(session, log_id, moved)
            self.reached.write(session, log_id, moved)


@dataclass
class ReadAhead:
    """What a request read before the log's lock: its boxes' states when the log had
    `size` entries, and its sites."""

    size: int
    items: dict[str, ItemState]
    sites: dict[str, Site]


def _items_read_ahead(batch: Batch, works: list[CustodyWork]) -> dict[str, ItemState]:
    """The item states the works read before the lock that no entry has changed since."""
    fresh: dict[str, ItemState] = {}
    for work in works:
        if work.ahead is not None:
            size = work.ahead.size
            fresh |= {i: state for i, state in work.ahead.items.items() if not batch.entered_since(i, size)}
    return fresh


def _site_codes(scans: list[Scan]) -> list[str]:
    return sorted({s.site for s in scans} | {s.counterparty for s in scans if s.counterparty})


def _load_sites(session: Any, codes: list[str]) -> dict[str, Site]:
    return {s.code: s for s in _in(session, select(Site), Site.code, codes)}


def _in(session: Any, query: Any, column: Any, values: list[Any], *, scalars: bool = True) -> list[Any]:
    found = []
    for start in range(0, len(values), _IN_BATCH):
        chunk = query.where(one_of(session, column, values[start : start + _IN_BATCH]))
        found += session.scalars(chunk).all() if scalars else session.execute(chunk).all()
    return found


class CustodyWork:
    """One request's scans, for the sequencer: judged and appended in order."""

    def __init__(
        self, scans: list[SignedScan], actor: Actor, rules: Rules, escorts: Mapping[str, str] | None = None
    ) -> None:
        self.scans = scans
        self.actor = actor
        self.rules = rules
        # Of the NRPs the scans' dispatches name, the active escort accounts' with their
        # jurisdictions (accounts are not in the log; None: not known, as in a restore).
        self.escorts = escorts
        self._plan: list[ScanResult | _SameAs | None] = []
        self._flags: list[list[str]] = []
        self._outcomes: list[Outcome | None] = []  # what each scan did (None: not judged)
        # The scan that placed the box before each one: an entry index, or the event id
        # of a scan of this batch (its index is known in finish).
        self._earlier: list[int | str | None] = []
        self.ahead: ReadAhead | None = None
        self._rules_at: int | None = None  # where in the planned entries a `rules` entry is

    def read_ahead(self, session: Session, log_id: str) -> None:
        """Read the scans' items and sites now, outside the log's lock, so that under it
        only items changed since need reading again: the lock's hold sets a log's pace."""
        # The size first: an entry committed after it makes its item's state read again.
        size = session.scalar(select(Log.size).where(Log.id == log_id))
        if size is None:
            return
        scans = [s.scan for s in self.scans]
        items = _load_items(session, log_id, sorted({s.item for s in scans if s.item}))
        self.ahead = ReadAhead(size, items, _load_sites(session, _site_codes(scans)))

    def prepare(self, batch: Batch) -> list[NewEntry | Refused]:
        state = batch.state(_State)
        now = batch.received_at
        actor = self.actor.fields()
        planned: list[NewEntry | Refused] = []
        judged = False
        for signed in self.scans:
            scan = signed.scan
            early = self._early_result(signed, state)
            if early is not None:
                self._plan.append(early)
                self._flags.append([])
                self._outcomes.append(None)
                self._earlier.append(None)
                why = early.reason if isinstance(early, ScanResult) else None
                planned.append(Refused(why or early.status))
                continue
            if not judged:
                judged = True
                self._record_rules(batch, planned)
            record: dict[str, Any] = {}
            if scan.type in ATTESTATIONS:
                assert scan.handoff is not None
                box = state.items[scan.item] if scan.item else None
                self._earlier.append(None if box is None else box.seen_event or box.seen_index)
                verdict = attest(
                    state.truckloads[scan.handoff], box, scan, signed.nrp, state.sites, now, self.rules,
                    state.manifests.get(scan.handoff, frozenset()),
                )
            else:
                assert scan.item is not None
                item = state.items[scan.item]
                self._earlier.append(item.seen_event or item.seen_index)
                verdict = judge(item, scan, state.sites, now, self.rules, Escorts(state.truckloads, self._known(scan)))
                if scan.type is ScanType.DISPATCH:
                    assert scan.counterparty is not None
                    # Sites are not in the log: the destination's rating, by which the rules
                    # asked for an escort, is recorded for an auditor to replay them.
                    rating = state.sites[scan.counterparty].kerawanan
                    record["kerawanan"] = None if rating is None else rating.value
                    if verdict.outcome is Outcome.MOVES and scan.handoff:
                        join_truckload(state.truckloads, scan)
                elif scan.stocktake is not None:
                    state.stocktakes.scanned(scan.stocktake, scan.site, scan.item)
            flags = verdict.flags + sync_order(scan.device_seq, state.highest.get(scan.device))
            state.highest[scan.device] = max(scan.device_seq, state.highest.get(scan.device, scan.device_seq))
            state.numbered[(scan.device, scan.device_seq)] = scan.event_id
            state.pending[scan.event_id] = scan.item
            state.signed[scan.event_id] = signed.canonical.data
            self._plan.append(None)
            self._flags.append(flags)
            self._outcomes.append(verdict.outcome)
            planned.append(
                NewEntry(
                    {
                        "type": scan.type.value,
                        "event_id": scan.event_id,
                        "scan": signed.canonical,
                        "sig": signed.sig,
                        "device": scan.device,
                        **actor,
                        **record,
                        "flags": flags,
                    },
                    item=scan.item,
                    key=scan.event_id,
                )
            )
        return planned

    def _known(self, scan: Scan) -> set[str] | None:
        """Of the escorts a dispatch names, those of escort accounts that may guard it."""
        if self.escorts is None or scan.type is not ScanType.DISPATCH or scan.counterparty is None:
            return None
        ends = (scan.site, scan.counterparty)
        return {nrp for nrp in scan.escorts if nrp in self.escorts and guards(self.escorts[nrp], *ends)}

    def _record_rules(self, batch: Batch, planned: list[NewEntry | Refused]) -> None:
        """Limits the log has not recorded enter it before the first scan judged by them,
        so that an auditor replays the scans by them (models/custody/replay.py)."""
        limits = self.rules.record()
        if batch.log.rules != limits:
            self._rules_at = len(planned)
            planned.append(NewEntry(limits))
            batch.log.rules = limits

    def _early_result(self, signed: SignedScan, state: _State) -> ScanResult | _SameAs | None:
        """A replay's first result, a conflict with the scan that holds its event_id or
        device_seq, or why the scan is refused; None to judge it."""
        scan = signed.scan
        if (index := state.keys.get(scan.event_id)) is not None:
            first = state.firsts[index]
            if first.scan != signed.canonical.data:
                return _conflict(scan, index, "event_id")
            return ScanResult(scan.event_id, "duplicate", index=index, leaf_hash=first.leaf_hash, flags=first.flags)
        if (data := state.signed.get(scan.event_id)) is not None:  # completed in finish
            return _SameAs(scan.event_id, None if data == signed.canonical.data else "event_id")
        if (holder := state.numbered.get((scan.device, scan.device_seq))) is not None:
            return _conflict(scan, holder, "device_seq") if isinstance(holder, int) else _SameAs(holder, "device_seq")
        if scan.device in state.revoked:
            return ScanResult(scan.event_id, "rejected", Refusal("device_revoked", f"device {scan.device} was revoked"))
        if scan.item is not None and scan.item not in state.items:
            return ScanResult(scan.event_id, "rejected", Refusal("item_unknown", f"there is no item {scan.item} in this log"))
        if scan.item is not None and scan.label is not None and scan.label > state.items[scan.item].label_serial:
            never = f"{scan.item} has no label {scan.label}: it was never printed"
            return ScanResult(scan.event_id, "rejected", Refusal("label_unknown", never))
        for code in (scan.site, scan.counterparty):
            if code is not None and code not in state.sites:
                return ScanResult(scan.event_id, "rejected", Refusal("site_unknown", f"there is no site {code}"))
        if scan.handoff is not None:
            truckload = state.truckloads.get(scan.handoff)
            reason = truckload_refusal(scan, truckload)
            if scan.type in ATTESTATIONS:
                reason = attestation_refusal(scan, truckload, self.actor.jurisdiction)
            if reason is not None:
                return ScanResult(scan.event_id, "rejected", reason)
        if scan.stocktake is not None:
            reason = stocktake_refusal(scan, state.stocktakes.is_closed(scan.stocktake))
            if reason is not None:
                return ScanResult(scan.event_id, "rejected", reason)
        if scan.type is ScanType.CORRECTION:
            earlier = state.events.get(scan.ref or "")
            target = earlier.item_id if earlier is not None else state.pending.get(scan.ref or "")
            if target != scan.item:
                return ScanResult(
                    scan.event_id,
                    "rejected",
                    Refusal("correction_target_unknown", f"correction refers to no earlier event {scan.ref} of {scan.item}"),
                )
        return None

    def use_recorded_flags(self, flags: list[list[str]]) -> None:
        """Restoring from a log (models/restore.py): the flags were decided when the scans
        arrived and stay as the log recorded them, whatever the rules say here now."""
        self._flags = [list(f) for f in flags]

    def use_recorded_earlier(self, earlier: list[int | None]) -> None:
        """Restoring from a log: where the rules here found nothing that placed the box
        before a scan, the entry `earlier` names (one per scan) is taken instead. A
        scan without a phone's fix is placed by its site's coordinates, which are not
        in the log and may not be in the restored database."""
        self._earlier = [
            mine if mine is not None else theirs for mine, theirs in zip(self._earlier, earlier, strict=True)
        ]

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> list[ScanResult]:
        state = batch.state(_State)
        session, log_id = batch.session, batch.log.id
        if self._rules_at is not None:
            results = results[: self._rules_at] + results[self._rules_at + 1 :]
        out = []
        for signed, plan, flags, outcome, earlier, result in zip(
            self.scans, self._plan, self._flags, self._outcomes, self._earlier, results, strict=True
        ):
            scan = signed.scan
            if plan is not None:
                out.append(plan.result(scan, state.results[plan.first]) if isinstance(plan, _SameAs) else plan)
                continue
            assert isinstance(result, Appended)
            item = state.items[scan.item] if scan.item else None
            if item is not None:
                item.last_index = result.index
                if item.seen_event == scan.event_id:
                    item.seen_index = result.index
            state.new_events.append(
                {
                    "log_id": log_id,
                    "event_id": scan.event_id,
                    "entry_index": result.index,
                    "item_id": scan.item,
                    "type": scan.type.value,
                    "site": scan.site,
                    "counterparty": scan.counterparty,
                    "actor_id": self.actor.id,
                    "role": self.actor.role.value,
                    "device_id": scan.device,
                    "device_seq": scan.device_seq,
                    "handoff_id": scan.handoff,
                    "observed_at": scan.observed,
                    "received_at": result.received_at,
                    "flags": flags,
                }
            )
            if outcome is Outcome.MOVES and scan.type is ScanType.DISPATCH and scan.handoff:
                _join_handoff(session, state, log_id, scan)
            if outcome is Outcome.ATTESTS:
                _attested(state.handoffs[scan.handoff or ""], scan)
            if scan.stocktake is not None and scan.item is not None:
                state.stocktakes.record(scan.stocktake, scan.site, scan.item, result.index, scan.observed)
            for flag in flags:
                if flag == "impossible_travel":
                    before = state.results[earlier].index if isinstance(earlier, str) else earlier
                    evidence = [before, result.index]
                elif flag == "revoked_label":
                    evidence = [*_revocation(session, log_id, scan), result.index]
                else:
                    evidence = [result.index]
                state.new_alerts.append(
                    alert_row(
                        log_id,
                        flag,
                        item_id=scan.item,
                        site=scan.site,
                        event_id=scan.event_id,
                        detail=describe(flag, scan, item, self.rules, state.truckloads.get(scan.handoff or "")),
                        evidence=evidence,
                    )
                )
            state.results[scan.event_id] = ScanResult(
                scan.event_id, "accepted", index=result.index, leaf_hash=result.leaf_hash, flags=flags
            )
            out.append(state.results[scan.event_id])
        return out


def _join_handoff(session: Any, state: _State, log_id: str, scan: Scan) -> None:
    assert scan.handoff and scan.counterparty
    handoff = state.handoffs.get(scan.handoff)
    if handoff is None:
        handoff = Handoff(
            log_id=log_id,
            id=scan.handoff,
            from_site=scan.site,
            to_site=scan.counterparty,
            vehicle=scan.vehicle,
            escorts=[],
            items=[],
            status=HandoffStatus.OPEN,
            dispatched_at=scan.observed,
            dispatch_event=scan.event_id,
        )
        session.add(handoff)
    state.handoffs[scan.handoff] = handoff
    # JSON columns are reassigned, so that the change is seen.
    if scan.item not in handoff.items:
        handoff.items = [*handoff.items, scan.item]
    if not set(scan.escorts) <= set(handoff.escorts):
        handoff.escorts = sorted({*handoff.escorts, *scan.escorts})
        handoff.escorted = True


def _attested(handoff: Handoff, scan: Scan) -> None:
    """A named escort's pickup or delivery: the truckload's first of each is when it
    was taken under guard, or handed over (an offline scan synced late may be earlier)."""
    column = "picked_up_at" if scan.type is ScanType.PICKUP else "delivered_at"
    earlier = getattr(handoff, column)
    if earlier is None or scan.observed < earlier:
        setattr(handoff, column, scan.observed)


def _revocation(session: Any, log_id: str, scan: Scan) -> list[int]:
    """The entry of the label that revoked the one scanned (read only when it happens)."""
    rows = session.execute(
        select(LogEntry.idx, LogEntry.data)
        .where(LogEntry.log_id == log_id, LogEntry.item_id == scan.item)
        .order_by(LogEntry.seq)
    )
    for index, data in rows:
        record = json.loads(data)
        if record["type"] == "label" and record.get("revokes") == scan.label:
            return [int(index)]
    return []


def describe(flag: str, scan: Scan, item: ItemState | None, rules: Rules, truckload: Truckload | None) -> str:
    """The alert's message, in the terms of the people who read it."""
    if flag.startswith("incident_"):
        return f"incident reported at {scan.site}: {scan.incident}" + (f" ({scan.reason})" if scan.reason else "")
    if truckload is not None and scan.type in ATTESTATIONS and (about := _of_the_truckload(flag, scan, truckload)):
        return about
    messages = {
        "seal_mismatch": f"seal numbers at {scan.type} ({', '.join(scan.seals) or 'none'}) differ from those recorded",
        "manifest_mismatch": f"received at {scan.site} as part of truckload {scan.handoff}, whose manifest does not "
        "list it (or it was received already)",
        "level_skipped": f"dispatched from {scan.site} to {scan.counterparty}, skipping a level of the route",
        "already_in_transit": "dispatched again while an earlier dispatch was not received",
        "out_of_order": f"{scan.type} out of the order seal, open, count, reseal",
        "future_time": f"observed at {scan.observed_at}, later than the server's clock",
        "late_sync": f"observed at {scan.observed_at} and synced long after",
        "far_from_site": f"{scan.type} at {scan.site} located more than {rules.far_km:g} km from the site",
        "impossible_travel": f"{scan.type} at {scan.site} too far from the box's previous scan to have "
        f"travelled there at {rules.max_kmh:g} km/h: two boxes carry one label?",
        "late_return": f"{scan.type} on the return leg observed at {scan.observed_at}, after the return "
        f"deadline {rules.return_deadline}",
        "out_of_order_sync": f"scan {scan.device_seq} of device {scan.device} synced after a later-numbered "
        "scan of the same phone: held back on the phone and released later?",
        "no_escort": f"dispatched to {scan.counterparty}, where an escort is required, with no escort named in a "
        "truckload (handoff) for them to attest",
        "unknown_escort": f"the dispatch names escorts ({', '.join(scan.escorts)}), not all of them escort "
        "accounts that may guard this truckload",
        "no_delivery": f"received at {scan.site} from an escorted truckload that no escort it names has "
        "delivered there",
    }
    if item is not None:
        messages |= {
            "wrong_site": f"received at {scan.site}, but it was dispatched to {item.dispatch_to or 'another site'}: "
            f"custody stays with {item.custodian}",
            "wrong_origin": f"received as coming from {scan.counterparty}, but {item.custodian} dispatched it",
            "no_dispatch": f"received at {scan.site} while no dispatch was pending: custody stays at {item.custodian}",
            "off_route": f"dispatched from {scan.site} to {scan.counterparty}, off the route to {item.destination}",
            "not_custodian": f"{scan.type} at {scan.site}, which does not hold custody ({item.custodian} does): "
            "recorded as evidence, nothing moved",
            "in_transit": f"{scan.type} at {scan.site} while the box is on its way to {item.dispatch_to}: "
            "recorded as evidence, nothing moved",
            "not_at_destination": f"{scan.type} at {scan.site}, not at its polling station {item.destination}",
            "revoked_label": f"{scan.type} read label {scan.label}, revoked by a reprint (the current label "
            f"is {item.label_serial})",
        }
    return messages.get(flag, flag)


def _of_the_truckload(flag: str, scan: Scan, truckload: Truckload) -> str | None:
    """An escort's pickup or delivery, flagged: what it says of the truckload."""
    return {
        "not_escort": f"{scan.type} of truckload {scan.handoff} by an escort it does not name: recorded as "
        "evidence, it attests nothing",
        "pickup_wrong_site": f"pickup of truckload {scan.handoff} at {scan.site}, not at its origin "
        f"{truckload.from_site}",
        "delivery_wrong_site": f"delivery of truckload {scan.handoff} at {scan.site}, not at its destination "
        f"{truckload.to_site}: where did the truck go?",
        "not_in_truckload": f"{scan.type} of {scan.item} with truckload {scan.handoff}, which does not carry it",
        "unknown_manifest": f"{scan.type} of truckload {scan.handoff} citing a manifest it never had "
        f"({scan.manifest}): a forged manifest, or another truckload's",
        "seal_mismatch": f"seal numbers at {scan.type} of {scan.item} ({', '.join(scan.seals) or 'none'}) "
        "differ from those dispatched",
    }.get(flag)
