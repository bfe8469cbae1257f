"""A scan as a phone signs it: the fields, their limits, and the signature check.

The device signs the RFC 8785 bytes of the scan object exactly as it sends it; the
entry keeps that object untouched, so anyone can check the signature again."""

from __future__ import annotations

import base64
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from models.core.inputs import FreeText
from models.core.times import parse_time
from models.custody.devices import DeviceKey
from models.custody.rules import ATTESTATIONS, IncidentKind, ScanType


Code = Annotated[str, StringConstraints(min_length=5, max_length=32, pattern=r"^[0-9.\-]+$")]
# Ids a device chooses: event ids, handoff ids, device ids.
TOKEN_PATTERN = r"^[A-Za-z0-9._:\-]+$"
Token = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=TOKEN_PATTERN)]
Seal = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-/.]+$")]
Digest = Annotated[str, StringConstraints(pattern=r"^sha256:[0-9a-f]{64}$")]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class Scan(BaseModel):
    """The signed fields. Unknown fields are refused: nothing rides along unsigned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Token = Field(description="Chosen by the device; a replay returns the first result")
    type: ScanType
    item: Annotated[str, StringConstraints(min_length=5, max_length=64)] | None = Field(
        default=None, description="The box; an escort's pickup or delivery of a whole truckload names none"
    )
    observed_at: str = Field(
        description="When the scan was made, on the device: RFC 3339 with its zone, a year from 2000 to 2100"
    )
    site: Code = Field(description="Where the scan was made")
    counterparty: Code | None = Field(
        default=None, description="dispatch: where it goes; receive: where it came from"
    )
    handoff: Token | None = Field(default=None, description="The truckload it travels in")
    vehicle: Annotated[FreeText, StringConstraints(max_length=32)] | None = None
    escorts: list[Token] = Field(default_factory=list, max_length=20, description="Officers' NRP")
    seals: list[Seal] = Field(default_factory=list, max_length=50)
    location: Location | None = None
    evidence: list[Digest] = Field(default_factory=list, max_length=20)
    manifest: Digest | None = Field(
        default=None,
        description="pickup, delivery: the truckload manifest the escort read, `sha256:` and the hex SHA-256 "
        "of the manifest's signed form (docs/ENTRIES.md)",
    )
    incident: IncidentKind | None = None
    label: int | None = Field(
        default=None, ge=1, le=2**31 - 1, strict=True,
        description="The serial (`n`) of the label read; a revoked one raises an alert",
    )
    ref: Token | None = Field(default=None, description="correction: the event it annotates")
    stocktake: Token | None = Field(
        default=None, description="stocktake: the stock-take the box was counted in; its id begins with the site's code"
    )
    reason: Annotated[FreeText, StringConstraints(max_length=280)] | None = None
    device: Token
    device_seq: int = Field(
        ge=0, le=2**53 - 1, strict=True, description="The device's own scan counter"
    )

    @field_validator("observed_at")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        parse_time(value)
        return value

    @model_validator(mode="after")
    def _about(self) -> Scan:
        """A custody scan is about a box; an escort's attestation about a truckload."""
        if self.type in ATTESTATIONS:
            if self.handoff is None:
                raise ValueError(f"handoff: a {self.type} names the truckload it attests")
        elif self.item is None:
            raise ValueError(f"item: a {self.type} names its box")
        if (self.stocktake is None) is (self.type is ScanType.STOCKTAKE):
            raise ValueError("stocktake: a stocktake scan names its stock-take, and only it does")
        if self.manifest is not None and self.type not in ATTESTATIONS:
            raise ValueError("manifest: only an escort's pickup or delivery reads a truckload manifest")
        return self

    @cached_property  # the rules read it several times a scan, under the log's lock
    def observed(self) -> datetime:
        return parse_time(self.observed_at)


def parse_scan(raw: Any) -> Scan:
    """The scan's fields checked; raises ValueError with every problem named."""
    try:
        return Scan.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"].removeprefix("Value error, ")
            for e in error.errors()
        )
        raise ValueError(problems) from None


def signature_ok(device: DeviceKey, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is the device's Ed25519 signature of `message`."""
    try:
        sig = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    return len(sig) == 64 and device.verify(message, sig)
