"""The "not received in time" rule. It looks for a scan that never came, so it runs on
a timer rather than as scans arrive: each dispatch still unreceived when the hours its
destination's kerawanan allows have passed raises one alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from models.core.db import Database
from models.core.routing import LogDatabases
from models.core.settings import Settings
from models.custody.alerts import Alert, new_alert
from models.custody.events import Event
from models.custody.items import Item, ItemStatus
from models.custody.timers import AlertWatch, raise_found
from models.places.sites import Kerawanan, Site

RULE = "not_received"
KHUSUS = "khusus"  # TPS khusus (prisons, hospitals...): a category of its own


@dataclass(frozen=True)
class Allowance:
    """How long a dispatch may go unreceived, by kerawanan (and for TPS khusus)."""

    hours: dict[str, float]

    @classmethod
    def of(cls, settings: Settings) -> Allowance:
        return cls({
            Kerawanan.KURANG_RAWAN: settings.not_received_hours_kurang_rawan,
            Kerawanan.RAWAN: settings.not_received_hours_rawan,
            Kerawanan.SANGAT_RAWAN: settings.not_received_hours_sangat_rawan,
            KHUSUS: settings.not_received_hours_khusus,
        })  # fmt: skip

    def strictest(self, categories: set[str]) -> str:
        """The category whose allowance applies: the shortest of those that fit."""
        return min(categories or {Kerawanan.KURANG_RAWAN}, key=self.hours.__getitem__)


def overdue(session: Session, allowance: Allowance, now: datetime) -> list[Alert]:
    """An alert for each dispatch not received in time that has none yet. What applies
    is the stricter of the destination's kerawanan and the box's polling station's:
    districts and villages are seldom rated, the polling station always is."""
    destination, station = aliased(Site), aliased(Site)
    raised = aliased(Alert)
    rows = session.execute(
        select(
            Item.log_id, Item.id, Item.dispatch_event, Item.dispatch_to, Item.dispatched_at,
            destination.kerawanan, station.kerawanan, station.special, Event.entry_index,
        )
        .join(destination, destination.code == Item.dispatch_to)
        .join(station, station.code == Item.destination)
        .join(Event, (Event.log_id == Item.log_id) & (Event.event_id == Item.dispatch_event))
        .outerjoin(raised, (raised.log_id == Item.log_id) & (raised.rule == RULE)
                   & (raised.event_id == Item.dispatch_event))
        .where(
            Item.status == ItemStatus.IN_TRANSIT,
            Item.dispatched_at <= now - timedelta(hours=min(allowance.hours.values())),
            raised.id.is_(None),
        )
        .order_by(Item.log_id, Item.dispatched_at, Item.id)
    )  # fmt: skip
    alerts = []
    for log_id, item_id, event_id, to, sent, *ratings, special, index in rows:
        category = allowance.strictest({r for r in ratings if r} | ({KHUSUS} if special else set()))
        hours = allowance.hours[category]
        if sent + timedelta(hours=hours) > now:
            continue
        alerts.append(new_alert(
            log_id, RULE, item_id=item_id, site=to, event_id=event_id, evidence=[index],
            detail=f"dispatched to {to} at {sent:%Y-%m-%d %H:%M} UTC and not received within "
            f"{hours:g} hours ({category.replace('_', ' ')})",
        ))  # fmt: skip
    return alerts


def raise_overdue(db: Database, allowance: Allowance, now: datetime) -> list[Alert]:
    """Raise the alerts for dispatches not received in time; returns the new ones."""
    return raise_found(db, lambda session, moment: overdue(session, allowance, moment), now)


class OverdueWatch(AlertWatch):
    """Looks for dispatches not received in time every `interval` seconds."""

    def __init__(self, db: LogDatabases, allowance: Allowance, interval: float) -> None:
        super().__init__("overdue-watch", db, lambda session, now: overdue(session, allowance, now), interval)
