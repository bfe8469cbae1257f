from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from models.custody.items import ItemKind, ItemStatus, Leg, TrailEntry
from models.log.sequencer import b64
from pydantic import BaseModel, ConfigDict, Field


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ItemKind
    destination: str = Field(
        pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}-\d{3}$", description="The polling station (TPS)"
    )
    code: str = Field(
        pattern=r"^[A-Z0-9]{2,12}$", description="Contest (BUP, GUB, PPWP...) or kind code", examples=["BUP"]
    )
    contest: str | None = Field(default=None, pattern=r"^[A-Z0-9_]{2,16}$")
    serial: int | None = Field(default=None, ge=1, le=9999)


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn] = Field(min_length=1, max_length=1000)


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["53.03.08.2001-003-BUP"])
    log_id: str
    kind: ItemKind
    contest: str | None
    destination: str
    status: ItemStatus
    leg: Leg
    custodian: str = Field(description="The site holding custody")
    seals: list[str]
    dispatch_to: str | None
    dispatched_at: datetime | None
    label_serial: int
    last_index: int


class ItemPage(BaseModel):
    items: list[ItemOut]
    next: str | None


class ItemsCreated(BaseModel):
    items: list[ItemOut]


class TrailEntryOut(BaseModel):
    index: int
    leaf_hash: str
    entry: dict[str, Any] = Field(description="The entry, decoded (no personal names)")
    entry_b64: str = Field(description="The entry's exact bytes, base64")
    inclusion_proof: list[str] | None = Field(
        description="Against the checkpoint below; null while newer than it"
    )

    @classmethod
    def of(cls, entry: TrailEntry) -> TrailEntryOut:
        return cls(
            index=entry.index,
            leaf_hash=b64(entry.leaf_hash),
            entry=json.loads(entry.data),
            entry_b64=b64(entry.data),
            inclusion_proof=[b64(h) for h in entry.proof] if entry.proof is not None else None,
        )


class History(BaseModel):
    item: str
    log: str
    checkpoint: str = Field(description="The signed checkpoint the proofs lead to")
    tree_size: int
    trail: list[TrailEntryOut]
