"""The "scans withheld or lost on a phone" rule. A phone numbers its scans (`device_seq`)
and its outbox sends them in that order, so a number still missing once later ones
have been in the log for `JEJAK_DEVICE_GAP_HOURS` is a scan the phone held back, lost,
or had refused. Like "not received" it looks for scans that never came, so it runs on
a timer: each gap raises one alert, named by the scan just above it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from models.core.db import Database
from models.core.routing import LogDatabases
from models.custody.alerts import Alert, new_alert
from models.custody.events import Event
from models.custody.timers import AlertWatch, raise_found

RULE = "device_gap"


def gaps(session: Session, hours: float, now: datetime) -> list[Alert]:
    """An alert for each gap in a phone's numbers open for `hours`, that has none yet.
    A phone counts from 1: numbers missing below its lowest are a gap too."""
    by_device = {"partition_by": (Event.log_id, Event.device_id), "order_by": Event.device_seq}
    numbered = (
        select(
            Event.log_id, Event.device_id, Event.device_seq, Event.event_id, Event.entry_index, Event.site,
            Event.received_at,
            func.lag(Event.device_seq).over(**by_device).label("seq_before"),
            func.lag(Event.entry_index).over(**by_device).label("index_before"),
        )
        .where(Event.device_seq.is_not(None))
        .subquery()
    )  # fmt: skip
    raised = aliased(Alert)
    rows = session.execute(
        select(numbered)
        .outerjoin(raised, (raised.log_id == numbered.c.log_id) & (raised.rule == RULE)
                   & (raised.event_id == numbered.c.event_id))
        .where(
            numbered.c.device_seq - func.coalesce(numbered.c.seq_before, 0) > 1,
            numbered.c.received_at <= now - timedelta(hours=hours),
            raised.id.is_(None),
        )
        .order_by(numbered.c.log_id, numbered.c.device_id, numbered.c.device_seq)
    )  # fmt: skip
    alerts = []
    for row in rows:
        first, last = (row.seq_before or 0) + 1, row.device_seq - 1
        missing = f"scan {first}" if first == last else f"scans {first} to {last}"
        alerts.append(new_alert(
            row.log_id, RULE, site=row.site, event_id=row.event_id,
            evidence=[i for i in (row.index_before, row.entry_index) if i is not None],
            detail=f"device {row.device_id}'s {missing} never reached the log, though its scan {row.device_seq} "
            f"did {hours:g} hours ago or more: withheld or lost on the phone, or refused (its outbox shows which)",
        ))  # fmt: skip
    return alerts


def raise_gaps(db: Database, hours: float, now: datetime) -> list[Alert]:
    """Raise the alerts for gaps open too long; returns the new ones."""
    return raise_found(db, lambda session, moment: gaps(session, hours, moment), now)


class GapWatch(AlertWatch):
    """Looks for gaps in the phones' numbers every `interval` seconds."""

    def __init__(self, db: LogDatabases, hours: float, interval: float) -> None:
        super().__init__("device-gap-watch", db, lambda session, now: gaps(session, hours, now), interval)
