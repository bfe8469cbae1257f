"""What the custody exports and reports show: the items held at or below a site, and
each item's handoffs (a dispatch and the receive that took it over) read back from
its log entries, with the checkpoint that proves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from models.core.db import one_of
from models.core.errors import InvalidRequest, NotFound
from models.custody.items import Item, bound_for
from models.custody.scans import ScanType
from models.log.reads import get_log, latest_checkpoint
from models.log.tables import LogCheckpoint, LogEntry
from models.places.sites import Site, SiteLevel, get_site, level_of, regency_of, site_names, under

# The most items one report prints: a regency of 1,170 boxes is one report; a bigger
# area is reported district by district (or village by village). Their entries are read
# READ_CHUNK items at a time.
MAX_ITEMS_PER_REPORT = 5000
READ_CHUNK = 1000
_NOT_SHOWN = {"register", "label"}  # administrative entries: the item's trail has them


def held_at(session: Session, site: str, *, after: tuple[str, str] | None, limit: int) -> list[Item]:
    """Items whose custodian is `site` or lies below it, by log and id."""
    query = (
        select(Item)
        .where(Item.log_id == regency_of(site), under(Item.custodian, site))
        .order_by(Item.log_id, Item.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(Item.log_id, Item.id) > tuple_(*after))
    return list(session.scalars(query))


@dataclass(frozen=True)
class Step:
    """One entry of an item's trail, as a report shows it."""

    index: int
    leaf_hash: bytes
    type: str
    site: str
    role: str
    received_at: datetime
    flags: list[str]
    scan: dict[str, Any]  # the signed scan; empty for entries that are not scans

    @property
    def observed_at(self) -> str | None:
        observed: str | None = self.scan.get("observed_at")
        return observed

    @property
    def counterparty(self) -> str | None:
        return self.scan.get("counterparty")

    def listed(self, key: str) -> list[str]:
        values: list[str] = self.scan.get(key) or []
        return values


@dataclass(frozen=True)
class Handoff:
    """A leg of the route: the dispatch and the receive that took the box over. A
    dispatch not (yet) received has no receive; a receive with nothing dispatched
    (flagged no_dispatch) has no dispatch."""

    dispatch: Step | None
    receive: Step | None


@dataclass
class ItemCustody:
    item: Item
    handoffs: list[Handoff] = field(default_factory=list)
    others: list[Step] = field(default_factory=list)  # seals, openings, incidents...


@dataclass(frozen=True)
class CustodyReport:
    log_id: str
    origin: str
    checkpoint: LogCheckpoint
    items: list[ItemCustody]
    names: dict[str, str]  # site code → name, for every site the report mentions
    area: Site | None = None  # the district (or village) reported on, if not one item

    def proven(self, step: Step) -> bool:
        """Whether the checkpoint covers the step's entry."""
        return step.index < self.checkpoint.tree_size


def item_report(session: Session, item: Item) -> CustodyReport:
    return _report(session, item.log_id, [item], area=None)


def area_report(session: Session, code: str) -> CustodyReport:
    """Every item bound for a regency (KPU), a district (PPK) or a village (PPS)."""
    if level_of(code) not in (SiteLevel.KPU, SiteLevel.PPK, SiteLevel.PPS):
        raise InvalidRequest(f"{code} is not a regency (KPU), district (PPK) or village (PPS) code")
    area = get_site(session, code)
    items = bound_for(session, code, limit=MAX_ITEMS_PER_REPORT + 1)
    if not items:
        raise NotFound(f"no items are registered for {code} or below")
    if len(items) > MAX_ITEMS_PER_REPORT:
        raise InvalidRequest(
            f"more than {MAX_ITEMS_PER_REPORT} items are bound for {code}: ask for each area below it in turn"
        )
    return _report(session, area.regency, items, area=area)


def _report(session: Session, log_id: str, items: list[Item], *, area: Site | None) -> CustodyReport:
    # The checkpoint first: every entry it covers is already in the table.
    checkpoint = latest_checkpoint(session, log_id)
    sections = {item.id: ItemCustody(item) for item in items}
    ids = list(sections)
    rows = (
        row
        for start in range(0, len(ids), READ_CHUNK)
        for row in session.execute(
            select(LogEntry.item_id, LogEntry.idx, LogEntry.leaf_hash, LogEntry.data, LogEntry.received_at)
            .where(LogEntry.log_id == log_id, one_of(session, LogEntry.item_id, ids[start : start + READ_CHUNK]))
            .order_by(LogEntry.item_id, LogEntry.seq)
        )
    )
    trails: dict[str, list[Step]] = {}
    for item_id, index, leaf, data, received_at in rows:
        entry = orjson.loads(data)
        if entry["type"] in _NOT_SHOWN:
            continue
        scan = entry.get("scan", {})
        site = scan.get("site") or entry.get("site", "")
        step = Step(index, leaf, entry["type"], site, entry["role"], received_at, entry.get("flags", []), scan)
        trails.setdefault(item_id, []).append(step)
    for item_id, trail in trails.items():
        _pair(sections[item_id], trail)
    codes = {item.destination for item in items} | {item.custodian for item in items}
    for section in sections.values():
        for step in _steps(section):
            codes.update(c for c in (step.site, step.counterparty) if c)
    if area is not None:
        codes.add(area.code)
    names = site_names(session, codes)
    return CustodyReport(log_id, get_log(session, log_id).origin, checkpoint, list(sections.values()), names, area)


def _pair(section: ItemCustody, trail: list[Step]) -> None:
    """Handoffs in trail order, as the custody rules paired them: a receive takes over
    the pending dispatch unless it was flagged no_dispatch."""
    pending: Step | None = None
    for step in trail:
        if step.type == ScanType.DISPATCH.value:
            if pending is not None:  # dispatched again before the first was received
                section.handoffs.append(Handoff(pending, None))
            pending = step
        elif step.type == ScanType.RECEIVE.value:
            if "no_dispatch" in step.flags:
                section.handoffs.append(Handoff(None, step))
            else:
                section.handoffs.append(Handoff(pending, step))
                pending = None
        else:
            section.others.append(step)
    if pending is not None:
        section.handoffs.append(Handoff(pending, None))


def _steps(section: ItemCustody) -> list[Step]:
    legs = [s for h in section.handoffs for s in (h.dispatch, h.receive) if s is not None]
    return legs + section.others
