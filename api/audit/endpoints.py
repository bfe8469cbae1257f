"""The audit trail of administrative actions, for administrators and auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from models.accounts import trail

from api import paging
from api.audit.schemas import AuditPage, AuditRecordOut
from api.deps import DbDep, Permit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

AuditReader = Permit("audit.read")


@router.get("")
def list_trail(
    pager: paging.PagerDep,
    actor: AuditReader,
    db: DbDep,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+\.[a-z_]+$", examples=["user.lock"])] = None,
    target: Annotated[str | None, Query(max_length=255)] = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> AuditPage:
    """Who did what, newest first: accounts created, locked and unlocked, devices
    registered and revoked, keys created and rotated, webhooks subscribed and deleted,
    alerts acknowledged. Only what concerns your jurisdiction (national: everything)."""
    with db.reads() as session:
        rows = trail.list_records(
            session,
            jurisdiction=actor.jurisdiction,
            action=action,
            target=target,
            before=paging.decode_time_and_id(cursor),
            limit=limit + 1,
        )
    rows, next_page = pager.page(rows, limit, lambda r: [r.at.isoformat(), str(r.id)])
    return AuditPage(records=[AuditRecordOut.model_validate(r) for r in rows], next=next_page)
