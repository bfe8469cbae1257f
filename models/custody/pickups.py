"""The "no pickup" rule: an escorted truckload (one whose dispatches name escorts) that
none of its escorts has taken under guard, by a `pickup` at its origin, within
`JEJAK_PICKUP_MINUTES` of its dispatch. Like "not received" it looks for a scan that
never came, so it runs on a timer: each truckload raises one alert, citing its first
dispatch."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from models.core.db import Database
from models.core.routing import LogDatabases
from models.custody.alerts import Alert, new_alert
from models.custody.events import Event
from models.custody.handoffs import Handoff
from models.custody.timers import AlertWatch, raise_found

RULE = "no_pickup"


def unpicked(session: Session, minutes: float, now: datetime) -> list[Alert]:
    """An alert for each escorted truckload not picked up in time that has none yet."""
    raised = aliased(Alert)
    rows = session.execute(
        select(Handoff, Event.entry_index)
        .join(Event, (Event.log_id == Handoff.log_id) & (Event.event_id == Handoff.dispatch_event))
        .outerjoin(raised, (raised.log_id == Handoff.log_id) & (raised.rule == RULE)
                   & (raised.event_id == Handoff.dispatch_event))
        .where(
            Handoff.escorted.is_(True),
            Handoff.picked_up_at.is_(None),
            Handoff.dispatched_at <= now - timedelta(minutes=minutes),
            raised.id.is_(None),
        )
        .order_by(Handoff.log_id, Handoff.dispatched_at, Handoff.id)
    )  # fmt: skip
    return [
        new_alert(
            load.log_id, RULE, site=load.from_site, event_id=load.dispatch_event, evidence=[index],
            detail=f"truckload {load.id} from {load.from_site} to {load.to_site}, dispatched at "
            f"{load.dispatched_at:%Y-%m-%d %H:%M} UTC under escort of {', '.join(load.escorts)}, was not taken "
            f"under guard by any of them within {minutes:g} minutes",
        )  # fmt: skip
        for load, index in rows
    ]


def raise_unpicked(db: Database, minutes: float, now: datetime) -> list[Alert]:
    """Raise the alerts for truckloads not picked up in time; returns the new ones."""
    return raise_found(db, lambda session, moment: unpicked(session, minutes, moment), now)


class PickupWatch(AlertWatch):
    """Looks for escorted truckloads not picked up in time every `interval` seconds."""

    def __init__(self, db: LogDatabases, minutes: float, interval: float) -> None:
        super().__init__("pickup-watch", db, lambda session, now: unpicked(session, minutes, now), interval)
