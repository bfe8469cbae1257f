"""The custody rules as a table, every cell, without a database: item state × scan type
× who scans → moves / evidence only; an escort's pickup or delivery × who makes it ×
where × of what → attests / evidence only. And the refusals: truckloads with fixed
ends, handoff ids scoped to their site, what each role scans, truckloads an escort may
attest. And the rules stay pure."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from models.custody.rules import (
    ATTESTATIONS,
    Escorts,
    ItemState,
    ItemStatus,
    Leg,
    Outcome,
    Party,
    Rules,
    ScanType,
    Truckload,
    attest,
    attestation_refusal,
    join_truckload,
    judge,
    party_of,
    reckon,
    refusal,
    stocktake_refusal,
    truckload_refusal,
)
from models.places.codes import Kerawanan, SiteLevel

KPU, PPK, PPS, TPS = "53.03", "53.03.08", "53.03.08.2001", "53.03.08.2001-003"
STRANGER = "53.03.09"  # another district: neither holds the box nor is sent it
NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
RULES = Rules(late_after=timedelta(hours=24), far_km=5, max_kmh=80, return_deadline=None)


@dataclass(frozen=True)
class Place:
    level: SiteLevel
    lat: float | None = None
    lon: float | None = None
    kerawanan: str | None = None


SITES = {
    KPU: Place(SiteLevel.KPU), PPK: Place(SiteLevel.PPK), PPS: Place(SiteLevel.PPS),
    TPS: Place(SiteLevel.TPS, kerawanan=Kerawanan.RAWAN), STRANGER: Place(SiteLevel.PPK),
}  # fmt: skip


@dataclass(frozen=True)
class Scan:
    type: ScanType
    site: str
    event_id: str = "e-1"
    counterparty: str | None = None
    handoff: str | None = None
    escorts: list[str] = field(default_factory=list)
    manifest: str | None = None
    seals: list[str] = field(default_factory=list)
    location: None = None
    label: int | None = None
    incident: str | None = None
    ref: str | None = None
    stocktake: str | None = None
    observed: datetime = NOW


M, E = Outcome.MOVES, Outcome.EVIDENCE
# What each scan type does, by who makes it: (custodian, anyone else) while the box
# rests somewhere; (dispatcher, receiver named by the dispatch, anyone else) while it
# is in transit. Written out, not derived from the module's table.
EXPECTED = {
    ScanType.SEAL: ((M, E), (E, E, E)),
    ScanType.DISPATCH: ((M, E), (M, E, E)),
    ScanType.RECEIVE: ((E, E), (M, M, E)),
    ScanType.OPEN: ((M, E), (E, E, E)),
    ScanType.COUNT: ((M, E), (E, E, E)),
    ScanType.RESEAL: ((M, E), (E, E, E)),
    ScanType.STORE: ((M, E), (E, E, E)),
    ScanType.INCIDENT: ((E, E), (E, E, E)),
    ScanType.CORRECTION: ((E, E), (E, E, E)),
    ScanType.STOCKTAKE: ((E, E), (E, E, E)),
}
RESTING = [s for s in ItemStatus if s is not ItemStatus.IN_TRANSIT]
# Where each party stands: the box rests at (or was dispatched from) the PPK, bound for the PPS.
SITE_OF = {Party.CUSTODIAN: PPK, Party.DISPATCHER: PPK, Party.RECEIVER: PPS, Party.OTHER: STRANGER}


def box(status: ItemStatus) -> ItemState:
    transit = status is ItemStatus.IN_TRANSIT
    return ItemState(
        id=f"{TPS}-BUP", destination=TPS, label_serial=1, status=status,
        leg=Leg.RETURN if status in (ItemStatus.RESEALED, ItemStatus.RETURNED) else Leg.OUTBOUND,
        custodian=PPK, seals=["S-1"], dispatch_event="d-1" if transit else None,
        dispatch_to=PPS if transit else None, dispatch_seals=["S-1"] if transit else None,
        dispatch_handoff=f"{PPK}-{PPS}-1" if transit else None,
        dispatched_at=NOW - timedelta(hours=1) if transit else None, last_index=7,
        seen_at=None, seen_lat=None, seen_lon=None, seen_index=None,
    )  # fmt: skip


def scan_by(kind: ScanType, party: Party) -> Scan:
    site = SITE_OF[party]
    extra: dict = {"seals": ["S-1"]}
    if kind is ScanType.DISPATCH:
        extra["counterparty"] = PPS
    if kind is ScanType.RECEIVE:
        extra["counterparty"] = PPK
    if kind is ScanType.INCIDENT:
        extra["incident"] = "wet"
    if kind is ScanType.CORRECTION:
        extra["ref"] = "d-1"
    if kind is ScanType.STOCKTAKE:
        extra["stocktake"] = f"{site}-SO-1"
    return Scan(kind, site, **extra)


CUSTODY_SCANS = [kind for kind in ScanType if kind not in ATTESTATIONS]


def cells():
    for kind, (resting, moving) in EXPECTED.items():
        for status in RESTING:
            for party, outcome in zip((Party.CUSTODIAN, Party.OTHER), resting, strict=True):
                yield status, kind, party, outcome
        for party, outcome in zip((Party.DISPATCHER, Party.RECEIVER, Party.OTHER), moving, strict=True):
            yield ItemStatus.IN_TRANSIT, kind, party, outcome


def test_the_table_covers_every_state_scan_type_and_party():
    assert sorted(EXPECTED) == sorted(CUSTODY_SCANS)
    assert len(list(cells())) == len(CUSTODY_SCANS) * (2 * len(RESTING) + 3) == 170


@pytest.mark.parametrize(("status", "kind", "party", "outcome"), list(cells()), ids=lambda v: str(v))
def test_every_cell_of_the_state_machine(status, kind, party, outcome):
    item = box(status)
    before = dataclasses.replace(item)
    assert party_of(item, SITE_OF[party]) is party
    verdict = judge(item, scan_by(kind, party), SITES, NOW, RULES)
    assert (verdict.party, verdict.outcome) == (party, outcome)
    if outcome is Outcome.EVIDENCE:
        assert item == before, "evidence moved something"
        if kind in (ScanType.INCIDENT, ScanType.CORRECTION, ScanType.STOCKTAKE):
            assert verdict.flags in ([], ["incident_wet"]), "a record, not an irregularity"
        else:
            assert verdict.flags, "evidence must say why nothing moved"
        return
    # What a move does to custody.
    if kind is ScanType.RECEIVE:
        assert item.custodian == SITE_OF[party] and item.dispatch_to is None
        assert item.status in (ItemStatus.HELD, ItemStatus.RETURNED)
    elif kind is ScanType.DISPATCH:
        assert (item.status, item.custodian, item.dispatch_to) == (ItemStatus.IN_TRANSIT, PPK, PPS)
    else:
        assert item.custodian == before.custodian
    if kind is ScanType.SEAL:
        assert item.seals == ["S-1"] and item.status is (ItemStatus.SEALED if status is ItemStatus.REGISTERED else status)
    expected_status = {ScanType.OPEN: ItemStatus.OPENED, ScanType.COUNT: ItemStatus.COUNTED, ScanType.RESEAL: ItemStatus.RESEALED}
    if kind in expected_status:
        assert item.status is expected_status[kind]


def test_someone_who_does_not_hold_a_box_cannot_send_it_on():
    """Finding 3: a KPPS dispatching a box the KPU holds moves nothing, and a receive of it is no receive."""
    item = box(ItemStatus.HELD)
    item.custodian = KPU
    dispatch = Scan(ScanType.DISPATCH, TPS, counterparty=PPS, seals=["S-1"])
    verdict = judge(item, dispatch, SITES, NOW, RULES)
    assert verdict.outcome is Outcome.EVIDENCE and verdict.flags == ["not_custodian"]
    assert (item.status, item.custodian, item.dispatch_to) == (ItemStatus.HELD, KPU, None)
    receive = Scan(ScanType.RECEIVE, PPS, counterparty=TPS, seals=["S-1"])
    verdict = judge(item, receive, SITES, NOW, RULES)
    assert verdict.outcome is Outcome.EVIDENCE and verdict.flags == ["no_dispatch"]
    assert item.custodian == KPU


def test_a_receive_at_another_site_than_the_dispatch_named_moves_nothing():
    item = box(ItemStatus.IN_TRANSIT)
    verdict = judge(item, Scan(ScanType.RECEIVE, STRANGER, seals=["S-1"]), SITES, NOW, RULES)
    assert verdict.outcome is Outcome.EVIDENCE and verdict.flags == ["wrong_site"]
    assert (item.status, item.custodian, item.dispatch_to) == (ItemStatus.IN_TRANSIT, PPK, PPS)


def test_evidence_does_not_move_where_the_box_was_last_seen():
    item = box(ItemStatus.HELD)
    far = {**SITES, STRANGER: Place(SiteLevel.PPK, -9.0, 124.0)}
    judge(item, Scan(ScanType.SEAL, STRANGER, seals=["X"]), far, NOW, RULES)
    assert item.seen_at is None and item.seen_lat is None


# Truckloads: ends fixed by the first dispatch, ids scoped to the dispatching site.
@pytest.mark.parametrize(
    ("handoff", "existing", "refused_because"),
    [
        (f"{PPK}-{PPS}-1", None, None),
        (f"{PPK}-{PPS}-1", Truckload(PPK, PPS), None),
        (f"{PPK}-{PPS}-1", Truckload(PPK, "53.03.08.2002"), "goes from 53.03.08 to 53.03.08.2002"),
        (f"{PPK}-{PPS}-1", Truckload(PPK, PPS, closed=True), "was closed"),
        ("truck-1", None, "begins with the dispatching site's code"),
        (f"{KPU}-{PPK}-1", None, "begins with the dispatching site's code"),  # the KPU's, not the PPK's
        (f"{PPK}.2001-x", None, "begins with the dispatching site's code"),  # a village's
        (f"{PPK}x", None, "begins with the dispatching site's code"),
    ],
)
def test_a_dispatch_joins_only_its_own_sites_truckload_with_the_same_ends(handoff, existing, refused_because):
    reason = truckload_refusal(Scan(ScanType.DISPATCH, PPK, counterparty=PPS, handoff=handoff), existing)
    if refused_because is None:
        assert reason is None
    else:
        assert reason is not None and refused_because in reason


# A receive naming its truckload is checked against the truckload's manifest: the box
# must be awaited in it (models/custody/manifests.py lists what a truckload carries).
TRUCK = f"{PPK}-{PPS}-1"  # the truckload box(IN_TRANSIT) travels in


@pytest.mark.parametrize(
    ("status", "site", "handoff", "outcome", "flags"),
    [
        (ItemStatus.IN_TRANSIT, PPS, TRUCK, M, []),
        (ItemStatus.IN_TRANSIT, PPS, None, M, []),  # a receive need not name its truckload
        # Custody moves (the dispatch named this receiver), and the swap of trucks shows.
        (ItemStatus.IN_TRANSIT, PPS, f"{PPK}-{PPS}-2", M, ["manifest_mismatch"]),
        (ItemStatus.IN_TRANSIT, STRANGER, TRUCK, E, ["wrong_site"]),
        # Received already: off the manifest's awaited boxes, and no dispatch pending.
        (ItemStatus.HELD, PPS, TRUCK, E, ["no_dispatch", "manifest_mismatch"]),
    ],
)
def test_a_receive_names_only_a_truckload_the_box_travels_in(status, site, handoff, outcome, flags):
    item = box(status)
    receive = Scan(ScanType.RECEIVE, site, counterparty=PPK, handoff=handoff, seals=["S-1"])
    verdict = judge(item, receive, SITES, NOW, RULES)
    assert (verdict.outcome, verdict.flags) == (outcome, flags)


@pytest.mark.parametrize(
    ("stocktake", "closed", "refused_code"),
    [
        (f"{PPK}-SO-1", False, None),  # the site's own stock-take, open
        (f"{PPK}-SO-1", True, "stocktake_closed"),  # closed: a new count needs a new id
        (f"{PPS}-SO-1", False, "stocktake_not_sites"),  # another site's count, even one below
        (f"{PPK}SO-1", False, "stocktake_not_sites"),  # the code must end where the site's does
    ],
)
def test_a_stocktake_scan_joins_only_its_own_sites_open_count(stocktake, closed, refused_code):
    reason = stocktake_refusal(Scan(ScanType.STOCKTAKE, PPK, stocktake=stocktake), closed)
    assert (reason.code if reason is not None else None) == refused_code


# A closing sorts the boxes: held and scanned (found), held and not scanned (missing),
# scanned and not held (unexpected). A box dispatched from the site is on a truck, not
# on its shelves, though custody stays with the site until the receive.
@pytest.mark.parametrize(
    ("status", "custodian", "scanned", "found", "missing", "unexpected"),
    [
        (ItemStatus.HELD, PPK, True, True, False, False),
        (ItemStatus.HELD, PPK, False, False, True, False),
        (ItemStatus.SEALED, PPK, False, False, True, False),
        (ItemStatus.IN_TRANSIT, PPK, False, False, False, False),  # on the road: not missing
        (ItemStatus.IN_TRANSIT, PPK, True, False, False, True),  # on the road, yet scanned here
        (ItemStatus.HELD, STRANGER, True, False, False, True),  # another site's box: an orphan here
        (ItemStatus.HELD, STRANGER, False, False, False, False),
    ],
)
def test_a_stocktake_closing_sorts_found_missing_and_unexpected(status, custodian, scanned, found, missing, unexpected):
    item = dataclasses.replace(box(status), custodian=custodian)
    reckoning = reckon(PPK, [item], [item.id] if scanned else [])
    assert (item.id in reckoning.found, item.id in reckoning.missing, item.id in reckoning.unexpected) == (
        found, missing, unexpected,
    )


def test_a_village_cannot_take_a_polling_stations_handoff_ids():
    # 53.03.08.2001-003-… reads as TPS 003's id, not as the village's.
    scan = Scan(ScanType.DISPATCH, PPS, counterparty=TPS, handoff=f"{TPS}-x")
    assert truckload_refusal(scan, None) is not None
    assert truckload_refusal(dataclasses.replace(scan, site=TPS, counterparty=PPS), None) is None


@pytest.mark.parametrize(
    ("role", "jurisdiction", "kind", "site", "refused_because"),
    [
        ("kpu", KPU, ScanType.DISPATCH, KPU, None),
        ("ppk", PPK, ScanType.RECEIVE, PPK, None),
        ("pps", PPS, ScanType.RECEIVE, PPS, None),
        ("kpps", TPS, ScanType.OPEN, TPS, None),
        ("escort", KPU, ScanType.INCIDENT, PPK, None),
        ("escort", KPU, ScanType.PICKUP, KPU, None),
        ("escort", PPK, ScanType.DELIVERY, PPK, None),
        ("escort", KPU, ScanType.DISPATCH, KPU, "escort officers attest pickups and deliveries and report incidents"),
        ("escort", KPU, ScanType.RECEIVE, PPK, "handoffs are scanned by the custodians"),
        ("escort", PPK, ScanType.PICKUP, KPU, "outside your jurisdiction"),
        ("kpu", KPU, ScanType.PICKUP, KPU, "an escort officer's own attestation"),
        ("ppk", PPK, ScanType.DELIVERY, PPK, "an escort officer's own attestation"),
        ("ppk", PPK, ScanType.RECEIVE, PPS, "scans at a PPK site"),
        ("ppk", PPK, ScanType.RECEIVE, STRANGER, "outside your jurisdiction"),
        ("auditor", KPU, ScanType.SEAL, KPU, "does not scan"),
        ("integrator", KPU, ScanType.SEAL, KPU, "does not scan"),
        ("admin", "", ScanType.SEAL, KPU, "does not scan"),
    ],
)
def test_what_each_role_scans(role, jurisdiction, kind, site, refused_because):
    scan = scan_by(kind, Party.CUSTODIAN)
    scan = dataclasses.replace(scan, site=site, counterparty=scan.counterparty)
    reason = refusal(scan, role, jurisdiction)
    assert (reason is None) if refused_because is None else (reason is not None and refused_because in reason)


# Escorts: a truckload from the district to the village, guarded by NRP 111.
TRUCK, NAMED, UNNAMED = f"{PPK}-{PPS}-1", "111", "222"
WHOLE, IN_IT, NOT_IN_IT = "the whole truckload", "a box in it", "a box not in it"
END = {ScanType.PICKUP: PPK, ScanType.DELIVERY: PPS}  # where each is made
OTHER_END = {ScanType.PICKUP: PPS, ScanType.DELIVERY: PPK}
A = Outcome.ATTESTS
# Who attests (the escort named, or another), where (the scan's own end of the
# truckload, its other end, a stranger's site), of what → outcome and flags. Written
# out for pickups; a delivery is the same with `delivery_wrong_site`.
ATTESTED = [
    (NAMED, "end", WHOLE, A, []),
    (NAMED, "end", IN_IT, A, []),
    (NAMED, "end", NOT_IN_IT, E, ["not_in_truckload"]),
    (NAMED, "other end", WHOLE, E, ["{kind}_wrong_site"]),
    (NAMED, "other end", IN_IT, E, ["{kind}_wrong_site"]),
    (NAMED, "other end", NOT_IN_IT, E, ["{kind}_wrong_site", "not_in_truckload"]),
    (NAMED, "stranger", WHOLE, E, ["{kind}_wrong_site"]),
    (NAMED, "stranger", IN_IT, E, ["{kind}_wrong_site"]),
    (NAMED, "stranger", NOT_IN_IT, E, ["{kind}_wrong_site", "not_in_truckload"]),
    (UNNAMED, "end", WHOLE, E, ["not_escort"]),
    (UNNAMED, "end", IN_IT, E, ["not_escort"]),
    (UNNAMED, "end", NOT_IN_IT, E, ["not_escort", "not_in_truckload"]),
    (UNNAMED, "other end", WHOLE, E, ["not_escort", "{kind}_wrong_site"]),
    (UNNAMED, "other end", IN_IT, E, ["not_escort", "{kind}_wrong_site"]),
    (UNNAMED, "other end", NOT_IN_IT, E, ["not_escort", "{kind}_wrong_site", "not_in_truckload"]),
    (UNNAMED, "stranger", WHOLE, E, ["not_escort", "{kind}_wrong_site"]),
    (UNNAMED, "stranger", IN_IT, E, ["not_escort", "{kind}_wrong_site"]),
    (UNNAMED, "stranger", NOT_IN_IT, E, ["not_escort", "{kind}_wrong_site", "not_in_truckload"]),
]


def truckload() -> Truckload:
    return Truckload(PPK, PPS, escorts=frozenset({NAMED}))


def attestation_cells():
    for kind in sorted(ATTESTATIONS):
        for nrp, where, what, outcome, flags in ATTESTED:
            yield kind, nrp, where, what, outcome, [f.format(kind=kind) for f in flags]


def test_the_attestation_table_covers_every_escort_place_and_scope():
    cells = list(attestation_cells())
    assert len(cells) == len(ATTESTATIONS) * 2 * 3 * 3 == 36
    assert {(c[1], c[2], c[3]) for c in cells} == {
        (n, w, s) for n in (NAMED, UNNAMED) for w in ("end", "other end", "stranger") for s in (WHOLE, IN_IT, NOT_IN_IT)
    }


@pytest.mark.parametrize(("kind", "nrp", "where", "what", "outcome", "flags"), list(attestation_cells()), ids=str)
def test_every_cell_of_the_escorts_attestations(kind, nrp, where, what, outcome, flags):
    load = truckload()
    site = {"end": END[kind], "other end": OTHER_END[kind], "stranger": STRANGER}[where]
    item = None if what is WHOLE else box(ItemStatus.IN_TRANSIT if what is IN_IT else ItemStatus.HELD)
    before = None if item is None else dataclasses.replace(item)
    scan = Scan(kind, site, handoff=TRUCK, seals=["S-1"] if item else [])
    verdict = attest(load, item, scan, nrp, SITES, NOW, RULES)
    assert (verdict.party, verdict.outcome, verdict.flags) == (
        Party.ESCORT if nrp == NAMED else Party.OTHER, outcome, flags
    )
    assert item == before, "an escort's attestation never moves custody"
    # Only a named escort's delivery where the truckload goes delivers it.
    assert load.delivered is (kind is ScanType.DELIVERY and outcome is A)


def test_an_escort_counting_a_box_sees_its_seals_and_its_label():
    item = box(ItemStatus.IN_TRANSIT)
    item.label_serial = 2
    scan = Scan(ScanType.PICKUP, PPK, handoff=TRUCK, seals=["S-9"], label=1)
    verdict = attest(truckload(), item, scan, NAMED, SITES, NOW, RULES)
    assert (verdict.outcome, verdict.flags) == (A, ["seal_mismatch", "revoked_label"])


@pytest.mark.parametrize("kind", sorted(ATTESTATIONS))
def test_an_attestation_citing_a_manifest_the_truckload_never_had_attests_nothing(kind):
    end = END[kind]
    had = {"sha256:" + "1" * 64, "sha256:" + "2" * 64}  # one after each dispatch that loaded a box
    for cited, outcome, flags in (("sha256:" + "2" * 64, A, []), ("sha256:" + "9" * 64, E, ["unknown_manifest"])):
        load = truckload()
        verdict = attest(load, None, Scan(kind, end, handoff=TRUCK, manifest=cited), NAMED, SITES, NOW, RULES, had)
        assert (verdict.outcome, verdict.flags) == (outcome, flags)
        assert load.delivered is (kind is ScanType.DELIVERY and outcome is A)


def test_attestations_are_timed_and_placed_like_any_scan():
    far = {**SITES, PPK: Place(SiteLevel.PPK, -9.0, 124.0)}
    scan = Scan(ScanType.PICKUP, PPK, handoff=TRUCK, observed=NOW - timedelta(days=2),
                location=Located(-10.0, 124.0, 10.0))  # fmt: skip
    verdict = attest(truckload(), None, scan, NAMED, far, NOW, RULES)
    assert (verdict.outcome, verdict.flags) == (A, ["late_sync", "far_from_site"])


@dataclass(frozen=True)
class Located:
    lat: float
    lon: float
    accuracy_m: float | None = None


REQUIRED = dataclasses.replace(RULES, escort_required=frozenset({Kerawanan.RAWAN, Kerawanan.SANGAT_RAWAN}))


@pytest.mark.parametrize(
    ("rules", "escorts", "handoff", "known", "flags"),
    [
        (REQUIRED, [], f"{PPS}-{TPS}-1", None, ["no_escort"]),  # a rawan TPS, no escort named
        (REQUIRED, [NAMED], None, None, ["no_escort"]),  # named, but no truckload to attest
        (REQUIRED, [NAMED], f"{PPS}-{TPS}-1", None, []),
        (RULES, [], f"{PPS}-{TPS}-1", None, []),  # the settings require no escort there
        (REQUIRED, [NAMED, UNNAMED], f"{PPS}-{TPS}-1", {NAMED}, ["unknown_escort"]),  # a typed NRP of no escort
        (REQUIRED, [NAMED], f"{PPS}-{TPS}-1", {NAMED}, []),
        (REQUIRED, [], f"{PPS}-{TPS}-1", set(), ["no_escort"]),
    ],
)
def test_a_dispatch_to_a_vulnerable_destination_names_its_escorts(rules, escorts, handoff, known, flags):
    item = box(ItemStatus.HELD)
    item.custodian = PPS
    scan = Scan(ScanType.DISPATCH, PPS, counterparty=TPS, handoff=handoff, escorts=escorts, seals=["S-1"])
    verdict = judge(item, scan, SITES, NOW, rules, Escorts({}, known))
    assert (verdict.outcome, verdict.flags) == (M, flags)


def test_a_dispatch_to_an_unrated_destination_needs_no_escort():
    verdict = judge(box(ItemStatus.HELD), Scan(ScanType.DISPATCH, PPK, counterparty=PPS, seals=["S-1"]), SITES, NOW,
                    REQUIRED)  # fmt: skip
    assert verdict.flags == []


@pytest.mark.parametrize(
    ("escorts", "delivered", "site", "flags"),
    [
        ({NAMED}, False, PPS, ["no_delivery"]),  # escorted, and no escort handed it over
        ({NAMED}, True, PPS, []),
        (set(), False, PPS, []),  # no escort named: nobody to deliver
        ({NAMED}, False, PPK, ["wrong_site"]),  # taken back by the dispatcher: nothing was delivered
    ],
)
def test_a_receive_from_an_escorted_truckload_expects_its_delivery(escorts, delivered, site, flags):
    load = Truckload(PPK, PPS, escorts=frozenset(escorts), delivered=delivered)
    receive = Scan(ScanType.RECEIVE, site, counterparty=PPK, seals=["S-1"])
    verdict = judge(box(ItemStatus.IN_TRANSIT), receive, SITES, NOW, RULES, Escorts({TRUCK: load}))
    assert (verdict.outcome, verdict.flags) == (M, flags)


def test_a_truckload_is_guarded_by_every_escort_its_dispatches_name():
    loads: dict[str, Truckload] = {}
    join_truckload(loads, Scan(ScanType.DISPATCH, PPK, counterparty=PPS, handoff=TRUCK, escorts=[NAMED]))
    join_truckload(loads, Scan(ScanType.DISPATCH, PPK, counterparty=PPS, handoff=TRUCK, escorts=[UNNAMED]))
    assert loads == {TRUCK: Truckload(PPK, PPS, escorts=frozenset({NAMED, UNNAMED}))}


@pytest.mark.parametrize(
    ("existing", "jurisdiction", "refused_because"),
    [
        (Truckload(PPK, PPS), KPU, None),  # the regency's Polres
        (Truckload(KPU, PPK), PPK, None),  # a Polsek: its district is one end
        (Truckload(PPK, PPS), STRANGER, "outside your jurisdiction 53.03.09"),  # another district's Polsek
        (Truckload(PPK, PPS), "53.04", "outside your jurisdiction 53.04"),  # another regency's Polres
        (None, KPU, "there is no truckload"),  # not dispatched, or not yet synced
    ],
)
def test_an_escort_attests_only_truckloads_in_their_jurisdiction(existing, jurisdiction, refused_because):
    reason = attestation_refusal(Scan(ScanType.PICKUP, PPK, handoff=TRUCK), existing, jurisdiction)
    assert (reason is None) if refused_because is None else (reason is not None and refused_because in reason)


def test_the_rules_entry_records_the_escort_requirement():
    record = REQUIRED.record()
    assert record["escort_required"] == ["rawan", "sangat_rawan"]
    assert Rules.of_record(record) == REQUIRED
    older = {k: v for k, v in record.items() if k != "escort_required"}  # a log from before escorts
    assert Rules.of_record(older).escort_required == frozenset()
    with pytest.raises(ValueError, match="escort_required"):
        Rules.of_record({**record, "escort_required": ["aman"]})


@pytest.mark.parametrize("module", ["models.custody.rules", "models.custody.replay"])
def test_the_rules_and_their_replay_are_pure(module):
    """The auditors' verifier loads the rules and replays a log by them without the
    database layer or the web app."""
    code = (
        f"import sys, {module}\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'fastapi', 'starlette', 'pydantic', 'api', 'scripts', 'alembic'))\n"
        "ours = sorted(m for m in sys.modules if m.split('.')[0] == 'models')\n"
        "print(heavy, ours)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    heavy, ours = out.strip().split("] [")
    assert heavy == "["
    # The replay rebuilds truckload manifests, with the pure module that makes them.
    manifests = {"models.custody.manifests"} if module == "models.custody.replay" else set()
    assert set(ours.rstrip("]").replace("'", "").split(", ")) == {
        "models", "models.core", "models.core.errors", "models.core.times", "models.places", "models.places.codes",
        "models.places.geo", "models.custody", "models.custody.rules", "models.custody.refusals", module, *manifests,
    }  # fmt: skip
