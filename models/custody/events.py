"""Scans as they entered the log: the index behind `event_id` and `device_seq`
idempotency and the event queries. Append-only like the log itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Select, String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.core.base import Base, UTCDateTime
from models.core.errors import InvalidRequest, NotFound
from models.places.sites import under


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_log_item", "log_id", "item_id", "entry_index"),
        Index("ix_events_log_site", "log_id", "site", "observed_at"),
        Index("ix_events_log_observed", "log_id", "observed_at"),
        # Events in log order from a point on (webhook deliveries follow a cursor).
        Index("ix_events_log_index", "log_id", "entry_index", unique=True),
        # A phone numbers each scan once: a number used again is a conflict, and a gap in
        # a phone's numbers is a scan withheld or lost (models/custody/device_gaps.py).
        Index("ix_events_log_device_seq", "log_id", "device_id", "device_seq", unique=True),
        # A truckload's escort attestations (models/custody/handoffs.py).
        Index("ix_events_log_handoff", "log_id", "handoff_id"),
    )

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_index: Mapped[int] = mapped_column(BigInteger, unique=False)
    # None: an escort's pickup or delivery of a whole truckload (handoff_id names it).
    item_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    site: Mapped[str] = mapped_column(String(32))
    counterparty: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    role: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str] = mapped_column(String(32))
    # The phone's own number for the scan (null only for a number an older log reused).
    device_seq: Mapped[int | None] = mapped_column(BigInteger)
    handoff_id: Mapped[str | None] = mapped_column(String(64))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Custody irregularities found when it was integrated (also in the entry).
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)


@dataclass(frozen=True)
class EventFilter:
    """What GET /api/v1/events selects by (its CSV export takes the same)."""

    item: str | None = None
    site: str | None = None
    actor: str | None = None  # a user id
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    within: str | None = None  # a site: the events there and at every site below it


def visible_events(log_id: str, jurisdiction: str) -> Select[tuple[Event]]:
    """A log's events in log order. Below regency level, an officer sees the events at
    their sites and those of the items bound for them."""
    query = select(Event).where(Event.log_id == log_id).order_by(Event.entry_index)
    if len(jurisdiction) > len(log_id):
        query = query.where(under(Event.site, jurisdiction) | under(Event.item_id, jurisdiction))
    return query


def list_events(
    session: Session,
    *,
    log_id: str,
    jurisdiction: str,
    filter: EventFilter,
    after: int | None,
    limit: int,
) -> list[Event]:
    query = visible_events(log_id, jurisdiction).limit(limit)
    if filter.item is not None:
        query = query.where(Event.item_id == filter.item)
    if filter.site is not None:
        query = query.where(Event.site == filter.site)
    if filter.within is not None:
        query = query.where(under(Event.site, filter.within))
    if filter.actor is not None:
        try:
            query = query.where(Event.actor_id == uuid.UUID(filter.actor))
        except ValueError as error:
            raise InvalidRequest("actor is a user id (UUID)") from error
    if filter.type is not None:
        query = query.where(Event.type == filter.type)
    query = observed_between(query, filter.since, filter.until)
    if after is not None:
        query = query.where(Event.entry_index > after)
    return list(session.scalars(query))


def observed_between(query: Select[Any], since: datetime | None, until: datetime | None) -> Select[Any]:
    """Events observed at or after `since` and before `until`."""
    if since is not None:
        query = query.where(Event.observed_at >= _utc(since))
    if until is not None:
        query = query.where(Event.observed_at < _utc(until))
    return query


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise InvalidRequest("times need a time zone, e.g. 2024-11-27T07:00:00Z", code="time_without_zone")
    return moment.astimezone(UTC)


def get_event(session: Session, log_id: str, event_id: str) -> Event:
    event = session.get(Event, (log_id, event_id))
    if event is None:
        raise NotFound(f"there is no event {event_id} in log {log_id}")
    return event
