"""Irregularities flagged by the custody rules, for those who must act on them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from models.accounts import trail
from models.custody.alerts import AlertAcknowledgement, AlertState, Severity, get_alert, list_alerts

from api import paging
from api.alerts.schemas import AckIn, AlertOut, AlertPage
from api.deps import DatabasesDep, Permit, SequencerDep, actor_log
from api.versioning import deprecated

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

AlertReader = Permit("alerts.list")
AlertAcknowledger = Permit("alerts.acknowledge")
LogParam = Annotated[str | None, Query(pattern=r"^\d{2}\.\d{2}$", description="A national account's log")]


@router.get("")
def alerts(
    response: Response,
    pager: paging.PagerDep,
    actor: AlertReader,
    databases: DatabasesDep,
    log: LogParam = None,
    state: AlertState = AlertState.OPEN,
    rule: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    severity: Severity | None = None,
    item_id: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9A-Z.\-]+$", description="Only this item's")] = None,
    within: Annotated[
        str | None, Query(max_length=64, pattern=r"^[0-9.\-]+$", description="Alerts at this site or below it")
    ] = None,
    item: Annotated[
        str | None, Query(max_length=64, pattern=r"^[0-9A-Z.\-]+$", description="Deprecated: item_id", deprecated=True)
    ] = None,
    site: Annotated[
        str | None, Query(max_length=64, pattern=r"^[0-9.\-]+$", description="Deprecated: within", deprecated=True)
    ] = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> AlertPage:
    """Alerts in your jurisdiction, oldest first: open ones unless state says acked or all."""
    log_id = actor_log(actor, "alerts.list", log)
    if item is not None or site is not None:
        deprecated(response)
    after = paging.decode_time_and_id(cursor)
    with databases.for_log(log_id).reads() as session:
        rows = list_alerts(
            session,
            log_id=log_id,
            jurisdiction=actor.jurisdiction,
            state=state,
            rule=rule,
            severity=severity,
            item=item_id or item,
            site=within or site,
            after=after,
            limit=limit + 1,
        )
    rows, next_page = pager.page(rows, limit, lambda a: [a.created_at.isoformat(), str(a.id)])
    return AlertPage(alerts=[AlertOut.model_validate(a) for a in rows], next=next_page)


@router.post("/{alert_id}/ack")
def acknowledge(
    alert_id: uuid.UUID,
    body: AckIn,
    actor: AlertAcknowledger,
    databases: DatabasesDep,
    sequencer: SequencerDep,
    log: LogParam = None,
) -> AlertOut:
    """Acknowledge an alert with a reason; the acknowledgement is an entry in the log
    (type alert_ack). Once only: a second acknowledgement is a 409. Not by someone who
    made an entry it cites, nor at a site in their custody; a critical one by the
    regency's KPU (README "Who may acknowledge what")."""
    log_id = actor_log(actor, "alerts.acknowledge", log)
    with databases.for_log(log_id).reads() as session:
        get_alert(session, log_id, alert_id)  # 404 before queueing; the rules are judged
        # under the log's lock, where the entries the alert cites are read (AlertAcknowledgement).
    work = AlertAcknowledgement(log_id, alert_id, actor, body.reason)
    alert = sequencer.submit(log_id, work, 1)
    trail.record_now(
        databases.home, actor, "alert.ack", str(alert.id),
        {"log": log_id, "rule": alert.rule, "reason": alert.ack_reason, "index": alert.ack_index},
        jurisdiction=alert.site or log_id,
    )
    return AlertOut.model_validate(alert)
