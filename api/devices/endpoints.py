"""A phone's signing key: registered by its user, recorded in the log, revocable."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from models.accounts import trail
from models.accounts import policy
from models.accounts.actor import Actor, Role
from models.accounts.users import nrp_of
from models.core.inputs import FreeText
from models.custody.devices import Device, DeviceRegistration, DeviceRevocation, devices_of, get_device, parse_public_key
from models.core.db import Database
from models.log.reads import check_log_id, get_log
from pydantic import BaseModel, ConfigDict, Field

from api.deps import DatabasesDep, Permit, SequencerDep, actor_log

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

DeviceRegistrar = Permit("devices.register")
DeviceLister = Permit("devices.list")
DeviceRevoker = Permit("devices.revoke")


class DeviceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", "name": "HP Kasi Logistik"}]
        },
    )

    public_key: str = Field(description="Raw Ed25519 public key, standard base64 (32 bytes)")
    name: FreeText = Field(default="", max_length=100, description="To tell your phones apart")
    log: str | None = Field(
        default=None, description="The regency log; defaults to your jurisdiction's"
    )


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    log_id: str
    name: str
    registered_at: datetime
    registered_index: int = Field(description="The log entry that published the key")
    revoked_at: datetime | None
    revoked_index: int | None
    nrp: str | None = Field(description="An escort's phone: its owner's NRP, recorded with its key")


@router.post("", status_code=201)
def register(
    body: DeviceIn, actor: DeviceRegistrar, databases: DatabasesDep, sequencer: SequencerDep
) -> DeviceOut:
    """Register this phone's key for your scans. The key becomes an entry in the log;
    an escort's carries their NRP, by which their pickups and deliveries name them."""
    log_id = actor_log(actor, "devices.register", body.log)
    with databases.for_log(log_id).reads() as session:
        get_log(session, log_id)
    nrp = None
    if actor.role is Role.ESCORT:
        with databases.home.reads() as session:  # accounts live on the home database
            nrp = nrp_of(session, actor.id)
    work = DeviceRegistration(log_id, actor, parse_public_key(body.public_key), body.name, nrp=nrp)
    device = sequencer.submit(log_id, work, 1)
    _audit(databases.home, actor, "device.register", device)
    return DeviceOut.model_validate(device)


@router.get("")
def mine(actor: DeviceLister, databases: DatabasesDep) -> list[DeviceOut]:
    """Your registered devices (in your jurisdiction's log: a phone is registered there)."""
    with databases.for_log(actor.jurisdiction).reads() as session:
        return [DeviceOut.model_validate(d) for d in devices_of(session, actor.id)]


@router.post("/{log_id}/{device_id}/revoke")
def revoke(
    log_id: str, device_id: str, actor: DeviceRevoker, databases: DatabasesDep, sequencer: SequencerDep
) -> DeviceOut:
    """Revoke a lost or retired device: yours, or any in your jurisdiction for KPU/admins."""
    with databases.for_log(log_id).reads() as session:
        device = get_device(session, check_log_id(log_id), device_id)
    policy.permit(actor, "devices.revoke", at=log_id, owner=device.user_id)
    work = DeviceRevocation(device, actor)
    device = sequencer.submit(log_id, work, 1)
    _audit(databases.home, actor, "device.revoke", device)
    return DeviceOut.model_validate(device)


def _audit(home: Database, actor: Actor, action: str, device: Device) -> None:
    trail.record_now(
        home, actor, action, f"{device.log_id}/{device.id}",
        {"name": device.name, "owner": str(device.user_id), "index": device.revoked_index or device.registered_index},
        jurisdiction=actor.jurisdiction or device.log_id,
    )
