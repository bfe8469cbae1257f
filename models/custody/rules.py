"""The custody rules as a pure state machine: item state × scan type × who scans → an
outcome, the flags the scan shows, and the item's next state.

Who scans is the scan's site against the item's state (`party_of`): the custodian
holding the box, the same custodian once it has dispatched the box (the dispatcher:
custody stays with it until the receive), the receiver the pending dispatch names,
or anyone else. The rule of thumb: a scan by someone who does not hold custody is
evidence (recorded, flagged, an alert) and never moves custody or status; only the
receiver named by a dispatch takes custody over. Refusals (the scan never enters the
log) are for what no one may do: a role scanning what it does not scan, a truckload
joined with other ends.

Escort officers guard; they never hold custody. Their two scans, `pickup` and
`delivery`, attest a truckload (or one box of it) and are judged by `attest`: by an
escort the truckload names, at its origin or destination, a scan attests; by anyone
else, or elsewhere, it is evidence. Custody rules read what they attest: a receive of
an escorted truckload that no escort delivered is flagged.

No database, no web framework, no I/O: the server judges scans under the log's lock
with it, and `jejak verify` replays a log's custody with the same functions, so an
operator who suppresses or invents a flag is caught. It imports only the standard
library and the pure site-code and distance helpers."""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from models.core.times import parse_time
from models.custody.refusals import Refusal
from models.places.codes import LEADING_CODE, Kerawanan, SiteLevel, level_of, route_to, within
from models.places.geo import Point, distance_km

FUTURE_TOLERANCE = timedelta(minutes=5)


class ScanType(enum.StrEnum):
    SEAL = "seal"  # seals fitted and their numbers recorded
    DISPATCH = "dispatch"  # released by the custodian, under escort
    RECEIVE = "receive"  # taken over: custody moves here
    OPEN = "open"  # opened at the TPS for voting
    COUNT = "count"  # counted at the TPS
    RESEAL = "reseal"  # sealed again after counting, new seals
    INCIDENT = "incident"  # damaged, wet, lost, seal broken...
    CORRECTION = "correction"  # annotates an earlier scan; never edits it
    STORE = "store"  # put in storage at the custodian site
    # An escort's own attestations, about a truckload: custody stays with the custodians.
    PICKUP = "pickup"  # taken under guard at the truckload's origin, after its dispatch
    DELIVERY = "delivery"  # handed over at its destination, before its receive
    # A box seen on the shelves during a stock-take (stock opname) of the site: evidence
    # of where it is, never a move; the stock-take's closing compares them with the log.
    STOCKTAKE = "stocktake"


# The scans that attest a truckload rather than move a box (judged by `attest`).
ATTESTATIONS = frozenset({ScanType.PICKUP, ScanType.DELIVERY})


class IncidentKind(enum.StrEnum):
    DAMAGED = "damaged"
    WET = "wet"
    LOST = "lost"
    SEAL_BROKEN = "seal_broken"
    OTHER = "other"


class Leg(enum.StrEnum):
    OUTBOUND = "outbound"  # KPU → PPK → PPS → TPS
    RETURN = "return"  # TPS → PPS → PPK → KPU, after counting


class ItemStatus(enum.StrEnum):
    REGISTERED = "registered"
    SEALED = "sealed"
    IN_TRANSIT = "in_transit"
    HELD = "held"  # received and held by the custodian site
    OPENED = "opened"
    COUNTED = "counted"
    RESEALED = "resealed"
    RETURNED = "returned"  # back at the KPU after the count


class Party(enum.StrEnum):
    """Who makes a scan, as far as the box is concerned."""

    CUSTODIAN = "custodian"  # the site holding custody, the box not in transit
    DISPATCHER = "dispatcher"  # the site holding custody of a box it has dispatched
    RECEIVER = "receiver"  # the site the pending dispatch names
    ESCORT = "escort"  # an escort officer the truckload names (pickups and deliveries)
    OTHER = "other"  # anyone else


class Outcome(enum.StrEnum):
    MOVES = "moves"  # accepted, and the box's custody state follows the scan
    EVIDENCE = "evidence"  # accepted as evidence only: flagged, nothing moves
    ATTESTS = "attests"  # accepted: the truckload's pickup or delivery; custody does not move
    REFUSED = "refused"  # not recorded


