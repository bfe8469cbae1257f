"""The auditors' replay of custody: a log's scans judged again by the server's own
rules (models/custody/rules.py), from the log alone, so that an operator who
suppresses a flag, invents a missing box or bends a handoff's closing is caught, the
entry named. `jejak verify` runs it over every entry it reads.

One pass, in log order: `register` and `label` entries make each box's state,
`rules` entries set the limits in force, and each scan entry is judged again at its
`received_at` (the time the server judged it): its `flags` must be the ones the rules
give. Dispatches that moved their box fill its truckload, with the escorts they name;
an escort's pickup or delivery is judged against that truckload, by the NRP its
phone's `device_register` entry records. Each `missing` entry must name a box of that
truckload still awaited, followed by its handoff's closing, whose `received` and
`missing` lists must be the rules' own. A `stocktake_close` must name the boxes found, missing and
unexpected that the rules reckon from the custody before it. Entries of other types change no custody and
are passed over.

What the log does not hold cannot be replayed: sites' coordinates and people's
accounts. A site's level is spelled by its code, and a dispatch's entry records its
destination's kerawanan, so the scans are judged without positions, and the flags
that need what is missing (`NOT_RECHECKED`) are not re-checked.

The standard library, ledger/ and the rules only: the verifier needs no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.audit import Failure
from models.core.errors import InvalidRequest
from models.core.times import parse_time
from models.custody import manifests
from models.custody.rules import (
    ATTESTATIONS,
    Escorts,
    ItemState,
    ItemStatus,
    Leg,
    Outcome,
    Rules,
    ScanType,
    Truckload,
    attest,
    join_truckload,
    judge,
    pending_receipts,
    reckon,
    stocktake_refusal,
    sync_order,
)
from models.places.codes import SiteLevel, level_of

# The flags that need what the log does not hold, and what that is.
NOT_RECHECKED = {
    "far_from_site": "site coordinates",
    "impossible_travel": "site coordinates",
    "unknown_escort": "accounts",  # which NRPs are escorts'
}


def not_rechecked() -> str:
    """The flags not re-checked and why, as `jejak verify` says it."""
    by_why: dict[str, list[str]] = {}
    for flag, missing in NOT_RECHECKED.items():
        by_why.setdefault(missing, []).append(flag)
    return "; ".join(f"{', '.join(flags)} ({missing} are not in the log)" for missing, flags in by_why.items())
_SCAN_TYPES = frozenset(ScanType)
# What a malformed entry raises on its way through the rules: a finding, not a crash.
_MALFORMED = (TypeError, ValueError, KeyError, AttributeError, AssertionError, InvalidRequest)


@dataclass(frozen=True, slots=True)
class _Site:
    """A site as far as the log tells: its level (rules.Place) and the kerawanan the
    latest dispatch to it recorded; no coordinates."""

    level: SiteLevel
    kerawanan: str | None = None
    lat: None = None
    lon: None = None


class _Sites(dict[str, _Site]):
    def __missing__(self, code: str) -> _Site:
        site = self[code] = _Site(level_of(code))
        return site


@dataclass(frozen=True, slots=True)
class _Scan:
    """The signed scan's fields the rules read (rules.ScanFacts)."""

    event_id: str
    type: ScanType
    site: str
    counterparty: str | None
    handoff: str | None
    escorts: list[str]
    manifest: str | None
    seals: list[str]
    label: int | None
    incident: str | None
    ref: str | None
    stocktake: str | None
    observed: datetime
    location: None = None  # judged without positions: see the module's docstring


def _read_scan(signed: dict[str, Any]) -> _Scan:
    get = signed.get
    return _Scan(
        get("event_id"), ScanType(get("type")), get("site"), get("counterparty"), get("handoff"),
        list(get("escorts") or ()), get("manifest"), list(get("seals") or ()), get("label"), get("incident"), get("ref"),
        get("stocktake"), parse_time(get("observed_at")),
    )  # fmt: skip


def _rechecked(flags: list[str]) -> list[str]:
    return [f for f in flags if f not in NOT_RECHECKED]


