"""Completeness per polling station (kelengkapan): has every TPS received its kit?

Each kind of election declares the ballot boxes a TPS must receive, one per contest
(`KITS`); every other item registered for a TPS (ballot papers, forms, seals...) is
part of its kit too. A TPS is complete when every piece has reached it, not started
when none has, incomplete otherwise; for what is missing, where the log places it now.
An area (village, district, regency) counts its TPS by that, and lists those not
complete, the most vulnerable first (sangat rawan), then by when the kit is needed.

`assess` is pure and says what a TPS misses. `completeness` judges every TPS of an area
from its kit's tallies (models/custody/kits.py: one row per TPS, kept as custody moves;
a regency's 7,000 item rows are never read), then reads the items of only the TPS it
lists, to say what they miss and where it is."""

from __future__ import annotations

import enum
import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Select, and_, case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from models.core.db import one_of
from models.custody import kits
from models.custody.items import Item
from models.custody.kits import StationKit
from models.custody.rules import ItemStatus, Leg
from models.places.codes import Kerawanan, SiteLevel
from models.places.zones import zone_of
from models.places.sites import Site, get_site, in_area, regency_of

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
        return kits.reached(self.custodian, self.status, self.leg, tps)


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
class Counts:  # in State's order
    complete: int = 0
    incomplete: int = 0
    not_started: int = 0


@dataclass
class AreaCounts:
    code: str
    name: str
    counts: Counts


@dataclass
class Completeness:
    site: Site
    election: str
    counts: Counts
    areas: list[AreaCounts]  # one level down (none below a TPS)
    stations: list[Station]  # not complete, most urgent first (the first `listed` of them)
    open: int  # how many TPS are not complete, listed or not


LISTED = 25  # the TPS not complete an answer lists unless asked (a screenful: the dashboard shows 25)
_CHILD_LENGTH = {SiteLevel.KPU: 8, SiteLevel.PPK: 13, SiteLevel.PPS: 17}
_ITEM_COLUMNS = (Item.destination, Item.id, Item.custodian, Item.status, Item.leg, Item.dispatch_to)
# kits.reached, in SQL.
REACHED = or_(and_(Item.custodian == Item.destination, Item.status != ItemStatus.IN_TRANSIT), Item.leg == Leg.RETURN)


def _stations(code: str, contests: tuple[str, ...]) -> Select[Any]:
    """Each TPS at or below `code` with the pieces of its kit (those registered for it,
    and a box for each contest of its kit not registered) and how many reached it."""
    unregistered = sum((1 - kits.has_code(c) for c in contests), start=literal(0))
    return (
        select(Site.code, Site.name, Site.kerawanan, func.coalesce(StationKit.pieces, 0) + unregistered,
               func.coalesce(StationKit.reached, 0))
        .outerjoin(StationKit, and_(StationKit.log_id == Site.regency, StationKit.tps == Site.code))
        .where(Site.level == SiteLevel.TPS, *in_area(Site.regency, code, Site.code))
    )  # fmt: skip


def completeness(
    session: Session, code: str, election: str, voting_day: date | None = None, *, listed: int | None = None
) -> Completeness:
    """Every TPS at or below `code`, judged; counted in all and per area one level down;
    the first `listed` of those not complete (all when None) with what they miss."""
    site = get_site(session, code)
    contests = kit(election, code)  # an area lies in one regency: one kit, one time zone
    children = session.execute(select(Site.code, Site.name).where(Site.parent_code == code).order_by(Site.code))
    names = dict(children.all())
    cut = _CHILD_LENGTH.get(site.level, 0)
    # Core rows: the ORM's loading cost a third of the answer.
    stations = session.connection().execute(_stations(code, contests)).all()
    # One time zone, and lead days that grow with kerawanan: the most urgent are needed
    # first, so (urgency, code) orders them as (urgency, need-by time, code) does.
    deadlines = {k: need_by(code, k, voting_day) for k in _URGENCY}
    per_area: Counter[tuple[str, State]] = Counter()
    open_: list[tuple[int, str, str, Kerawanan | None, State, int, int]] = []
    for tps, name, kerawanan, required, reached in stations:
        state = State.COMPLETE if reached == required else State.NOT_STARTED if reached == 0 else State.INCOMPLETE
        per_area[tps[:cut], state] += 1
        if state is not State.COMPLETE:
            open_.append((_URGENCY[kerawanan], tps, name, kerawanan, state, required, reached))
    first = sorted(open_) if listed is None else heapq.nsmallest(listed, open_)
    shown = [
        Station(tps, name, kerawanan, deadlines[kerawanan], state, required, reached, [])
        for _, tps, name, kerawanan, state, required, reached in first
    ]
    items = _held(session, code, [s.code for s in shown], every=listed is None)
    for station in shown:
        station.missing.extend(assess(station.code, contests, items.get(station.code, []))[3])
    total = Counts(*(sum(n for (_, state), n in per_area.items() if state is s) for s in State))
    areas = [AreaCounts(child, name, Counts(*(per_area[child, s] for s in State))) for child, name in names.items()]
    return Completeness(site, election, total, areas if cut else [], shown, len(open_))


def _held(session: Session, code: str, stations: list[str], *, every: bool) -> dict[str, list[Held]]:
    """The items bound for these TPS, by TPS: all the area's in one query when `every`."""
    query = select(*_ITEM_COLUMNS)
    if every:
        query = query.where(*in_area(Item.log_id, code, Item.destination))
    elif stations:
        query = query.where(Item.log_id == regency_of(code), one_of(session, Item.destination, stations))
    else:
        return {}
    items: dict[str, list[Held]] = {}
    for destination, *held in session.execute(query):
        items.setdefault(destination, []).append(Held(*held))
    return items


def recount(session: Session, log_id: str) -> None:
    """Count the log's kits again from its items: after a restore, or where items were
    written by other means than registration."""
    session.execute(delete(StationKit).where(StationKit.log_id == log_id))
    rows = session.execute(
        select(Item.destination, Item.code, func.count(), func.sum(case((REACHED, 1), else_=0)))
        .where(Item.log_id == log_id)
        .group_by(Item.destination, Item.code)
    )
    tallies: dict[str, tuple[int, int, list[str]]] = {}
    for tps, code, pieces, arrived in rows:
        had, had_reached, codes = tallies.get(tps, (0, 0, []))
        tallies[tps] = (had + pieces, had_reached + arrived, [*codes, code])
    if tallies:
        session.execute(insert(StationKit), [
            {"log_id": log_id, "tps": tps, "pieces": pieces, "reached": arrived, "codes": kits.joined(codes)}
            for tps, (pieces, arrived, codes) in tallies.items()
        ])  # fmt: skip
