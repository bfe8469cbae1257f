"""The convoy picture for the police (Polres): the truckloads on the road now, or those
dispatched on a chosen day, each with its ends, its destination's kerawanan, vehicle,
escorts' NRPs, the time since its dispatch against the hours its kerawanan allows
before `not_received`, and where its last scan was made. An escort sees the convoys
that name them.

Four queries whatever the number of trucks: the truckloads with their destinations, the
log's boxes still in transit counted per truckload, then, for the truckloads listed (the
most urgent `listed` of them), their last events and the names of their places. A
province's 11,000 trucks on the road are ordered without reading one item id."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import Text, and_, cast, func, select
from sqlalchemy.orm import Session

from models.core.db import one_of
from models.custody.events import Event
from models.custody.handoffs import Handoff, HandoffStatus
from models.custody.items import Item
from models.custody.overdue import KHUSUS, Allowance
from models.places.zones import zone_of
from models.places.sites import Site, in_area, regency_of

LISTED = 25  # the truckloads an answer lists unless asked: the most urgent screenful
_URGENCY = {"sangat_rawan": 0, "rawan": 1, "kurang_rawan": 2, None: 3}


@dataclass(frozen=True)
class LastScan:
    type: str
    site: str
    observed_at: datetime
    entry_index: int


class Load(NamedTuple):
    """A truckload as the picture shows it: these columns of its handoff."""

    id: str
    log_id: str
    from_site: str
    to_site: str
    vehicle: str | None
    status: HandoffStatus
    dispatched_at: datetime
    picked_up_at: datetime | None
    delivered_at: datetime | None
    escorts: list[str]


@dataclass(frozen=True)
class Convoy:
    handoff: Load
    kerawanan: str | None  # the destination's
    boxes: int
    on_road: int  # of its boxes, those still in transit in it
    allowance_hours: float  # before a box of it raises not_received
    since_dispatch: timedelta
    last: LastScan | None = None

    @property
    def overdue(self) -> bool:
        return self.on_road > 0 and self.since_dispatch > timedelta(hours=self.allowance_hours)


@dataclass
class ConvoyPicture:
    convoys: list[Convoy]  # the first `listed`, overdue first
    names: dict[str, str]  # site code → name, for every end and last scan's place listed
    total: int  # how many, listed or not
    overdue: int  # of them, how many are overdue


# The escorts last, as JSON text: read only for the truckloads listed or an escort's filter.
_COLUMNS = (*(getattr(Handoff, name) for name in Load._fields if name != "escorts"), cast(Handoff.escorts, Text))


def day_bounds(day: date, code: str) -> tuple[datetime, datetime]:
    """A day as the people of the site live it (WITA in NTT)."""
    start = datetime.combine(day, time(0), tzinfo=zone_of(code)[0])
    return start, start + timedelta(days=1)


def convoys(
    session: Session, code: str, allowance: Allowance, now: datetime, *, day: date | None = None,
    nrp: str | None = None, listed: int | None = None,
) -> ConvoyPicture:  # fmt: skip
    """The truckloads leaving or reaching `code` (or below it): on the road now, or
    dispatched on `day`; only those naming `nrp` when given (an escort's own); the first
    `listed` of them (all when None) with their last scans."""
    log_id = regency_of(code)
    query = (
        select(*_COLUMNS, func.json_array_length(Handoff.items), Site.kerawanan, Site.special)
        .outerjoin(Site, and_(Site.regency == log_id, Site.code == Handoff.to_site))  # the regency's sites, not all
        .where(*in_area(Handoff.log_id, code, Handoff.from_site, Handoff.to_site))
    )
    if day is None:
        query = query.where(Handoff.status == HandoffStatus.OPEN)
    else:
        start, end = day_bounds(day, code)
        query = query.where(Handoff.dispatched_at >= start, Handoff.dispatched_at < end)
    connection = session.connection()  # Core rows: a province has thousands of trucks on the road
    on_road = dict(connection.execute(
        select(Item.dispatch_handoff, func.count())
        .where(Item.log_id == log_id, Item.dispatched_at.is_not(None))  # in transit: ix_items_on_road
        .group_by(Item.dispatch_handoff)
    ).all())  # fmt: skip
    hours = {
        (rating, special): allowance.hours[allowance.strictest({rating} - {None} | ({KHUSUS} if special else set()))]
        for rating in _URGENCY for special in (False, True)
    }  # fmt: skip
    found = []
    for *columns, boxes, rating, special in connection.execute(query).all():
        load = Load(*columns)  # its escorts still JSON text
        if (day is None and not on_road.get(load.id)) or (nrp is not None and nrp not in json.loads(load.escorts)):
            continue
        convoy = Convoy(load, rating, boxes, on_road.get(load.id, 0), hours[rating, bool(special)], now - load.dispatched_at)
        found.append(((not convoy.overdue, _URGENCY[rating], load.dispatched_at, load.id), convoy))
    found.sort(key=lambda keyed: keyed[0])
    first = [convoy for _, convoy in (found if listed is None else found[:listed])]
    last = _last_scans(session, log_id, [c.handoff.id for c in first])
    shown = [  # the escorts' NRPs read from JSON for the truckloads listed only
        replace(c, handoff=c.handoff._replace(escorts=json.loads(c.handoff.escorts)), last=last.get(c.handoff.id))
        for c in first
    ]
    codes = {c for v in shown for c in (v.handoff.from_site, v.handoff.to_site)} | {s.site for s in last.values()} | {code}
    names = dict(connection.execute(select(Site.code, Site.name).where(one_of(session, Site.code, sorted(codes)))).all())
    return ConvoyPicture(shown, names, len(found), sum(not on_time for (on_time, *_), _ in found))


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
