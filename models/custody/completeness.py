"""Completeness per polling station (kelengkapan): has every TPS received its kit?

Each kind of election declares the ballot boxes a TPS must receive, one per contest
(`KITS`); every other item registered for a TPS (ballot papers, forms, seals...) is
part of its kit too. A TPS is complete when every piece has reached it, not started
when none has, incomplete otherwise; for what is missing, where the log places it now.
An area (village, district, regency) counts its TPS by that, and lists those not
complete, the most vulnerable first (sangat rawan), then by when the kit is needed.

`assess` is pure; `completeness` reads an area's items and polling stations in two
queries (one of each table), so a regency answers in one round trip of each."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.custody.items import Item
from models.custody.rules import ItemStatus, Leg
from models.places.codes import Kerawanan, SiteLevel
from models.places.zones import zone_of
from models.places.sites import Site, get_site, regency_of, under

Election = Literal["pemilu", "pilkada"]
# The ballot boxes of each election, by contest code (the item id's code).
KITS: dict[str, tuple[str, ...]] = {
    "pemilu": ("PPWP", "DPR", "DPD", "DPRDPROV", "DPRDKAB"),  # president, DPR, DPD, DPRD I and II
    "pilkada": ("GUB", "BUP"),  # governor, and regent (a city elects its mayor: WAKO)
}
CITY_MAYOR = "WAKO"
# How many days before the vote a TPS needs its kit, by kerawanan: the most vulnerable
# (remote, insecure) get theirs first; every other TPS the day before (H-1).
LEAD_DAYS = {Kerawanan.SANGAT_RAWAN: 3, Kerawanan.RAWAN: 2}
OPENING = time(7, 0)  # a TPS opens at 07:00, local time
# Sangat rawan first, unrated last.
_URGENCY = {Kerawanan.SANGAT_RAWAN: 0, Kerawanan.RAWAN: 1, Kerawanan.KURANG_RAWAN: 2, None: 3}


def kit(election: str, tps: str) -> tuple[str, ...]:
    """The contests whose ballot boxes a TPS receives. A city (kota: its regency number
    is 71 or above) elects a mayor in a Pilkada, not a regent."""
    if election == "pilkada" and tps[3] == "7":
        return ("GUB", CITY_MAYOR)
    return KITS[election]


class State(enum.StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Held:
    """An item bound for a TPS, where the log places it."""

    id: str
    custodian: str
    status: ItemStatus
    leg: Leg
    dispatch_to: str | None

    def reached(self, tps: str) -> bool:
        """At the TPS now, or on its way back after the count (it was there)."""
        at_tps = self.custodian == tps and self.status is not ItemStatus.IN_TRANSIT
        return at_tps or self.leg is Leg.RETURN


@dataclass(frozen=True)
class Missing:
    code: str  # the contest or kind code
    item: Held | None  # None: never registered


@dataclass(frozen=True)
class Station:
    code: str
    name: str
    kerawanan: Kerawanan | None
    need_by: datetime | None
    state: State
    required: int
    reached: int
    missing: list[Missing]

    def urgency(self) -> tuple[int, datetime, str]:
        return (_URGENCY[self.kerawanan], self.need_by or datetime.max.replace(tzinfo=UTC), self.code)


def need_by(tps: str, kerawanan: Kerawanan | None, voting_day: date | None) -> datetime | None:
    """When the TPS needs its kit: its lead days before the vote, at opening time there."""
    if voting_day is None:
        return None
    day = voting_day - timedelta(days=LEAD_DAYS.get(kerawanan, 1))
    return datetime.combine(day, OPENING, tzinfo=zone_of(tps)[0])


def assess(tps: str, contests: tuple[str, ...], items: list[Held]) -> tuple[State, int, int, list[Missing]]:
    """(state, pieces required, pieces reached, what is missing, by code) of one TPS:
    its contests' boxes, and every other item registered for it."""
    by_code: dict[str, list[Held]] = {}
    for item in items:
        by_code.setdefault(item.id[len(tps) + 1 :].split("-")[0], []).append(item)
    missing = [Missing(code, None) for code in contests if code not in by_code]
    pieces = [item for code in sorted(by_code) for item in by_code[code]]
    missing += [Missing(item.id[len(tps) + 1 :].split("-")[0], item) for item in pieces if not item.reached(tps)]
    missing.sort(key=lambda m: (m.code, m.item.id if m.item else ""))
    required = len(pieces) + sum(1 for m in missing if m.item is None)
    reached = required - len(missing)
    state = State.COMPLETE if not missing else State.NOT_STARTED if reached == 0 else State.INCOMPLETE
    return state, required, reached, missing


@dataclass
class Counts:
    complete: int = 0
    incomplete: int = 0
    not_started: int = 0

    def add(self, state: State) -> None:
        setattr(self, state.value, getattr(self, state.value) + 1)


@dataclass
class AreaCounts:
    code: str
    name: str
    counts: Counts = field(default_factory=Counts)


@dataclass
class Completeness:
    site: Site
    election: str
    counts: Counts
    areas: list[AreaCounts]  # one level down (none below a TPS)
    stations: list[Station]  # not complete, most urgent first


_CHILD_LENGTH = {SiteLevel.KPU: 8, SiteLevel.PPK: 13, SiteLevel.PPS: 17}
_ITEM_COLUMNS = (Item.destination, Item.id, Item.custodian, Item.status, Item.leg, Item.dispatch_to)


def completeness(session: Session, code: str, election: str, voting_day: date | None = None) -> Completeness:
    """Every TPS at or below `code`, judged; counted in all and per area one level down."""
    site = get_site(session, code)
    stations = session.execute(
        select(Site.code, Site.name, Site.kerawanan)
        .where(Site.level == SiteLevel.TPS, under(Site.code, code))
        .order_by(Site.code)
    ).all()
    items: dict[str, list[Held]] = {}
    rows = session.execute(select(*_ITEM_COLUMNS).where(Item.log_id == regency_of(code), under(Item.destination, code)))
    for destination, *held in rows:
        items.setdefault(destination, []).append(Held(*held))
    children = session.execute(select(Site.code, Site.name).where(Site.parent_code == code).order_by(Site.code))
    areas = {child: AreaCounts(child, name) for child, name in children}
    cut = _CHILD_LENGTH.get(site.level)
    total, open_ = Counts(), []
    for tps, name, kerawanan in stations:
        state, required, reached, missing = assess(tps, kit(election, tps), items.get(tps, []))
        total.add(state)
        if cut is not None and (area := areas.get(tps[:cut])) is not None:
            area.counts.add(state)
        if state is not State.COMPLETE:
            open_.append(Station(tps, name, kerawanan, need_by(tps, kerawanan, voting_day), state, required, reached, missing))
    open_.sort(key=Station.urgency)
    return Completeness(site, election, total, list(areas.values()), open_)
