"""A handoff: one truckload dispatched together under escort, received item by item,
and closed by the receiver, when whatever did not arrive is flagged missing."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class HandoffStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Handoff(Base):
    __tablename__ = "handoffs"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # chosen by the dispatcher
    from_site: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    to_site: Mapped[str] = mapped_column(ForeignKey("sites.code"))
    vehicle: Mapped[str | None] = mapped_column(String(32))
    escorts: Mapped[list[str]] = mapped_column(JSON, default=list)  # NRPs, never names
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[HandoffStatus] = mapped_column(
        Enum(HandoffStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