_E, _M = Outcome.EVIDENCE, Outcome.MOVES
_AT_THE_BOX = {Party.CUSTODIAN: _M, Party.DISPATCHER: _E, Party.RECEIVER: _E, Party.OTHER: _E}
# The state machine's table. The parties a state allows: custodian and other when the
# box is not in transit; dispatcher, receiver and other while it is.
TRANSITIONS: dict[ScanType, dict[Party, Outcome]] = {
    ScanType.SEAL: _AT_THE_BOX,
    # Its custodian may send a box in transit elsewhere (a truck turned back): flagged.
    ScanType.DISPATCH: {Party.CUSTODIAN: _M, Party.DISPATCHER: _M, Party.RECEIVER: _E, Party.OTHER: _E},
    # The dispatcher taking its own box back ends the dispatch (flagged wrong_site).
    ScanType.RECEIVE: {Party.CUSTODIAN: _E, Party.DISPATCHER: _M, Party.RECEIVER: _M, Party.OTHER: _E},
    ScanType.OPEN: _AT_THE_BOX,
    ScanType.COUNT: _AT_THE_BOX,
    ScanType.RESEAL: _AT_THE_BOX,
    ScanType.STORE: _AT_THE_BOX,
    ScanType.INCIDENT: dict.fromkeys(Party, _E),
    ScanType.CORRECTION: dict.fromkeys(Party, _E),
    # Seen on a shelf, by whoever counts: the closing reckons it (`reckon`), nothing moves.
    ScanType.STOCKTAKE: dict.fromkeys(Party, _E),
}
# Scans recorded without a flag saying why nothing moved: nothing was meant to.
_RECORDS_ONLY = frozenset({ScanType.CORRECTION, ScanType.STOCKTAKE})
# Why an escort's pickup or delivery attests nothing (`attest`): not an escort the
# truckload names, not at the end the scan is about, a box not in the truckload.
UNATTESTED = frozenset(
    {"not_escort", "pickup_wrong_site", "delivery_wrong_site", "not_in_truckload", "unknown_manifest"}
)




def attests(flags: Collection[str]) -> bool:
    """Whether a recorded pickup or delivery with these flags attests its truckload."""
    return UNATTESTED.isdisjoint(flags)


# The flag that says why a scan by the wrong party moved nothing.
_WHY_NOTHING_MOVED = {Party.DISPATCHER: "in_transit", Party.RECEIVER: "not_custodian", Party.OTHER: "not_custodian"}

# The site level each field role scans at; escorts attest truckloads and report incidents anywhere.
ROLE_LEVEL = {"kpu": SiteLevel.KPU, "ppk": SiteLevel.PPK, "pps": SiteLevel.PPS, "kpps": SiteLevel.TPS}
SCANNING_ROLES = frozenset(ROLE_LEVEL) | {"escort"}


class Located(Protocol):
    lat: float
    lon: float
    accuracy_m: float | None


