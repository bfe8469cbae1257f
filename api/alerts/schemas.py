"""Shapes of the alerts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from models.core.inputs import FreeText
from models.custody.alerts import Severity
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints


def _indexes(stored: Any) -> list[int | None]:
    """The stored evidence as log indexes; what is not one is shown as null ("not
    known"), never a 500: restores before restore named an impossible_travel's earlier
    scan stored [null, N], and a row may have been edited by hand."""
    values = stored if isinstance(stored, list) else [] if stored is None else [stored]
    return [v if isinstance(v, int) and not isinstance(v, bool) else None for v in values]


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    log_id: str
    rule: str
    severity: Severity
    item_id: str | None
    site: str | None
    event_id: str | None
    detail: str
    evidence: Annotated[list[int | None], BeforeValidator(_indexes)] = Field(
        description="Log indexes of the entries involved (null: an entry not known)"
    )
    created_at: datetime
    acked_at: datetime | None
    acked_by: uuid.UUID | None = Field(description="The user who acknowledged it")
    ack_reason: str | None
    ack_index: int | None = Field(description="The log index of the alert_ack entry")


class AlertPage(BaseModel):
    alerts: list[AlertOut]
    next: str | None


class AckIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "Kotak diperiksa di gudang: segel utuh"}]}
    )

    # Stripped, then measured: behind FreeText's validator pydantic applies each
    # constraint as a step of its own, in the order given.
    reason: Annotated[
        FreeText, StringConstraints(strip_whitespace=True), StringConstraints(min_length=1, max_length=1000)
    ] = Field(
        description="Why the alert needs no more action, or what was done: it enters the public log"
    )
