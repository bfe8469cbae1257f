"""Truckloads: dispatched together under escort, received item by item, then closed;
the escorts' pickups and deliveries beside them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from models.accounts import policy
from models.custody.handoffs import Handoff, HandoffClose, HandoffStatus, attestations, get_handoff
from models.log.reads import check_log_id
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import DatabasesDep, Permit, SequencerDep, SessionDep

router = APIRouter(prefix="/api/v1/handoffs", tags=["handoffs"])

HandoffReader = Permit("handoffs.read")
HandoffCloser = Permit("handoffs.close")


class AttestationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    type: str = Field(
        description="pickup (taken under guard at the origin) or delivery (handed over at the destination)"
    )
    item: str | None = Field(description="The box counted; null for the whole truckload in one scan")
    site: str
    nrp: str | None = Field(description="The escort's NRP, as their phone's registration in the log records it")
    observed_at: datetime
    entry_index: int
    flags: list[str]
    attests: bool = Field(
        description="Whether it counts as the truckload's pickup or delivery: by an escort the truckload names, at "
        "the right end (else it is evidence only, and its flags say why)"
    )


class HandoffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    log_id: str
    id: str
    from_site: str
    to_site: str
    vehicle: str | None
    escorts: list[str] = Field(description="The NRPs its dispatches name")
    items: list[str]
    status: HandoffStatus
    dispatched_at: datetime
    closed_at: datetime | None
    escorted: bool = Field(description="An escort must pick it up: it names one")
    picked_up_at: datetime | None = Field(description="When a named escort first attested taking it under guard")
    delivered_at: datetime | None = Field(description="When a named escort first attested handing it over")
    attestations: list[AttestationOut] = Field(description="The escorts' pickups and deliveries, in log order")


class Closed(HandoffOut):
    missing: list[str]


def _shaped(session: Session, found: Handoff) -> HandoffOut:
    """The truckload with its escorts' attestations, read from its events."""
    return HandoffOut(
        **{name: getattr(found, name) for name in HandoffOut.model_fields if name != "attestations"},
        attestations=[AttestationOut.model_validate(a) for a in attestations(session, found.log_id, found.id)],
    )


@router.get("/{log_id}/{handoff_id}")
def handoff(log_id: str, handoff_id: str, actor: HandoffReader, session: SessionDep) -> HandoffOut:
    """A truckload: its ends, vehicle, escorts and boxes, and the escorts' pickups and
    deliveries of it."""
    found = get_handoff(session, check_log_id(log_id), handoff_id)
    policy.permit(actor, "handoffs.read", at=(found.to_site, found.from_site))  # either end
    return _shaped(session, found)


@router.post("/{log_id}/{handoff_id}/close")
def close(
    log_id: str, handoff_id: str, actor: HandoffCloser, databases: DatabasesDep, sequencer: SequencerDep
) -> Closed:
    """The receiver closes the handoff: every item of it not received is flagged missing."""
    with databases.for_log(log_id).reads() as session:
        found: Handoff = get_handoff(session, check_log_id(log_id), handoff_id)
    policy.permit(actor, "handoffs.close", at=found.to_site)
    work = HandoffClose(handoff_id, actor)
    closed = sequencer.submit(log_id, work, len(found.items) + 1)
    with databases.for_log(log_id).reads() as session:
        return Closed(**_shaped(session, closed).model_dump(), missing=work.missing)
