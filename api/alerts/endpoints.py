"""Irregularities flagged by the custody rules, for those who must act on them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from models.alerts import Severity, list_alerts
from models.users import Role
from pydantic import BaseModel, ConfigDict

from api import paging
from api.deps import CurrentActor, SessionDep, actor_log, authorize

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

READERS = {Role.ADMIN, Role.KPU, Role.PPK, Role.AUDITOR, Role.INTEGRATOR}


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    log_id: str
    rule: str
    severity: Severity
    item_id: str | None
    site: str | None
    event_id: str | None
    detail: str
    evidence: list[int]
    created_at: datetime
    acked_at: datetime | None
    ack_reason: str | None


class AlertPage(BaseModel):
    alerts: list[AlertOut]
    next: str | None


@router.get("")
def alerts(
    actor: CurrentActor,
    session: SessionDep,
    log: Annotated[str | None, Query(pattern=r"^\d{2}\.\d{2}$")] = None,
    open: bool = True,
    rule: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    item: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9A-Z.\-]+$")] = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> AlertPage:
    """Alerts in your jurisdiction, oldest first; open ones unless open=false."""
    authorize(actor, READERS, scope="alerts:read")
    log_id = actor_log(actor, log)
    after = paging.decode(cursor, str, str)
    rows = list_alerts(
        session,
        log_id=log_id,
        jurisdiction=actor.jurisdiction,
        open_only=open,
        rule=rule,
        item=item,
        after=_alert_key(after) if after else None,
        limit=limit + 1,
    )
    rows, next_page = paging.page(rows, limit, lambda a: [a.created_at.isoformat(), str(a.id)])
    return AlertPage(alerts=[AlertOut.model_validate(a) for a in rows], next=next_page)


def _alert_key(key: list[str]) -> tuple[datetime, uuid.UUID]:
    try:
        return datetime.fromisoformat(key[0]), uuid.UUID(key[1])
    except ValueError as error:
        raise HTTPException(400, "cursor is not one this service gave out") from error
