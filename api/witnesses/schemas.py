"""Response shapes of the witness API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CosignaturesStored(BaseModel):
    log: str = Field(examples=["53.03"])
    tree_size: int = Field(description="The size of the checkpoint cosigned")
    witnesses: list[str] = Field(description="The witnesses whose cosignatures verified")
