"""The rules that look for a scan that never came (a dispatch not received, a gap in a
phone's numbers, a truckload not picked up) cannot run as scans arrive: each finds
its alerts in a database as of a moment, on a timer in every server process, and
every alert is raised once (one per rule and event, so several processes may look)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from models.core.base import utcnow
from models.core.db import Database
from models.core.periodic import Periodic
from models.core.routing import LogDatabases
from models.custody.alerts import Alert, raise_once

Find = Callable[[Session, datetime], list[Alert]]  # a rule's alerts due at a moment


def raise_found(db: Database, find: Find, now: datetime) -> list[Alert]:
    """Raise the alerts `find` finds due at `now` that no one raised before; returns those."""
    with db.reads() as session:
        found = find(session, now)
    return raise_once(db, found) if found else []


class AlertWatch(Periodic):
    """Runs a rule's `find` on every database every `interval` seconds."""

    def __init__(self, name: str, db: LogDatabases, find: Find, interval: float) -> None:
        super().__init__(interval)
        self.name = name
        self.db = db
        self.find = find

    def tick(self) -> list[Alert]:
        now = utcnow()
        return [alert for database in self.db.each() for alert in raise_found(database, self.find, now)]
