"""Truckloads: dispatched together under escort, received item by item, then closed."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from models.accounts import policy
from models.custody.handoffs import Handoff, HandoffClose, HandoffStatus, get_handoff
from models.log.reads import check_log_id
from pydantic import BaseModel, ConfigDict

from api.deps import Permit, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/handoffs", tags=["handoffs"])

HandoffReader = Permit("handoffs.read")
HandoffCloser = Permit("handoffs.close")


class HandoffOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    log_id: str
    id: str
    from_site: str
    to_site: str
    vehicle: str | None
    escorts: list[str]
    items: list[str]
    status: HandoffStatus
    dispatched_at: datetime
    closed_at: datetime | None


class Closed(HandoffOut):
    missing: list[str]


@router.get("/{log_id}/{handoff_id}")
def handoff(log_id: str, handoff_id: str, actor: HandoffReader, session: SessionDep) -> HandoffOut:
    found = get_handoff(session, check_log_id(log_id), handoff_id)
    policy.permit(actor, "handoffs.read", at=(found.to_site, found.from_site))  # either end
    return HandoffOut.model_validate(found)


@router.post("/{log_id}/{handoff_id}/close")
def close(log_id: str, handoff_id: str, actor: HandoffCloser, runtime: RuntimeDep) -> Closed:
    """The receiver closes the handoff: every item of it not received is flagged missing."""
    with runtime.db_for(log_id).reads() as session:
        found: Handoff = get_handoff(session, check_log_id(log_id), handoff_id)
    policy.permit(actor, "handoffs.close", at=found.to_site)
    work = HandoffClose(handoff_id, actor)
    closed = runtime.sequencer.submit(log_id, work, len(found.items) + 1)
    return Closed(**HandoffOut.model_validate(closed).model_dump(), missing=work.missing)
