"""Irregularities the custody rules flag. An alert stays open until someone with the
right to acknowledges it, with a reason."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, Uuid, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.sites import under


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_log_open", "log_id", "acked_at", "created_at"),)

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


def list_alerts(
    session: Session,
    *,
    log_id: str,
    jurisdiction: str,
    open_only: bool,
    rule: str | None,
    item: str | None,
    after: tuple[datetime, uuid.UUID] | None,
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
        query = query.where(
            under(Alert.site, jurisdiction) | under(Alert.item_id, jurisdiction)
        )
    if open_only:
        query = query.where(Alert.acked_at.is_(None))
    if rule is not None:
        query = query.where(Alert.rule == rule)
    if item is not None:
        query = query.where(Alert.item_id == item)
    if after is not None:
        query = query.where(tuple_(Alert.created_at, Alert.id) > tuple_(*after))
    return list(session.scalars(query))
