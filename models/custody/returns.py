"""After the count: is every box back? Return reconciliation per district (PPK) and for
the regency, and the orphans: boxes received or found in a stock-take where the log
did not expect them, with what happened next.

A box counted and resealed is on the return leg; it is `back` once received at the
KPU, `on_the_way` while in transit, `missing` if the truckload it travelled in was
closed without it (and it was not received since), else still at a TPS, PPS or PPK.
A box not resealed yet is `not_counted`. A box whose return-leg scans found other
seals than those its reseal recorded is listed (`seal_mismatch` on its return)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.core.db import one_of
from models.custody.events import Event
from models.custody.handoffs import Handoff, HandoffStatus
from models.custody.items import Item, ItemStatus, Leg
from models.custody.stocktakes import Stocktake, StocktakeStatus
from models.places.sites import Site, SiteLevel, get_site, level_of, regency_of, under

STAGES = ("back", "on_the_way", "missing", "at_tps", "at_pps", "at_ppk", "not_counted")
# Where a receive took a box the log did not send there.
ORPHAN_FLAGS = ("no_dispatch", "wrong_site")


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))


@dataclass
class Reconciliation:
    site: Site
    total: Tally
    districts: dict[str, Tally]  # PPK code → its boxes' stages
    names: dict[str, str]
    reseal_mismatches: list[tuple[str, int]]  # (box, the return-leg entry that saw other seals)


def stage(item: Item, closed: set[str]) -> str:
    """Where a box stands on its way home."""
    if item.leg is Leg.OUTBOUND:
        return "not_counted"
    if item.status is ItemStatus.RETURNED:
        return "back"
    if item.status is ItemStatus.IN_TRANSIT:
        return "missing" if item.dispatch_handoff in closed else "on_the_way"
    level = level_of(item.custodian)
    return "back" if level is SiteLevel.KPU else f"at_{level.value}"


def reconcile(session: Session, code: str) -> Reconciliation:
    """The boxes bound for `code` (a regency or a district), by return stage, per district."""
    site = get_site(session, code)
    log_id = regency_of(code)
    items = session.scalars(select(Item).where(Item.log_id == log_id, under(Item.destination, code))).all()
    in_transit = sorted({i.dispatch_handoff for i in items if i.status is ItemStatus.IN_TRANSIT and i.dispatch_handoff})
    closed = set(
        session.scalars(
            select(Handoff.id).where(
                Handoff.log_id == log_id, Handoff.status == HandoffStatus.CLOSED, one_of(session, Handoff.id, in_transit)
            )
        )
    ) if in_transit else set()  # fmt: skip
    total, districts = Tally(), {}
    for item in items:
        where = stage(item, closed)
        total.counts[where] += 1
        districts.setdefault(item.destination[:8], Tally()).counts[where] += 1
    names = {c: n for c, n in session.execute(select(Site.code, Site.name).where(one_of(session, Site.code, sorted(districts))))}
    returning = [i.id for i in items if i.leg is Leg.RETURN]
    return Reconciliation(site, total, dict(sorted(districts.items())), names, _reseal_mismatches(session, log_id, returning))


def _reseal_mismatches(session: Session, log_id: str, returning: list[str]) -> list[tuple[str, int]]:
    """Return-leg boxes a scan found with other seals than recorded: the first such entry each."""
    found: dict[str, int] = {}
    for start in range(0, len(returning), 500):
        rows = session.execute(
            select(Event.item_id, Event.entry_index, Event.type, Event.flags)
            .where(Event.log_id == log_id, one_of(session, Event.item_id, returning[start : start + 500]))
            .order_by(Event.entry_index)
        )
        resealed: set[str] = set()
        for item, index, kind, flags in rows:
            if kind == "reseal":
                resealed.add(item)
            elif item in resealed and "seal_mismatch" in flags and item not in found:
                found[item] = index
    return sorted(found.items())


@dataclass(frozen=True)
class Orphan:
    item: str
    how: str  # received (no_dispatch / wrong_site) or stocktake
    site: str
    entry_index: int
    observed_at: datetime | None  # the scan's
    next_type: str | None  # what happened next: the box's following event, if any
    next_site: str | None
    next_index: int | None
    custodian: str  # where the log places it now
    status: str


def orphans(session: Session, code: str) -> list[Orphan]:
    """Boxes received, or found in a closed stock-take, at or below `code` where the
    log did not expect them, in log order, each with what happened next."""
    log_id = regency_of(code)
    found: list[tuple[str, str, str, int, datetime | None]] = []  # item, how, site, entry, observed
    receives = session.execute(
        select(Event.item_id, Event.site, Event.entry_index, Event.observed_at, Event.flags)
        .where(Event.log_id == log_id, Event.type == "receive", under(Event.site, code))
    )
    for item, site, index, observed, flags in receives:
        why = [f for f in ORPHAN_FLAGS if f in flags]
        if why:
            found.append((item, f"received ({why[0]})", site, index, observed))
    counted = session.scalars(
        select(Stocktake).where(Stocktake.log_id == log_id, Stocktake.status == StocktakeStatus.CLOSED, under(Stocktake.site, code))
    )
    for stocktake in counted:
        found += [(item, f"stocktake {stocktake.id}", stocktake.site, stocktake.scans[item], None) for item in stocktake.unexpected]
    if not found:
        return []
    ids = sorted({f[0] for f in found})
    events = session.execute(
        select(Event.item_id, Event.entry_index, Event.type, Event.site, Event.observed_at)
        .where(Event.log_id == log_id, one_of(session, Event.item_id, ids))
        .order_by(Event.entry_index)
    ).all()
    now = {i.id: i for i in session.scalars(select(Item).where(Item.log_id == log_id, one_of(session, Item.id, ids)))}
    seen = {i: observed for _, i, _, _, observed in events}
    out = []
    for item, how, site, index, observed in sorted(found, key=lambda f: f[3]):
        after = next(((kind, at, i) for box, i, kind, at, _ in events if box == item and i > index and kind != "stocktake"), None)
        observed = observed or seen.get(index)
        out.append(Orphan(
            item, how, site, index, observed, *(after or (None, None, None)), now[item].custodian, now[item].status.value,
        ))  # fmt: skip
    return out
