"""A handoff: one truckload dispatched together under escort, received item by item,
and closed by the receiver, when whatever did not arrive is flagged missing."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.actor import Actor
from models.core.base import Base, UTCDateTime
from models.core.db import one_of
from models.core.errors import Conflict, InvalidRequest, NotFound
from models.custody.alerts import Alert, Severity
from models.custody.devices import Device
from models.custody.events import Event
from models.custody.items import Item, ItemsInBatch
from models.custody.rules import ATTESTATIONS, attests, pending_receipts
from models.places.codes import LEADING_CODE, regency_of
from models.log.sequencer import Appended, Batch, NewEntry, Refused


class HandoffStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Handoff(Base):
    __tablename__ = "handoffs"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # chosen by the dispatcher
    from_site: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    to_site: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    vehicle: Mapped[str | None] = mapped_column(String(32))
    escorts: Mapped[list[str]] = mapped_column(JSON, default=list)  # NRPs, never names
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[HandoffStatus] = mapped_column(
        Enum(HandoffStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An escort must pick it up: it names one. A `no_pickup` alert cites its first dispatch.
    escorted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    dispatch_event: Mapped[str | None] = mapped_column(String(64))
    # When a named escort first attested taking it under guard at its origin, and
    # handing it over at its destination (the scans' observed times).
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@dataclass
class HandoffClose:
    """Work: the receiver closes a handoff; every item of it not received is flagged
    missing (an entry each, and an alert), and the closing is an entry itself."""

    handoff_id: str
    actor: Actor
    closed: Handoff | None = None
    missing: list[str] = field(default_factory=list)

    def prepare(self, batch: Batch) -> list[NewEntry]:
        handoff = batch.session.get(Handoff, (batch.log.id, self.handoff_id))
        if handoff is None:
            raise NotFound(f"there is no handoff {self.handoff_id} in log {batch.log.id}", code="handoff_not_found")
        if handoff.status is HandoffStatus.CLOSED:
            raise Conflict(f"handoff {self.handoff_id} was closed at {handoff.closed_at}", code="handoff_closed")
        self.closed = handoff
        items = batch.session.scalars(
            select(Item).where(Item.log_id == batch.log.id, one_of(batch.session, Item.id, handoff.items))
        ).all()
        # A box received earlier in this batch is received already, though not yet in
        # the database: its state there is the batch's.
        in_batch = batch.state(ItemsInBatch)
        self.missing = pending_receipts([in_batch.get(i.id, i) for i in items], self.handoff_id)
        fields = {"handoff": self.handoff_id, "site": handoff.to_site, **self.actor.fields()}
        entries = [NewEntry({"type": "missing", **fields}, item=item) for item in self.missing]
        received = sorted(set(handoff.items) - set(self.missing))
        entries.append(
            NewEntry({"type": "handoff_close", "received": received, "missing": self.missing, **fields})
        )
        return entries

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Handoff:
        assert self.closed is not None
        for item_id, result in zip(self.missing, results, strict=False):
            assert isinstance(result, Appended)
            batch.session.add(
                Alert(
                    log_id=batch.log.id,
                    rule="missing",
                    severity=Severity.CRITICAL,
                    item_id=item_id,
                    site=self.closed.to_site,
                    detail=f"not received at {self.closed.to_site} when handoff "
                    f"{self.handoff_id} from {self.closed.from_site} was closed",
                    evidence=[result.index],
                )
            )
        self.closed.status = HandoffStatus.CLOSED
        self.closed.closed_at = batch.received_at
        return self.closed


def log_of_handoff(handoff_id: str) -> str:
    """The log a truckload is in: its id begins with its dispatching site's code."""
    origin = LEADING_CODE.match(handoff_id)
    if origin is None:
        raise InvalidRequest(f"handoff {handoff_id} does not begin with its dispatching site's code")
    return regency_of(origin.group())


@dataclass(frozen=True)
class Attestation:
    """An escort's pickup or delivery of a truckload, as the log holds it."""

    event_id: str
    type: str
    item: str | None  # None: the whole truckload
    site: str
    nrp: str | None  # the escort's, as their phone's registration records it
    observed_at: datetime
    entry_index: int
    flags: list[str]

    @property
    def attests(self) -> bool:
        return attests(self.flags)


def attestations(session: Session, log_id: str, handoff_id: str) -> list[Attestation]:
    """A truckload's pickups and deliveries, in log order, by whom (their NRP)."""
    rows = session.execute(
        select(Event, Device.nrp)
        .join(Device, (Device.log_id == Event.log_id) & (Device.id == Event.device_id))
        .where(Event.log_id == log_id, Event.handoff_id == handoff_id, Event.type.in_(sorted(ATTESTATIONS)))
        .order_by(Event.entry_index)
    )
    return [
        Attestation(e.event_id, e.type, e.item_id, e.site, nrp, e.observed_at, e.entry_index, list(e.flags))
        for e, nrp in rows
    ]


def get_handoff(session: Session, log_id: str, handoff_id: str) -> Handoff:
    handoff = session.get(Handoff, (log_id, handoff_id))
    if handoff is None:
        raise NotFound(f"there is no handoff {handoff_id} in log {log_id}", code="handoff_not_found")
    return handoff
