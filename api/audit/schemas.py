"""Shapes of the audit trail API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None = Field(description="Who (null: the server's command line, or the service itself)")
    actor_role: str | None
    action: str = Field(examples=["user.create", "user.lock", "device.revoke", "key.rotate"])
    target: str = Field(description="What it was done to: a username, a device, a log, a webhook…")
    jurisdiction: str = Field(description='The site code it concerns; "" is national')
    details: dict[str, Any]


class AuditPage(BaseModel):
    records: list[AuditRecordOut]
    next: str | None
