"""Response shapes of the log API. Hashes and entry bytes are standard base64."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RetiredLogKeyInfo(BaseModel):
    verifier_key: str = Field(description="A checkpoint verifier key the log signed with before")
    retired_index: int = Field(
        description="Index of the `log_key` entry that replaced it; it signed the handover "
        "checkpoint of size retired_index + 1 (GET /logs/{log}/checkpoints/{size}), its last"
    )


class LogInfo(BaseModel):
    log: str = Field(examples=["53.03"], description="The regency code naming the log")
    origin: str = Field(examples=["jejak.example/log/53.03"])
    verifier_key: str = Field(description="The checkpoint verifier key, name+keyid+base64")
    retired_keys: list[RetiredLogKeyInfo] = Field(
        description="The keys it signed with before its key rotations, oldest first"
    )
    size: int = Field(description="Entries integrated so far")
    checkpoint_size: int = Field(description="Tree size of the latest signed checkpoint")


class WitnessInfo(BaseModel):
    name: str = Field(examples=["bawaslu.go.id/saksi"])
    verifier_key: str = Field(description="The cosignature verifier key, name+keyid+base64")


class LogList(BaseModel):
    logs: list[LogInfo]
    witnesses: list[WitnessInfo] = Field(
        description="The witnesses every checkpoint is submitted to for cosigning"
    )


class Entry(BaseModel):
    index: int
    leaf_hash: str
    entry: str = Field(description="The entry's exact bytes (RFC 8785 JSON), base64")


class EntryPage(BaseModel):
    log: str
    start: int
    end: int
    entries: list[Entry]


class InclusionProof(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    first: int
    second: int
    proof: list[str]


class TrailDevice(BaseModel):
    device: str
    registered: int = Field(description="Log index of the device's device_register entry")
    revoked: int | None = Field(description="Log index of its device_revoke entry, if revoked")


class ItemEntries(BaseModel):
    log: str
    item: str
    entries: list[int] = Field(description="The item's entry indexes in chain order (seq 1, 2, ...)")
    devices: list[TrailDevice] = Field(description="The devices that signed the item's scans")