class CustodyReplay:
    """Feed it every entry's record in log order (`add`), then `finish`; `failures`
    lists each disagreement with the rules, `scans` counts the scans replayed."""

    def __init__(self, log_id: str) -> None:
        self.log_id = log_id  # a box's first custodian: the KPU whose log it is
        self.items: dict[str, ItemState] = {}
        self.rules: Rules | None = None
        self.sites = _Sites()
        self.truckloads: dict[str, dict[str, None]] = {}  # handoff → its boxes, in order
        self.loads: dict[str, Truckload] = {}  # handoff → its ends, escorts and delivery
        self.dispatches: dict[str, list[tuple[int, dict[str, Any]]]] = {}  # handoff → its dispatch entries
        self.nrps: dict[str, str | None] = {}  # device → the escort's NRP its registration records
        self.closed: dict[str, int] = {}  # handoff → the index of its closing
        self.reported: list[tuple[int, str, str]] = []  # missing entries awaiting their closing
        self.highest: dict[str, int] = {}  # device → its highest device_seq in the log so far
        self.counted: dict[str, dict[str, None]] = {}  # stock-take → the boxes its scans saw
        self.stocktakes_closed: dict[str, int] = {}  # stock-take → the index of its closing
        self.scans = 0
        self.failures: list[Failure] = []

    def add(self, index: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if self.reported and kind not in ("missing", "handoff_close"):
            self._unclosed()
        item = record.get("item")
        try:
            if kind in _SCAN_TYPES:
                self._scan(index, item, record)
            elif kind == "register":
                self._register(index, item, record)
            elif kind == "device_register":
                self.nrps[record["device"]] = record.get("nrp")
            elif kind == "label" and item in self.items:
                self.items[item].label_serial = int(record["serial"])
            elif kind == "rules":
                self.rules = Rules.of_record(record)
            elif kind == "missing":
                self._missing(index, item, record)
            elif kind == "handoff_close":
                self._close(index, record)
            elif kind == "stocktake_close":
                self._stocktake_close(index, record)
        except _MALFORMED as error:
            self._fail(index, item if type(item) is str else None, f"cannot be replayed by the custody rules: {error!r}")

    def finish(self) -> list[Failure]:
        self._unclosed()
        return self.failures

    def _fail(self, index: int, item: str | None, reason: str) -> None:
        self.failures.append(Failure(index, item, reason))

    def _register(self, index: int, item: str, record: dict[str, Any]) -> None:
        self.items[item] = ItemState(
            id=item, destination=record["destination"], label_serial=0, status=ItemStatus.REGISTERED,
            leg=Leg.OUTBOUND, custodian=self.log_id, seals=[], dispatch_event=None, dispatch_to=None,
            dispatch_seals=None, dispatch_handoff=None, dispatched_at=None, last_index=index,
            seen_at=None, seen_lat=None, seen_lon=None, seen_index=None,
        )  # fmt: skip

    def _scan(self, index: int, item: str | None, record: dict[str, Any]) -> None:
        self.scans += 1
        scan = _read_scan(record["scan"])
        state = self.items.get(item) if item is not None else None
        if state is None and (item is not None or scan.type not in ATTESTATIONS):
            self._fail(index, item, "scans a box that no register entry before it brings into the log")
            return
        if self.rules is None:
            self._fail(index, item, "is a scan before any rules entry: the limits it was judged by are not in the log")
            return
        now = parse_time(record["received_at"])
        device = record["scan"]["device"]
        if scan.type in ATTESTATIONS:
            load = self.loads.get(scan.handoff or "")
            if load is None:
                self._fail(index, item, f"attests truckload {scan.handoff}, which no dispatch before it opened")
                return
            dispatches = self.dispatches.get(scan.handoff or "", [])
            cited = manifests.digests(scan.handoff or "", dispatches) if scan.manifest else frozenset()
            verdict = attest(load, state, scan, self.nrps.get(device), self.sites, now, self.rules, cited)
        else:
            assert state is not None and item is not None
            if scan.type is ScanType.DISPATCH and scan.counterparty is not None:
                self.sites[scan.counterparty] = _Site(level_of(scan.counterparty), record.get("kerawanan"))
            if scan.stocktake is not None and not self._counted(index, item, scan):
                return
            verdict = judge(state, scan, self.sites, now, self.rules, Escorts(self.loads))
            if verdict.outcome is Outcome.MOVES and scan.type is ScanType.DISPATCH and scan.handoff is not None:
                join_truckload(self.loads, scan)
                self.truckloads.setdefault(scan.handoff, {})[item] = None
            if scan.type is ScanType.DISPATCH and scan.handoff is not None:  # what its manifests are made of
                self.dispatches.setdefault(scan.handoff, []).append((index, record))
        seq = int(record["scan"]["device_seq"])
        flags = verdict.flags + sync_order(seq, self.highest.get(device))
        self.highest[device] = max(seq, self.highest.get(device, seq))
        recorded, expected = _rechecked(record["flags"]), _rechecked(flags)
        if recorded != expected:
            self._fail(
                index, item,
                f"records the flags [{', '.join(recorded)}], but the custody rules give [{', '.join(expected)}]",
            )  # fmt: skip

    def _missing(self, index: int, item: str, record: dict[str, Any]) -> None:
        handoff = record["handoff"]
        state = self.items.get(item)
        if item not in self.truckloads.get(handoff, {}):
            self._fail(index, item, f"reports the box missing from handoff {handoff}, which no dispatch of it joined")
        elif state is None or state.status is not ItemStatus.IN_TRANSIT or state.dispatch_handoff != handoff:
            self._fail(index, item, f"reports the box missing from handoff {handoff}, but by the custody rules "
                                    "it is no longer awaited from it")  # fmt: skip
        self.reported.append((index, item, handoff))

    def _unclosed(self) -> None:
        """Missing entries are written with their handoff's closing, right before it."""
        for index, item, handoff in self.reported:
            self._fail(index, item, f"reports the box missing, but the closing of handoff {handoff} does not follow")
        self.reported = []

    def _close(self, index: int, record: dict[str, Any]) -> None:
        handoff = record["handoff"]
        reported, self.reported = self.reported, []
        for at, item, other in reported:
            if other != handoff:
                self._fail(at, item, f"reports the box missing from handoff {other}, but the closing that "
                                     f"follows is of {handoff}")  # fmt: skip
        boxes = self.truckloads.get(handoff)
        if boxes is None or handoff in self.closed:
            why = "no dispatch opened" if boxes is None else f"was closed at entry {self.closed[handoff]}"
            self._fail(index, None, f"closes handoff {handoff}, which {why}")
            return
        self.closed[handoff] = index
        missing = pending_receipts([self.items[i] for i in boxes], handoff)
        received = sorted(set(boxes) - set(missing))
        named = {item for _, item, other in reported if other == handoff}
        for item in missing:
            if item not in named:
                self._fail(index, item, f"closes handoff {handoff} with the box not received, but no missing "
                                        "entry reports it")  # fmt: skip
        for name, listed, expected in (("received", record["received"], received), ("missing", record["missing"], missing)):
            if listed != expected:
                self._fail(index, None, f"closes handoff {handoff} listing {name} {listed}, but by the custody "
                                        f"rules {name} are {expected}")  # fmt: skip

    def _counted(self, index: int, item: str, scan: _Scan) -> bool:
        """A stocktake scan joins its stock-take, unless the server should have refused it."""
        assert scan.stocktake is not None
        closed = scan.stocktake in self.stocktakes_closed
        why = stocktake_refusal(scan, closed)
        if why is not None:
            if closed:
                why += f" (entry {self.stocktakes_closed[scan.stocktake]})"
            self._fail(index, item, f"is a scan the server must refuse: {why}")
            return False
        self.counted.setdefault(scan.stocktake, {})[item] = None
        return True

    def _stocktake_close(self, index: int, record: dict[str, Any]) -> None:
        """The closing must name exactly the boxes the rules reckon from the log before it."""
        stocktake, site = record["stocktake"], record["site"]
        scanned = self.counted.get(stocktake)
        if scanned is None or stocktake in self.stocktakes_closed:
            why = "no scan opened" if scanned is None else f"was closed at entry {self.stocktakes_closed[stocktake]}"
            self._fail(index, None, f"closes stock-take {stocktake}, which {why}")
            return
        self.stocktakes_closed[stocktake] = index
        if not stocktake.startswith(f"{site}-"):
            self._fail(index, None, f"closes stock-take {stocktake} as one of {site}, whose it is not")
        reckoning = reckon(site, self.items.values(), scanned)
        for name in ("found", "missing", "unexpected"):
            listed, expected = record[name], getattr(reckoning, name)
            if listed != expected:
                self._fail(index, None, f"closes stock-take {stocktake} listing {name} {listed}, but by the "
                                        f"custody rules {name} are {expected}")  # fmt: skip