class ScanFacts(Protocol):
    """The fields of a signed scan the rules read (models/custody/scans.py's Scan, or a
    verifier's reading of an entry)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> ScanType: ...
    @property
    def site(self) -> str: ...
    @property
    def counterparty(self) -> str | None: ...
    @property
    def handoff(self) -> str | None: ...
    @property
    def escorts(self) -> list[str]: ...
    @property
    def manifest(self) -> str | None: ...
    @property
    def seals(self) -> list[str]: ...
    @property
    def location(self) -> Located | None: ...
    @property
    def label(self) -> int | None: ...
    @property
    def incident(self) -> str | None: ...
    @property
    def ref(self) -> str | None: ...
    @property
    def stocktake(self) -> str | None: ...
    @property
    def observed(self) -> datetime: ...


class Place(Protocol):
    """A site as the rules see it (models/places/sites.py's Site has these)."""

    @property
    def level(self) -> SiteLevel: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def kerawanan(self) -> str | None: ...


@dataclass(frozen=True)
class Rules:
    """The limits the rules apply: those that change flags, recorded in the log."""

    late_after: timedelta
    far_km: float
    max_kmh: float
    return_deadline: datetime | None
    # The kerawanan (Kerawanan values) whose destinations a dispatch names an escort for.
    escort_required: frozenset[str] = frozenset()

    def record(self) -> dict[str, Any]:
        """The limits as a `rules` entry states them (docs/ENTRIES.md)."""
        deadline = self.return_deadline
        return {
            "type": "rules",
            "late_sync_hours": self.late_after / timedelta(hours=1),
            "far_from_site_km": self.far_km,
            "max_travel_kmh": self.max_kmh,
            "return_deadline": None if deadline is None else deadline.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "escort_required": sorted(self.escort_required),
        }

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Rules:
        """The limits a `rules` entry states; ValueError, TypeError or KeyError if it is
        malformed. An entry from before escorts were required requires none."""
        deadline = record["return_deadline"]
        required = record.get("escort_required", [])
        if not isinstance(required, list) or not set(required) <= set(Kerawanan):
            raise ValueError(f"escort_required {required!r} is not a list of kerawanan")
        return cls(
            late_after=timedelta(hours=float(record["late_sync_hours"])),
            far_km=float(record["far_from_site_km"]),
            max_kmh=float(record["max_travel_kmh"]),
            return_deadline=None if deadline is None else parse_time(deadline),
            escort_required=frozenset(required),
        )


@dataclass(slots=True)
class ItemState:
    """An item's custody state as plain data: the rules run on thousands of these per
    batch, and the ORM's bookkeeping would cost more than the rules themselves."""

    id: str
    destination: str
    label_serial: int
    status: ItemStatus
    leg: Leg
    custodian: str
    seals: list[str]
    dispatch_event: str | None
    dispatch_to: str | None
    dispatch_seals: list[str] | None
    dispatch_handoff: str | None
    dispatched_at: datetime | None
    last_index: int
    # Where and when a scan last placed the box, for impossible travel.
    seen_at: datetime | None
    seen_lat: float | None
    seen_lon: float | None
    seen_index: int | None
    seen_event: str | None = None  # the scan of this batch that placed it, if one did

    @property
    def seen(self) -> Point | None:
        return None if self.seen_lat is None or self.seen_lon is None else Point(self.seen_lat, self.seen_lon)


@dataclass
class Truckload:
    """A handoff as the rules see it: its ends are set by its first dispatch; the
    escorts its dispatches name (NRPs) guard it, and it is delivered once one of them
    attests handing it over at its destination."""

    from_site: str
    to_site: str
    closed: bool = False
    escorts: frozenset[str] = frozenset()
    delivered: bool = False


def join_truckload(truckloads: dict[str, Truckload], scan: ScanFacts) -> None:
    """A dispatch that moved its box joins its truckload: the first sets its ends, and
    each adds the escorts it names."""
    assert scan.handoff is not None and scan.counterparty is not None
    load = truckloads.get(scan.handoff)
    if load is None:
        load = truckloads[scan.handoff] = Truckload(scan.site, scan.counterparty)
    load.escorts |= frozenset(scan.escorts)


def guards(jurisdiction: str, from_site: str, to_site: str) -> bool:
    """Whether an escort of this jurisdiction may guard a truckload between these ends:
    one of them is theirs (a Polsek guards what comes into or leaves its district; a
    Polres, its regency's)."""
    return within(from_site, jurisdiction) or within(to_site, jurisdiction)


@dataclass(frozen=True)
class Verdict:
    party: Party
    outcome: Outcome
    flags: list[str]


def refusal(scan: ScanFacts, role: str, jurisdiction: str) -> Refusal | None:
    """Why an account of this role and jurisdiction may not make this scan at all."""
    if role not in SCANNING_ROLES:
        return Refusal("not_this_role", f"a {role} account does not scan")
    if not within(scan.site, jurisdiction):
        return Refusal("outside_jurisdiction", f"site {scan.site} is outside your jurisdiction {jurisdiction or 'national'}")
    if role == "escort":
        if scan.type is not ScanType.INCIDENT and scan.type not in ATTESTATIONS:
            return Refusal(
                "not_this_role",
                "escort officers attest pickups and deliveries and report incidents; "
                "handoffs are scanned by the custodians"
            )
    elif scan.type in ATTESTATIONS:
        return Refusal(
            "not_this_role",
            f"a {scan.type} is an escort officer's own attestation, made on their phone; "
            "the custodians dispatch and receive"
        )
    elif level_of(scan.site) is not ROLE_LEVEL[role]:
        return Refusal("not_this_role", f"a {role} officer scans at a {ROLE_LEVEL[role].upper()} site")
    if scan.type is ScanType.DISPATCH and scan.counterparty is None:
        return Refusal("missing_field", "a dispatch names its destination in counterparty")
    if scan.type is ScanType.INCIDENT and scan.incident is None:
        return Refusal("missing_field", "an incident says what happened in incident")
    if scan.type is ScanType.CORRECTION and scan.ref is None:
        return Refusal("missing_field", "a correction names the event it annotates in ref")
    return None


def stocktake_refusal(scan: ScanFacts, closed: bool) -> Refusal | None:
    """Why a scan may not join its stock-take: a stock-take belongs to the site it
    counts (its id begins with that site's code), and a closed one takes no more scans."""
    if scan.type is not ScanType.STOCKTAKE or scan.stocktake is None:
        return None
    if not scan.stocktake.startswith(f"{scan.site}-"):
        return Refusal(
            "stocktake_not_sites",
            f"stocktake {scan.stocktake} is not one of {scan.site}'s: a stock-take id begins with the site's "
            f"code, like {scan.site}-SO-1",
        )
    if closed:
        return Refusal("stocktake_closed", f"stocktake {scan.stocktake} was closed: a new stock-take needs a new id")
    return None


@dataclass(frozen=True)
class Reckoning:
    """A stock-take's closing: of the boxes the site holds per the log, those scanned
    (found) and those not (missing); and the boxes scanned that it does not hold
    (unexpected: orphans). Each list sorted."""

    found: list[str]
    missing: list[str]
    unexpected: list[str]


def holds(item: ItemState, site: str) -> bool:
    """Whether the log says the box is on the site's shelves: in its custody and not
    sent off (a box it dispatched is on a truck, though custody stays with it)."""
    return item.custodian == site and item.status is not ItemStatus.IN_TRANSIT


def reckon(site: str, items: Iterable[ItemState], scanned: Collection[str]) -> Reckoning:
    """Close a stock-take of `site`: `items` holds at least every box the site holds
    and every box scanned, in their states just before the closing; `scanned`, the
    boxes its scans saw."""
    held = {i.id for i in items if holds(i, site)}
    seen = set(scanned)
    return Reckoning(sorted(held & seen), sorted(held - seen), sorted(seen - held))


def truckload_refusal(scan: ScanFacts, truckload: Truckload | None) -> Refusal | None:
    """Why a dispatch may not name its handoff: handoff ids belong to the site that
    dispatches (they begin with its code), and a truckload's ends never change."""
    if scan.type is not ScanType.DISPATCH or scan.handoff is None:
        return None
    origin = LEADING_CODE.match(scan.handoff)
    if origin is None or origin.group() != scan.site or scan.handoff[origin.end() : origin.end() + 1] != "-":
        return Refusal("handoff_not_sites", f"handoff {scan.handoff} is not one of {scan.site}'s: a handoff id begins with the dispatching site's code, like {scan.site}-{scan.counterparty}-1")
    if truckload is None:
        return None
    if truckload.closed:
        return Refusal("handoff_closed", f"handoff {scan.handoff} was closed: a new truckload needs a new handoff id")
    if (truckload.from_site, truckload.to_site) != (scan.site, scan.counterparty):
        return Refusal(
            "handoff_other_route",
            f"handoff {scan.handoff} goes from {truckload.from_site} to {truckload.to_site}, "
            f"not to {scan.counterparty}: a new truckload needs a new handoff id"
        )
    return None


def attestation_refusal(scan: ScanFacts, truckload: Truckload | None, jurisdiction: str) -> Refusal | None:
    """Why an escort may not attest this truckload at all: it is not in the log yet, or
    neither of its ends is in the escort's jurisdiction."""
    if truckload is None:
        return Refusal(
            "truckload_unknown",
            f"there is no truckload {scan.handoff} in this log yet: a {scan.type} is accepted once its "
            "dispatch is in the log (send it again then)"
        )
    if not guards(jurisdiction, truckload.from_site, truckload.to_site):
        return Refusal(
            "truckload_outside_jurisdiction",
            f"truckload {scan.handoff} goes from {truckload.from_site} to {truckload.to_site}, "
            f"outside your jurisdiction {jurisdiction}"
        )
    return None


def party_of(item: ItemState, site: str) -> Party:
    if item.status is ItemStatus.IN_TRANSIT:
        if site == item.custodian:
            return Party.DISPATCHER
        if site == item.dispatch_to:
            return Party.RECEIVER
    elif site == item.custodian:
        return Party.CUSTODIAN
    return Party.OTHER


@dataclass(frozen=True)
class Escorts:
    """What the escort rules know beyond the log's own entries: the truckloads so far
    (a receive asks whether its truckload was delivered), and of the NRPs a dispatch
    names, those of escort accounts that may guard it (None: not known, as in a replay
    of the log alone, which holds no accounts)."""

    truckloads: Mapping[str, Truckload]
    known: Collection[str] | None = None


NO_ESCORTS = Escorts({})


def judge(
    item: ItemState, scan: ScanFacts, sites: Mapping[str, Place], now: datetime, rules: Rules,
    escorts: Escorts = NO_ESCORTS,
) -> Verdict:  # fmt: skip
    """Apply a scan to its item's custody state (in place, when the scan moves it);
    returns who made it, what it did and the irregularities it shows."""
    party = party_of(item, scan.site)
    outcome = TRANSITIONS[scan.type][party]
    was_returning = _returning(item)
    travelling_in = item.dispatch_handoff  # a receive that moves the box ends it
    flags: list[str] = []
    if outcome is Outcome.MOVES:
        flags += _move(item, scan, party, sites, rules, escorts)
    elif scan.type is ScanType.INCIDENT:
        flags.append(f"incident_{scan.incident}")
    elif scan.type is ScanType.RECEIVE:
        flags.append("wrong_site" if item.status is ItemStatus.IN_TRANSIT else "no_dispatch")
    elif scan.type not in _RECORDS_ONLY:
        flags.append(_WHY_NOTHING_MOVED[party])
    # Received as part of a truckload the box is not awaited in: not on its manifest
    # (models/custody/manifests.py), or already taken off it.
    if scan.type is ScanType.RECEIVE and scan.handoff is not None and scan.handoff != travelling_in:
        flags.append("manifest_mismatch")
    flags += _timing(scan, now, rules)
    flags += _whereabouts(item, scan, sites[scan.site], rules, moves=outcome is Outcome.MOVES)
    flags += _of_the_box(item, scan, rules, was_returning)
    return Verdict(party, outcome, flags)


def attest(
    truckload: Truckload, item: ItemState | None, scan: ScanFacts, nrp: str | None,
    sites: Mapping[str, Place], now: datetime, rules: Rules, manifests: Collection[str] = frozenset(),
) -> Verdict:  # fmt: skip
    """Judge an escort's pickup or delivery of a truckload (of one box of it, when
    `item` is given), made by the escort whose NRP is `nrp` (their phone's). It
    attests only if the truckload names them and it is made at the truckload's
    origin (pickup) or destination (delivery), and, for a box, if the box travels in
    that truckload (its seals are checked then), and, when it cites the manifest the
    escort read, if that is one the truckload has had (`manifests`: their digests, one
    after each dispatch that loaded a box); otherwise it is evidence. Nothing moves
    either way: an attesting delivery marks the truckload delivered."""
    party = Party.ESCORT if nrp is not None and nrp in truckload.escorts else Party.OTHER
    flags = [] if party is Party.ESCORT else ["not_escort"]
    end = truckload.from_site if scan.type is ScanType.PICKUP else truckload.to_site
    if scan.site != end:
        flags.append(f"{scan.type}_wrong_site")
    if item is not None and (item.status is not ItemStatus.IN_TRANSIT or item.dispatch_handoff != scan.handoff):
        flags.append("not_in_truckload")
    if scan.manifest is not None and scan.manifest not in manifests:
        flags.append("unknown_manifest")  # a forged manifest, or another truckload's
    outcome = Outcome.ATTESTS if attests(flags) else Outcome.EVIDENCE
    if outcome is Outcome.ATTESTS and scan.type is ScanType.DELIVERY:
        truckload.delivered = True
    # Seals an escort counting boxes sees, against those dispatched: the box was guarded all the same.
    if outcome is Outcome.ATTESTS and item is not None and scan.seals:
        if sorted(scan.seals) != sorted(item.dispatch_seals or []):
            flags.append("seal_mismatch")
    flags += _timing(scan, now, rules)
    if item is not None:
        flags += _whereabouts(item, scan, sites[scan.site], rules, moves=False)
        flags += _of_the_box(item, scan, rules, _returning(item))
    elif _far_from_site(scan, sites[scan.site], rules):
        flags.append("far_from_site")
    return Verdict(party, outcome, flags)


def _timing(scan: ScanFacts, now: datetime, rules: Rules) -> list[str]:
    """When the scan was observed against when the server judges it."""
    observed = scan.observed
    if observed > now + FUTURE_TOLERANCE:
        return ["future_time"]
    return ["late_sync"] if now - observed > rules.late_after else []


def _of_the_box(item: ItemState, scan: ScanFacts, rules: Rules, was_returning: bool) -> list[str]:
    """The label read, and the return deadline."""
    flags = []
    if scan.label is not None and scan.label < item.label_serial:
        flags.append("revoked_label")
    deadline = rules.return_deadline
    if deadline is not None and scan.observed > deadline and (was_returning or _returning(item)):
        flags.append("late_return")
    return flags


def _move(
    item: ItemState, scan: ScanFacts, party: Party, sites: Mapping[str, Place], rules: Rules, escorts: Escorts
) -> list[str]:
    kind = scan.type
    if kind is ScanType.SEAL:
        item.seals = list(scan.seals)
        if item.status is ItemStatus.REGISTERED:
            item.status = ItemStatus.SEALED
        return []
    if kind is ScanType.DISPATCH:
        return _dispatch(item, scan) + _escorted(scan, sites, rules, escorts)
    if kind is ScanType.RECEIVE:
        undelivered = _undelivered(item, party, escorts)
        return _receive(item, scan, party, sites) + undelivered
    if kind in (ScanType.OPEN, ScanType.COUNT, ScanType.RESEAL):
        return _at_polling_station(item, scan)
    return []  # store: the custodian keeps it where it is


def _returning(item: ItemState) -> bool:
    """On the way back from the polling station, and not home yet."""
    return item.leg is Leg.RETURN and item.status is not ItemStatus.RETURNED


def _far_from_site(scan: ScanFacts, site: Place, rules: Rules) -> bool:
    """The phone's fix, less its stated accuracy, farther than `rules.far_km` from the site."""
    located = scan.location
    if located is None or site.lat is None or site.lon is None:
        return False
    error_km = (located.accuracy_m or 0) / 1000
    return distance_km(Point(located.lat, located.lon), Point(site.lat, site.lon)) - error_km > rules.far_km


def _whereabouts(item: ItemState, scan: ScanFacts, site: Place, rules: Rules, *, moves: bool) -> list[str]:
    """Where the scan was made, against its site and against the box's last scan.
    A position is the phone's fix (less its stated accuracy) or else the site's
    coordinates; `rules.far_km` of error is allowed in both. Only a scan that moves
    the box places it: evidence cannot shift where the box is believed to be."""
    flags = ["far_from_site"] if _far_from_site(scan, site, rules) else []
    located = scan.location
    fix = Point(located.lat, located.lon) if located else None
    error_km = (located.accuracy_m or 0) / 1000 if located else 0.0
    at_site = None if site.lat is None or site.lon is None else Point(site.lat, site.lon)
    here = fix or at_site
    # A correction annotates an earlier scan and may be made away from the box.
    if here is None or scan.type is ScanType.CORRECTION:
        return flags
    observed = scan.observed
    if item.seen is not None and item.seen_at is not None:
        hours = abs((observed - item.seen_at).total_seconds()) / 3600
        if distance_km(here, item.seen) - error_km > rules.far_km + rules.max_kmh * hours:
            flags.append("impossible_travel")
    # An offline scan synced late is older news.
    if moves and (item.seen_at is None or observed >= item.seen_at):
        item.seen_at, item.seen_lat, item.seen_lon, item.seen_event = observed, here.lat, here.lon, scan.event_id
    return flags


def _dispatch(item: ItemState, scan: ScanFacts) -> list[str]:
    flags = []
    if item.status is ItemStatus.IN_TRANSIT:
        flags.append("already_in_transit")
    route = route_to(item.destination)
    step = 1 if item.leg is Leg.OUTBOUND else -1
    target = scan.counterparty
    assert target is not None
    if scan.site in route and target in route:
        distance = (route.index(target) - route.index(scan.site)) * step
        if distance > 1:
            flags.append("level_skipped")
        elif distance < 1:
            flags.append("off_route")
    elif target not in route:
        flags.append("off_route")
    if sorted(scan.seals) != sorted(item.seals):
        flags.append("seal_mismatch")
    item.status = ItemStatus.IN_TRANSIT
    item.dispatch_event = scan.event_id
    item.dispatch_to = target
    item.dispatch_seals = list(scan.seals)
    item.dispatch_handoff = scan.handoff
    item.dispatched_at = scan.observed
    return flags


def _escorted(scan: ScanFacts, sites: Mapping[str, Place], rules: Rules, escorts: Escorts) -> list[str]:
    """A dispatch to a destination whose kerawanan needs an escort names one, in a
    truckload (`handoff`) for them to attest; the NRPs it names are escorts' who may
    guard it, where that is known."""
    assert scan.counterparty is not None
    flags = []
    if sites[scan.counterparty].kerawanan in rules.escort_required and not (scan.escorts and scan.handoff):
        flags.append("no_escort")
    if escorts.known is not None and not set(scan.escorts) <= set(escorts.known):
        flags.append("unknown_escort")
    return flags


def _undelivered(item: ItemState, party: Party, escorts: Escorts) -> list[str]:
    """A box taken over from an escorted truckload that no named escort has delivered."""
    load = escorts.truckloads.get(item.dispatch_handoff or "")
    if party is Party.RECEIVER and load is not None and load.escorts and not load.delivered:
        return ["no_delivery"]
    return []


def _receive(item: ItemState, scan: ScanFacts, party: Party, sites: Mapping[str, Place]) -> list[str]:
    flags = []
    if party is Party.DISPATCHER:
        flags.append("wrong_site")  # taken back by the site that sent it
    if scan.counterparty is not None and scan.counterparty != item.custodian:
        flags.append("wrong_origin")  # custody stays with the dispatcher until now
    if sorted(scan.seals) != sorted(item.dispatch_seals or []):
        flags.append("seal_mismatch")
    item.custodian = scan.site
    if scan.seals:
        item.seals = list(scan.seals)
    at_kpu = sites[scan.site].level is SiteLevel.KPU
    item.status = ItemStatus.RETURNED if item.leg is Leg.RETURN and at_kpu else ItemStatus.HELD
    item.dispatch_event = item.dispatch_to = item.dispatch_handoff = None
    item.dispatch_seals = None
    item.dispatched_at = None
    return flags


_BEFORE = {ScanType.OPEN: ItemStatus.HELD, ScanType.COUNT: ItemStatus.OPENED, ScanType.RESEAL: ItemStatus.COUNTED}


def _at_polling_station(item: ItemState, scan: ScanFacts) -> list[str]:
    flags = []
    if scan.site != item.destination:
        flags.append("not_at_destination")
    if item.status is not _BEFORE[scan.type]:
        flags.append("out_of_order")
    if scan.type is ScanType.OPEN:
        item.status = ItemStatus.OPENED
    elif scan.type is ScanType.COUNT:
        item.status = ItemStatus.COUNTED
    else:
        item.status = ItemStatus.RESEALED
        item.seals = list(scan.seals)
        item.leg = Leg.RETURN
    return flags


def sync_order(device_seq: int, highest: int | None) -> list[str]:
    """`out_of_order_sync` for a scan its phone numbered below one of the phone's scans
    already in the log (`highest`): the phone's outbox sends in `device_seq` order, so
    the scan was held back and released later. A phone's history, not a box's, but the
    log alone decides it (its entries in order and their signed numbers), so a replay
    of the log finds the same flag."""
    return ["out_of_order_sync"] if highest is not None and device_seq < highest else []


def pending_receipts(items: list[ItemState], handoff: str) -> list[str]:
    """The boxes of a truckload not yet received: missing when its receiver closes it."""
    return sorted(i.id for i in items if i.status is ItemStatus.IN_TRANSIT and i.dispatch_handoff == handoff)
