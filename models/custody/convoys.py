"""The convoy picture for the police (Polres): the truckloads on the road now, or those
dispatched on a chosen day, each with its ends, its destination's kerawanan, vehicle,
escorts' NRPs, the time since its dispatch against the hours its kerawanan allows
before `not_received`, and where its last scan was made. An escort sees the convoys
that name them.

Three queries whatever the number of trucks: the truckloads, their boxes still in
transit, and their last events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.core.db import one_of
from models.custody.events import Event
from models.custody.handoffs import Handoff, HandoffStatus
from models.custody.items import Item, ItemStatus
from models.custody.overdue import KHUSUS, Allowance
from models.places.zones import zone_of
from models.places.sites import Site, regency_of, under

_URGENCY = {"sangat_rawan": 0, "rawan": 1, "kurang_rawan": 2, None: 3}


@dataclass(frozen=True)
class LastScan:
    type: str
    site: str
    observed_at: datetime
    entry_index: int


@dataclass(frozen=True)
class Convoy:
    handoff: Handoff
    kerawanan: str | None  # the destination's
    boxes: int
    on_road: int  # of its boxes, those still in transit in it
    allowance_hours: float  # before a box of it raises not_received
    since_dispatch: timedelta
    last: LastScan | None

    @property
    def overdue(self) -> bool:
        return self.on_road > 0 and self.since_dispatch > timedelta(hours=self.allowance_hours)


@dataclass
class ConvoyPicture:
    convoys: list[Convoy]
    names: dict[str, str]  # site code → name, for every end and last scan's place


def day_bounds(day: date, code: str) -> tuple[datetime, datetime]:
    """A day as the people of the site live it (WITA in NTT)."""
    start = datetime.combine(day, time(0), tzinfo=zone_of(code)[0])
    return start, start + timedelta(days=1)


def convoys(
    session: Session, code: str, allowance: Allowance, now: datetime, *, day: date | None = None,
    nrp: str | None = None,
) -> ConvoyPicture:  # fmt: skip
    """The truckloads leaving or reaching `code` (or below it): on the road now, or
    dispatched on `day`; only those naming `nrp` when given (an escort's own)."""
    log_id = regency_of(code)
    query = select(Handoff).where(Handoff.log_id == log_id, under(Handoff.from_site, code) | under(Handoff.to_site, code))
    if day is None:
        query = query.where(Handoff.status == HandoffStatus.OPEN)
    else:
        start, end = day_bounds(day, code)
        query = query.where(Handoff.dispatched_at >= start, Handoff.dispatched_at < end)
    loads = [h for h in session.scalars(query.order_by(Handoff.dispatched_at, Handoff.id)) if nrp is None or nrp in h.escorts]
    ids = [h.id for h in loads]
    on_road: dict[str, int] = {}
    if ids:
        counted = session.execute(
            select(Item.dispatch_handoff, func.count())
            .where(Item.log_id == log_id, Item.status == ItemStatus.IN_TRANSIT, one_of(session, Item.dispatch_handoff, ids))
            .group_by(Item.dispatch_handoff)
        )
        on_road = {handoff: n for handoff, n in counted}
    if day is None:
        loads = [h for h in loads if on_road.get(h.id)]
        ids = [h.id for h in loads]
    last = _last_scans(session, log_id, ids)
    codes = {c for h in loads for c in (h.from_site, h.to_site)} | {s.site for s in last.values()}
    sites = {s.code: s for s in session.scalars(select(Site).where(one_of(session, Site.code, sorted(codes))))} if codes else {}
    found = []
    for h in loads:
        destination = sites.get(h.to_site)
        rating = destination.kerawanan.value if destination is not None and destination.kerawanan else None
        special = destination is not None and destination.special
        category = allowance.strictest(({rating} if rating else set()) | ({KHUSUS} if special else set()))
        found.append(Convoy(
            h, rating, len(h.items), on_road.get(h.id, 0), allowance.hours[category], now - h.dispatched_at, last.get(h.id),
        ))  # fmt: skip
    found.sort(key=lambda c: (not c.overdue, _URGENCY[c.kerawanan], c.handoff.dispatched_at, c.handoff.id))
    return ConvoyPicture(found, {code: site.name for code, site in sites.items()})


def _last_scans(session: Session, log_id: str, ids: list[str]) -> dict[str, LastScan]:
    """Each truckload's latest event in the log: a dispatch, a pickup, a delivery or a receive."""
    if not ids:
        return {}
    latest = (
        select(func.max(Event.entry_index))
        .where(Event.log_id == log_id, one_of(session, Event.handoff_id, ids))
        .group_by(Event.handoff_id)
    )
    rows = session.execute(
        select(Event.handoff_id, Event.type, Event.site, Event.observed_at, Event.entry_index)
        .where(Event.log_id == log_id, Event.entry_index.in_(latest))
    )
    return {handoff: LastScan(kind, site, observed, index) for handoff, kind, site, observed, index in rows}
