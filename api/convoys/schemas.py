"""The convoy picture as the API shows it."""

from __future__ import annotations

from datetime import date, datetime

from models.custody.handoffs import HandoffStatus
from pydantic import BaseModel, Field


class LastScanOut(BaseModel):
    type: str = Field(description="dispatch, pickup, delivery or receive")
    site: str
    site_name: str | None
    observed_at: datetime
    entry_index: int


class ConvoyOut(BaseModel):
    handoff: str = Field(description="The truckload's id")
    log_id: str
    from_site: str
    from_name: str | None
    to_site: str
    to_name: str | None
    kerawanan: str | None = Field(description="The destination's")
    vehicle: str | None
    escorts: list[str] = Field(description="The escorts' NRPs its dispatches name")
    status: HandoffStatus
    dispatched_at: datetime
    minutes_since_dispatch: int
    allowance_hours: float = Field(description="Hours its destination's kerawanan allows before `not_received`")
    overdue: bool = Field(description="Boxes still on the road past the allowance")
    boxes: int
    on_road: int = Field(description="Its boxes still in transit in it")
    picked_up_at: datetime | None
    delivered_at: datetime | None
    last_scan: LastScanOut | None = Field(description="Its latest event in the log, and where it was made")


class ConvoysOut(BaseModel):
    site: str
    day: date | None = Field(description="The day asked for (dispatched that day, local time); null: on the road now")
    now: datetime
    total: int = Field(description="How many truckloads, whatever the limit")
    overdue: int = Field(description="How many of them are overdue, whatever the limit")
    convoys: list[ConvoyOut] = Field(
        description="Overdue first, then sangat rawan destinations, then longest on the road (at most `limit`)"
    )
