"""Distribution progress: how many items of an area stand at each stage of their route,
outbound and on the way back, per area one level down (what the dashboard draws).

A stage is where custody is (the custodian's level) or that the item is on the road;
at the polling station, opening and counting are the `voting` stage."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.custody.items import Item, ItemStatus, Leg
from models.places.sites import Site, SiteLevel, get_site, regency_of, under

# Stages in the order an item passes them.
OUTBOUND_STAGES = ("kpu", "in_transit", "ppk", "pps", "tps", "voting")
RETURN_STAGES = ("tps", "in_transit", "pps", "ppk", "kpu")
# A site code's length tells its level (53.03, 53.03.08, 53.03.08.2001, 53.03.08.2001-003):
# grouping by it counts custodians per level without a row per custodian.
_LEVEL_BY_LENGTH = {5: SiteLevel.KPU, 8: SiteLevel.PPK, 13: SiteLevel.PPS, 17: SiteLevel.TPS}
_CHILD_LENGTH = {SiteLevel.KPU: 8, SiteLevel.PPK: 13, SiteLevel.PPS: 17}


def stage_of(leg: Leg, status: ItemStatus, custodian_level: SiteLevel) -> str:
    if status is ItemStatus.IN_TRANSIT:
        return "in_transit"
    if leg is Leg.OUTBOUND and status in (ItemStatus.OPENED, ItemStatus.COUNTED):
        return "voting"
    return custodian_level.value


@dataclass
class Progress:
    """Counts of items by leg and stage."""

    outbound: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTBOUND_STAGES, 0))
    back: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RETURN_STAGES, 0))

    @property
    def total(self) -> int:
        return sum(self.outbound.values()) + sum(self.back.values())

    def add(self, leg: Leg, stage: str, count: int) -> None:
        counts = self.outbound if leg is Leg.OUTBOUND else self.back
        counts[stage] += count


@dataclass
class AreaProgress:
    site: Site
    progress: Progress


@dataclass
class AreaReport:
    site: Site
    progress: Progress
    areas: list[AreaProgress]  # one level down, in code order; none below a village's TPS


def progress(session: Session, code: str) -> AreaReport:
    """The items bound for `code` or below, counted by stage, in all and per area one
    level down (districts of a regency, villages of a district, TPS of a village)."""
    site = get_site(session, code)
    children = list(session.scalars(select(Site).where(Site.parent_code == code).order_by(Site.code)))
    per_area = {child.code: AreaProgress(child, Progress()) for child in children}
    area = func.substr(Item.destination, 1, _CHILD_LENGTH.get(site.level, len(code)))
    rows = session.execute(
        select(area, Item.leg, Item.status, func.length(Item.custodian), func.count())
        .where(Item.log_id == regency_of(code), under(Item.destination, code))
        .group_by(area, Item.leg, Item.status, func.length(Item.custodian))
    )
    total = Progress()
    for child_code, leg, status, custodian_length, count in rows:
        stage = stage_of(leg, status, _LEVEL_BY_LENGTH[custodian_length])
        total.add(leg, stage, count)
        if child_code in per_area:
            per_area[child_code].progress.add(leg, stage, count)
    return AreaReport(site, total, list(per_area.values()))
