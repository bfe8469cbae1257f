"""Each polling station's kit so far (`station_kits`): how many items are registered
for the TPS, which codes they carry, and how many have reached it.

Completeness (models/custody/completeness.py) reads a province's 34,000 TPS from here
in a query per regency, instead of summing 170,000 item rows (issue 25). The rows are
kept where custody changes: registration adds pieces (`register`), a batch of scans
adds what its moves changed (`ReachedTally`), and a restore or the migration counts
them again from the items (completeness.recount). Every change happens under the log's
lock, in the same transaction as the items it counts.

A piece has *reached* its TPS when it is there and not on its way out, or on its way
back after the count (it was there): `reached` is that rule (completeness.REACHED
says it in SQL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ForeignKey, Integer, Text, bindparam, case, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.core.base import Base
from models.custody.rules import ItemState, ItemStatus, Leg


class StationKit(Base):
    __tablename__ = "station_kits"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    tps: Mapped[str] = mapped_column(ForeignKey("sites.code"), primary_key=True)
    pieces: Mapped[int] = mapped_column(Integer)
    reached: Mapped[int] = mapped_column(Integer)
    # Each code registered for the TPS once, between commas: ",BUP,GUB,SS," (so that
    # `codes LIKE '%,BUP,%'` asks whether a box of BUP is registered).
    codes: Mapped[str] = mapped_column(Text)


def reached(custodian: str, status: ItemStatus, leg: Leg, tps: str) -> bool:
    return (custodian == tps and status is not ItemStatus.IN_TRANSIT) or leg is Leg.RETURN


def has_code(code: str) -> Any:
    """SQL: 1 when an item of `code` is registered for the row's TPS, else 0."""
    return case((StationKit.codes.contains(f",{code},"), 1), else_=0)


def joined(codes: Iterable[str]) -> str:
    return "," + ",".join(sorted(set(codes))) + ","


def register(session: Session, log_id: str, items: Iterable[tuple[str, str]]) -> None:
    """Count newly registered items, as (destination TPS, code)."""
    by_tps: defaultdict[str, list[str]] = defaultdict(list)
    for tps, code in items:
        by_tps[tps].append(code)
    if not by_tps:
        return
    known = {
        kit.tps: kit
        for kit in session.scalars(select(StationKit).where(StationKit.log_id == log_id, StationKit.tps.in_(sorted(by_tps))))
    }
    for tps, codes in by_tps.items():
        kit = known.get(tps)
        if kit is None:
            session.add(StationKit(log_id=log_id, tps=tps, pieces=len(codes), reached=0, codes=joined(codes)))
        else:
            kit.pieces += len(codes)
            kit.codes = joined([*kit.codes.strip(",").split(","), *codes])
    session.flush()  # before any scan of this batch moves one of them


_ADD_REACHED = (
    update(StationKit)
    .where(StationKit.log_id == bindparam("log"), StationKit.tps == bindparam("station"))
    .values(reached=StationKit.reached + bindparam("change"))
)


class ReachedTally:
    """The pieces a batch's scans bring to their TPS or take away: `before` notes the
    items as the batch loads them, `write` adds the difference, once for the batch."""

    def __init__(self) -> None:
        self.was: dict[str, bool] = {}

    def before(self, items: Iterable[ItemState]) -> None:
        for i in items:
            self.was.setdefault(i.id, reached(i.custodian, i.status, i.leg, i.destination))

    def write(self, session: Session, log_id: str, moved: Iterable[ItemState]) -> None:
        change: Counter[str] = Counter()
        for i in moved:
            now = reached(i.custodian, i.status, i.leg, i.destination)
            if now != self.was.get(i.id, False):  # an item registered in the batch had not
                change[i.destination] += 1 if now else -1
        rows = [{"log": log_id, "station": tps, "change": n} for tps, n in change.items() if n]
        if rows:
            session.connection().execute(_ADD_REACHED, rows)
