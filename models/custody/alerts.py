"""Irregularities the custody rules flag. An alert stays open until someone with the
right to acknowledges it, with a reason; the acknowledgement is an entry in the log."""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, String, Text, Uuid, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.actor import Actor
from models.accounts.policy import AlertFacts, permit_acknowledgement
from models.core.base import Base, UTCDateTime, utcnow
from models.core.bulk import BulkStatement
from models.core.db import Database
from models.core.errors import Conflict, NotFound
from models.log.sequencer import Appended, Batch, NewEntry, Refused
from models.log.tables import LogEntry
from models.places.sites import under


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY = {
    "seal_mismatch": Severity.CRITICAL,
    "wrong_site": Severity.CRITICAL,
    "wrong_origin": Severity.WARNING,
    "missing": Severity.CRITICAL,
    "not_received": Severity.CRITICAL,
    "impossible_travel": Severity.CRITICAL,
    "revoked_label": Severity.CRITICAL,
    "incident_lost": Severity.CRITICAL,
    "incident_seal_broken": Severity.CRITICAL,
    # An escort handing a truckload over somewhere it was not going: the truck went elsewhere.
    "delivery_wrong_site": Severity.CRITICAL,
    "no_dispatch": Severity.WARNING,
    "level_skipped": Severity.WARNING,
    "off_route": Severity.WARNING,
    "already_in_transit": Severity.WARNING,
    "not_custodian": Severity.WARNING,
    "in_transit": Severity.WARNING,
    "not_at_destination": Severity.WARNING,
    "out_of_order": Severity.WARNING,
    "future_time": Severity.WARNING,
    "far_from_site": Severity.WARNING,
    "late_return": Severity.WARNING,
    # Escorts (issue 27): a truck that needed a guard named none, named someone who is
    # no escort, was not taken under guard in time, or was received without its escort.
    "no_escort": Severity.WARNING,
    "unknown_escort": Severity.WARNING,
    "no_pickup": Severity.WARNING,
    "no_delivery": Severity.WARNING,
    "not_escort": Severity.WARNING,
    "pickup_wrong_site": Severity.WARNING,
    "not_in_truckload": Severity.WARNING,
    "unknown_manifest": Severity.CRITICAL,  # the escort was shown a forged truckload paper
    # A phone's outbox sends in device_seq order: a number arriving late, or one missing
    # while later ones arrived, is a scan held back or lost, and only the phone can say
    # which (a refused scan leaves a gap too). Worth a look, not proof of anything.
    "out_of_order_sync": Severity.WARNING,
    "device_gap": Severity.WARNING,
    "outside_jurisdiction": Severity.WARNING,
    "incident_damaged": Severity.WARNING,
    "incident_wet": Severity.WARNING,
    "incident_other": Severity.WARNING,
    # A box received as part of a truckload whose manifest does not list it: trucks swapped?
    "manifest_mismatch": Severity.WARNING,
    "late_sync": Severity.INFO,
    # Stock-takes (issue 25): a box the log places on the shelves that is not there; a
    # box on the shelves the log places elsewhere (an orphan, evidence: custody stays).
    "stocktake_missing": Severity.CRITICAL,
    "stocktake_unexpected": Severity.WARNING,
}


