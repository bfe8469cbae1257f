"""A stock-take (stock opname) of a site: its officers scan every box on its shelves
(`stocktake` scans, signed, offline too), then close it; the closing is an entry
naming the boxes found, missing (held there per the log, not scanned) and
unexpected (scanned there, not held there: orphans), reckoned by the pure rules
(`rules.reckon`) from the log before it, so `jejak verify` reckons it again. Nothing
moves: a stock-take is evidence of where boxes are, never a handoff."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.actor import Actor
from models.core.base import Base, UTCDateTime
from models.core.db import one_of
from models.core.errors import Conflict, NotFound
from models.custody.alerts import new_alert
from models.custody.items import Item, ItemsInBatch, item_states
from models.custody.rules import ItemState, Reckoning, holds, reckon
from models.log.sequencer import Appended, Batch, NewEntry, Refused
from models.places.sites import Site


class StocktakeStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Stocktake(Base):
    __tablename__ = "stocktakes"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # begins with the site's code
    site: Mapped[str] = mapped_column(ForeignKey("sites.code"), index=True)
    status: Mapped[StocktakeStatus] = mapped_column(
        Enum(StocktakeStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)  # its first scan's, as observed
    # Each box scanned, with the index of its first stocktake scan (the evidence).
    scans: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_index: Mapped[int | None] = mapped_column(BigInteger)
    found: Mapped[list[str]] = mapped_column(JSON, default=list)
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    unexpected: Mapped[list[str]] = mapped_column(JSON, default=list)


class StocktakesInBatch:
    """Stock-takes as a batch's works have left them so far (a Batch.state): the boxes
    its scans saw that are not written yet, and those closed in it, so that a closing
    and the scans it follows may share a batch."""

    def __init__(self, batch: Batch) -> None:
        self.session = batch.session
        self.log_id = batch.log.id
        self.rows: dict[str, Stocktake | None] = {}
        self.seen: dict[str, dict[str, None]] = {}  # stock-take → boxes scanned in this batch
        self.sites: dict[str, str] = {}  # stock-take → the site it counts
        self.closed: set[str] = set()

    def row(self, stocktake_id: str) -> Stocktake | None:
        if stocktake_id not in self.rows:
            self.rows[stocktake_id] = self.session.get(Stocktake, (self.log_id, stocktake_id))
        return self.rows[stocktake_id]

    def is_closed(self, stocktake_id: str) -> bool:
        found = self.row(stocktake_id)
        return stocktake_id in self.closed or (found is not None and found.status is StocktakeStatus.CLOSED)

    def scanned(self, stocktake_id: str, site: str, item: str) -> None:
        self.seen.setdefault(stocktake_id, {})[item] = None
        self.sites[stocktake_id] = site

    def record(self, stocktake_id: str, site: str, item: str, index: int, observed: datetime) -> None:
        """An accepted scan joins its stock-take (the first one opens it)."""
        found = self.row(stocktake_id)
        if found is None:
            found = self.rows[stocktake_id] = Stocktake(
                log_id=self.log_id, id=stocktake_id, site=site, status=StocktakeStatus.OPEN, opened_at=observed,
                scans={}, found=[], missing=[], unexpected=[],
            )  # fmt: skip
            self.session.add(found)
        if item not in found.scans:
            found.scans = {**found.scans, item: index}  # reassigned, so that the change is seen


@dataclass
class StocktakeClose:
    """Work: close a stock-take. Reckons found, missing and unexpected boxes against
    the custody the log records just before the closing; appends the closing entry;
    raises an alert for each missing and each unexpected box. `recorded`: restoring
    from a log, the closing as it was recorded."""

    stocktake_id: str
    actor: Actor
    recorded: Reckoning | None = None
    reckoning: Reckoning | None = None
    site: str = ""

    def prepare(self, batch: Batch) -> list[NewEntry]:
        state = batch.state(StocktakesInBatch)
        found = state.row(self.stocktake_id)
        pending = state.seen.get(self.stocktake_id, {})
        if found is None and not pending:
            raise NotFound(f"there is no stock-take {self.stocktake_id} in log {batch.log.id}: no box was scanned in it")
        if state.is_closed(self.stocktake_id):
            raise Conflict(f"stock-take {self.stocktake_id} was closed already")
        self.site = found.site if found is not None else state.sites[self.stocktake_id]
        scanned = [*(found.scans if found is not None else {}), *pending]
        self.reckoning = self.recorded or reckon(self.site, self._states(batch, scanned), scanned)
        state.closed.add(self.stocktake_id)
        r = self.reckoning
        return [
            NewEntry({
                "type": "stocktake_close", "stocktake": self.stocktake_id, "site": self.site,
                "found": r.found, "missing": r.missing, "unexpected": r.unexpected, **self.actor.fields(),
            })
        ]  # fmt: skip

    def _states(self, batch: Batch, scanned: list[str]) -> list[ItemState]:
        """Every box the site holds and every box scanned, as the batch leaves them."""
        session, table = batch.session, Item.__table__
        states = item_states(
            session, batch.log.id, or_(table.c.custodian == self.site, one_of(session, table.c.id, scanned))
        )
        in_batch = batch.state(ItemsInBatch)
        states |= {i: s for i, s in in_batch.items() if i in states or holds(s, self.site)}
        return list(states.values())

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Stocktake:
        (result,) = results
        assert isinstance(result, Appended) and self.reckoning is not None
        state = batch.state(StocktakesInBatch)
        found = state.row(self.stocktake_id)
        assert found is not None  # its scans' works have finished: the first one made it
        r = self.reckoning
        found.status, found.closed_at, found.close_index = StocktakeStatus.CLOSED, batch.received_at, result.index
        found.found, found.missing, found.unexpected = r.found, r.missing, r.unexpected
        for item in r.missing:
            batch.session.add(new_alert(
                batch.log.id, "stocktake_missing", item_id=item, site=self.site, evidence=[result.index],
                detail=f"held at {self.site} per the log, but not found in stock-take {self.stocktake_id}",
            ))  # fmt: skip
        for item in r.unexpected:
            batch.session.add(new_alert(
                batch.log.id, "stocktake_unexpected", item_id=item, site=self.site,
                evidence=[found.scans[item], result.index],
                detail=f"found at {self.site} in stock-take {self.stocktake_id}, where the log does not place it: "
                "recorded as evidence, its custody did not move",
            ))  # fmt: skip
        return found

    def abandon(self, batch: Batch) -> None:
        """The request failed after `prepare`: the stock-take is open again for the batch."""
        batch.state(StocktakesInBatch).closed.discard(self.stocktake_id)


def get_stocktake(session: Session, log_id: str, stocktake_id: str) -> Stocktake:
    found = session.get(Stocktake, (log_id, stocktake_id))
    if found is None:
        raise NotFound(f"there is no stock-take {stocktake_id} in log {log_id}")
    return found


def stocktakes_at(session: Session, log_id: str, site: str) -> list[Stocktake]:
    """A site's stock-takes, the latest first."""
    query = select(Stocktake).where(Stocktake.log_id == log_id, Stocktake.site == site)
    return list(session.scalars(query.order_by(Stocktake.opened_at.desc())))


