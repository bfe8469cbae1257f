"""The audit trail: who changed accounts, devices, keys, webhooks and alerts, and when.

Append-only in the database (migration 0008), like the log: an administrator who
abuses a right cannot erase the record of it. Custody itself is in the log; this
trail covers what the operator's people do to the service around it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.actor import Actor
from models.core.base import Base, UTCDateTime, utcnow
from models.core.db import Database
from models.places.sites import under


class AuditRecord(Base):
    __tablename__ = "audit_trail"
    __table_args__ = (Index("ix_audit_trail_at", "at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the command line on the server (`jejak user add`, `jejak keys rotate`).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)  # user.create, key.rotate…
    target: Mapped[str] = mapped_column(String(255))  # what it was done to, by id or code
    # The site code the action concerns: who may read the record. "" is national.
    jurisdiction: Mapped[str] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    jurisdiction: str = "",
) -> AuditRecord:
    """Add a record to the trail in the caller's transaction: it commits, or is rolled
    back, with the action it describes. `details` must be JSON; never put a secret in it."""
    entry = AuditRecord(
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=action,
        target=target,
        jurisdiction=jurisdiction,
        details=dict(details or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def record_now(
    db: Database,
    actor: Actor | None,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    jurisdiction: str = "",
) -> None:
    """record() in a transaction of its own, on the database that holds the accounts and
    the trail: for an action whose own transaction was on a log's database (a device
    registered in its log), after that transaction committed."""
    with db.session(write=True) as session:
        record(session, actor, action, target, details, jurisdiction=jurisdiction)


def list_records(
    session: Session,
    *,
    jurisdiction: str,
    action: str | None,
    target: str | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[AuditRecord]:
    """Newest first: records about `jurisdiction` or anything below it ("" is all)."""
    query = select(AuditRecord).order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(limit)
    if jurisdiction:
        query = query.where(under(AuditRecord.jurisdiction, jurisdiction))
    if action is not None:
        query = query.where(AuditRecord.action == action)
    if target is not None:
        query = query.where(AuditRecord.target == target)
    if before is not None:
        query = query.where(tuple_(AuditRecord.at, AuditRecord.id) < before)
    return list(session.scalars(query))
