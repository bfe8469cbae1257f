"""Shapes of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime

from models.accounts.actor import Role
from models.core.inputs import FreeText
from models.custody.enrollment import Phone
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


class ImportedAccount(BaseModel):
    row: int = Field(description="The file's line (the header is line 1)")
    username: str
    role: Role
    jurisdiction: str
    code: str | None = Field(description="The one-time enrollment code (None on a dry run): print it, then forget it")


class UnchangedAccount(BaseModel):
    row: int
    username: str


class ImportOut(BaseModel):
    dry_run: bool
    created: list[ImportedAccount]
    unchanged: list[UnchangedAccount] = Field(description="Rows that match an existing account exactly")


class PhoneOut(BaseModel):
    id: str
    log_id: str
    name: str
    registered_at: datetime
    revoked_at: datetime | None
    last_scan: datetime | None = Field(description="When the log last received a scan signed by this phone")

    @classmethod
    def of(cls, phone: Phone) -> PhoneOut:
        device = phone.device
        return cls(id=device.id, log_id=device.log_id, name=device.name, registered_at=device.registered_at,
                   revoked_at=device.revoked_at, last_scan=phone.last_scan)  # fmt: skip


class ManagedAccount(AccountOut):
    """An account as its area's administrators see it: with the officer's personal data."""

    place: str = Field(description="The jurisdiction's name")
    full_name: str
    nik: str | None
    phone: str | None
    period: str | None = Field(description="The election period it serves (ended in one action)")
    enrolled: bool = Field(description="Whether the officer has enrolled (chosen a password)")
    phones: list[PhoneOut] = []


class AccountsPage(BaseModel):
    accounts: list[ManagedAccount]
    next: str | None = Field(description="The cursor of the next page, if there is one (also a Link header)")


class CodeOut(BaseModel):
    username: str
    code: str = Field(description="The new one-time enrollment code; every earlier one is revoked")
    expires_at: datetime


class RevokedCodes(BaseModel):
    username: str
    revoked: int = Field(description="Unspent codes revoked")


class PeriodOut(BaseModel):
    period: str
    dry_run: bool
    accounts: list[str] = Field(description="The usernames disabled (or, dry, that would be)")


class PasswordIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"current": "kata sandi lama", "new": "kata sandi baru sekali"}]}
    )

    current: str = Field(max_length=200)
    new: str = Field(min_length=10, max_length=200)


class EnrollIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{
                "code": "ABCD-EFGH-IJKL-MNOP-QRST-UVWX", "password": "kata sandi rahasia",
                "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "name": "HP Maria",
            }]
        },
    )

    code: str = Field(max_length=64, description="As printed: ABCD-EFGH-... (dashes and case do not matter)")
    password: str = Field(min_length=10, max_length=200, description="The officer's own password from now on")
    public_key: str | None = Field(
        default=None, max_length=64, description="The phone's new Ed25519 key, standard base64 (officers who scan)"
    )
    name: FreeText = Field(default="", max_length=100, description="To tell the officer's phones apart")


class EnrolledOut(BaseModel):
    username: str
    role: Role
    jurisdiction: str
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    device: str | None = Field(description="The phone's device id in the log (None: an account that does not scan)")
    log_id: str | None
    nrp: str | None
    revoked_devices: list[str] = Field(description="The officer's earlier phones, revoked as the KPU chose")


class OwnAccount(BaseModel):
    id: uuid.UUID
    username: str
    role: Role
    jurisdiction: str
    full_name: str
    nik: str | None
    nrp: str | None
    phone: str | None
    period: str | None
    active: bool
    created_at: datetime


class OwnRecord(BaseModel):
    at: datetime
    action: str = Field(examples=["user.enroll"])
    actor_role: str | None = Field(description="Who did it (None: the server's command line)")


class OwnData(BaseModel):
    """Everything the service keeps about the signed-in account."""

    account: OwnAccount
    phones: list[PhoneOut]
    audit: list[OwnRecord] = Field(description="The audit trail's records about the account, newest first")