class AlertState(enum.StrEnum):
    OPEN = "open"
    ACKED = "acked"
    ALL = "all"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_log_open", "log_id", "acked_at", "created_at"),
        # A rule raises one alert per event: the timer's alerts stay raised once, even
        # with several server processes looking.
        Index("ix_alerts_log_rule_event", "log_id", "rule", "event_id", unique=True),
    )

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[Severity] = mapped_column(
        Enum(Severity, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    item_id: Mapped[str | None] = mapped_column(String(64), index=True)
    site: Mapped[str | None] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[int]] = mapped_column(JSON, default=list)  # log indexes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    ack_reason: Mapped[str | None] = mapped_column(Text)
    ack_index: Mapped[int | None] = mapped_column(BigInteger)  # the alert_ack entry


def alert_row(log_id: str, rule: str, **fields: object) -> dict[str, object]:
    """An alert's row, for INSERT_ALERTS: a batch's alerts written at once."""
    severity = SEVERITY.get(rule, Severity.WARNING)
    return {"log_id": log_id, "id": uuid.uuid4(), "rule": rule, "severity": severity, "created_at": utcnow(), **fields}


def new_alert(log_id: str, rule: str, **fields: object) -> Alert:
    return Alert(**alert_row(log_id, rule, **fields))


# A batch of incidents raises an alert a scan: through the ORM, one object each, they
# took more of the lock's hold than the scans themselves (docs/BENCHMARKS.md).
INSERT_ALERTS = BulkStatement(
    insert(Alert.__table__),
    ["log_id", "id", "rule", "severity", "item_id", "site", "event_id", "detail", "evidence", "created_at"],
    binary=True,
)


def raise_once(db: Database, alerts: list[Alert]) -> list[Alert]:
    """Store the alerts no one raised before (same log, rule and event); returns those."""
    raised = []
    with db.session(write=True) as session:
        for alert in alerts:
            key = (Alert.log_id == alert.log_id, Alert.rule == alert.rule, Alert.event_id == alert.event_id)
            if session.scalar(select(Alert.id).where(*key)) is not None:
                continue
            try:
                with session.begin_nested():
                    session.add(alert)
            except IntegrityError:
                continue  # another process raised it a moment ago
            raised.append(alert)
    return raised


def list_alerts(
    session: Session,
    *,
    log_id: str,
    jurisdiction: str,
    state: AlertState = AlertState.OPEN,
    rule: str | None = None,
    severity: Severity | None = None,
    item: str | None = None,
    site: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int,
) -> list[Alert]:
    """A log's alerts, oldest first; below regency level, those at or bound for the area."""
    query = (
        select(Alert)
        .where(Alert.log_id == log_id)
        .order_by(Alert.created_at, Alert.id)
        .limit(limit)
    )
    if len(jurisdiction) > len(log_id):
        query = query.where(under(Alert.site, jurisdiction) | under(Alert.item_id, jurisdiction))
    if state is AlertState.OPEN:
        query = query.where(Alert.acked_at.is_(None))
    elif state is AlertState.ACKED:
        query = query.where(Alert.acked_at.is_not(None))
    if rule is not None:
        query = query.where(Alert.rule == rule)
    if severity is not None:
        query = query.where(Alert.severity == severity)
    if item is not None:
        query = query.where(Alert.item_id == item)
    if site is not None:
        query = query.where(under(Alert.site, site))
    if after is not None:
        query = query.where(tuple_(Alert.created_at, Alert.id) > tuple_(*after))
    return list(session.scalars(query))


def get_alert(session: Session, log_id: str, alert_id: uuid.UUID) -> Alert:
    alert = session.get(Alert, (log_id, alert_id))
    if alert is None:
        raise NotFound(f"there is no alert {alert_id} in log {log_id}", code="alert_not_found")
    return alert


@dataclass
class AlertAcknowledgement:
    """Work: someone answerable acknowledges an alert, with a reason, in the log."""

    log_id: str
    alert_id: uuid.UUID
    actor: Actor
    reason: str

    def prepare(self, batch: Batch) -> list[NewEntry]:
        alert = get_alert(batch.session, self.log_id, self.alert_id)
        if alert.acked_at is not None:
            raise Conflict(f"alert {self.alert_id} was acknowledged at {alert.acked_at.isoformat()}", code="alert_acknowledged")
        # Who made the cited entries, read here under the log's lock: segregation of duties.
        cited = batch.session.execute(
            select(LogEntry.idx, LogEntry.data).where(
                LogEntry.log_id == self.log_id, LogEntry.idx.in_(list(alert.evidence))
            )
        )
        facts = AlertFacts(self.log_id, alert.site, alert.item_id, alert.severity is Severity.CRITICAL)
        permit_acknowledgement(facts, self.actor, {index: json.loads(data).get("actor") for index, data in cited})
        self.alert = alert
        return [
            NewEntry(
                {
                    "type": "alert_ack",
                    "alert": str(alert.id),
                    "rule": alert.rule,
                    "evidence": list(alert.evidence),
                    "reason": self.reason,
                    **self.actor.fields(),
                }
            )
        ]

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Alert:
        (appended,) = results
        assert isinstance(appended, Appended)
        self.alert.acked_at = appended.received_at
        self.alert.acked_by = self.actor.id
        self.alert.ack_reason = self.reason
        self.alert.ack_index = appended.index
        return self.alert
