"""Shapes of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime

from models.accounts.actor import Role
from pydantic import BaseModel, ConfigDict, Field


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: Role
    jurisdiction: str = Field(description='A site code; "" is national')
    nrp: str | None = Field(description="A police officer's registration number (escorts have one)")
    active: bool
    locked_until: datetime | None = Field(description="Sign-in refused until then, after wrong passwords")