@dataclass(frozen=True)
class Line:
    """One box of a stock-take's report: what the closing found of it, where the log
    places it now, and the entries that are the evidence (its scan, the closing)."""

    item: str
    outcome: str  # found, missing, unexpected; scanned while the stock-take is open
    custodian: str | None
    status: str | None
    evidence: list[int]


@dataclass(frozen=True)
class StocktakeReport:
    stocktake: Stocktake
    lines: list[Line]
    names: dict[str, str]  # site code → name, for the sites the report mentions


def stocktake_report(session: Session, found: Stocktake) -> StocktakeReport:
    """The stock-take box by box: missing first, then unexpected, then found."""
    if found.status is StocktakeStatus.CLOSED:
        order = [("missing", found.missing), ("unexpected", found.unexpected), ("found", found.found)]
    else:
        order = [("scanned", sorted(found.scans))]
    ids = [item for _, items in order for item in items]
    states = item_states(session, found.log_id, one_of(session, Item.__table__.c.id, ids)) if ids else {}
    closing = [found.close_index] if found.close_index is not None else []
    lines = [
        Line(
            item, outcome, states[item].custodian if item in states else None,
            states[item].status.value if item in states else None,
            ([found.scans[item]] if item in found.scans else []) + closing,
        )
        for outcome, items in order
        for item in items
    ]  # fmt: skip
    codes = {found.site} | {line.custodian for line in lines if line.custodian}
    query = select(Site.code, Site.name).where(one_of(session, Site.code, sorted(codes)))
    names = {code: name for code, name in session.execute(query)}
    return StocktakeReport(found, lines, names)
