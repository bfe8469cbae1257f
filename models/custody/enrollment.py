"""A phone enrolled by its officer's one-time code: the account's password is set, the
phone's key enters the log as any device's does (`device_register`, by the officer),
and, as the deployment's KPU chose (JEJAK_ENROLL_SECOND_PHONE), the officer's earlier
phones are revoked in the log or kept. Also what administrators see of phones: each
one's last scan."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.accounts import enrollment, trail
from models.accounts.actor import Actor
from models.accounts.users import User, nrp_of
from models.core.db import Database
from models.core.errors import InvalidRequest
from models.core.routing import Databases
from models.custody.devices import Device, DeviceRegistration, DeviceRevocation, devices_of, parse_public_key
from models.custody.events import Event
from models.custody.rules import SCANNING_ROLES
from models.log.sequencer import Sequencer
from models.places.sites import regency_of


@dataclass
class Enrolled:
    actor: Actor
    username: str
    device: Device | None  # None: an account that does not scan (an auditor)
    revoked: list[Device] = field(default_factory=list)


def enroll_phone(
    home: Database,
    databases: Databases,
    sequencer: Sequencer,
    *,
    code: str,
    password: str,
    public_key: str | None,
    name: str,
    replace_phones: bool,
) -> Enrolled:
    """Spend `code`: the officer's password, then (for those who scan) the phone's key
    registered in their regency's log, then their other phones revoked if
    `replace_phones`. Everything a wrong request could fail on is checked before the
    code is spent."""
    key = parse_public_key(public_key) if public_key is not None else None
    enrollment.digest(code)
    if len(password) < 10:
        raise InvalidRequest("a password has at least 10 characters")
    with home.session(write=True) as session:
        redeemed = enrollment.redeem(session, code, password)
        actor = redeemed.actor
        if actor.role.value in SCANNING_ROLES and key is None:
            # Rolled back with the code: nothing is spent.
            raise InvalidRequest("this officer scans: enroll from the phone, which sends its public_key")
        nrp = nrp_of(session, actor.id)
    if key is None or actor.role.value not in SCANNING_ROLES:
        return Enrolled(actor, redeemed.username, None)
    log_id = regency_of(actor.jurisdiction)
    with databases.for_log(log_id).reads() as session:
        earlier = [d for d in devices_of(session, actor.id) if d.revoked_at is None]
    device = sequencer.submit(log_id, DeviceRegistration(log_id, actor, key, name, nrp=nrp), 1)
    revoked = [sequencer.submit(log_id, DeviceRevocation(d, actor), 1) for d in earlier] if replace_phones else []
    with home.session(write=True) as session:
        enrollment.attach_device(session, redeemed.enrollment_id, device.id)
        for done, action in [(device, "device.register"), *((d, "device.revoke") for d in revoked)]:
            trail.record(
                session, actor, action, f"{done.log_id}/{done.id}",
                {"name": done.name, "owner": str(actor.id), "index": done.revoked_index or done.registered_index,
                 "enrollment": True},
                jurisdiction=actor.jurisdiction,
            )  # fmt: skip
    return Enrolled(actor, redeemed.username, device, revoked)


@dataclass(frozen=True)
class Phone:
    """A phone as its account's administrators see it."""

    device: Device
    last_scan: datetime | None


def phones_of(databases: Databases, users: Collection[User]) -> dict[uuid.UUID, list[Phone]]:
    """Each account's phones, in its regency's log, with the time of each one's last scan."""
    found: dict[uuid.UUID, list[Phone]] = {}
    by_log: dict[str, list[uuid.UUID]] = {}
    for user in users:
        if user.jurisdiction:
            by_log.setdefault(regency_of(user.jurisdiction), []).append(user.id)
    for log_id, ids in by_log.items():
        with databases.for_log(log_id).reads() as session:
            for phone in _phones(session, log_id, ids):
                found.setdefault(phone.device.user_id, []).append(phone)
    return found


def _phones(session: Session, log_id: str, user_ids: list[uuid.UUID]) -> list[Phone]:
    devices = list(
        session.scalars(
            select(Device).where(Device.log_id == log_id, Device.user_id.in_(user_ids)).order_by(Device.registered_at)
        )
    )
    if not devices:
        return []
    rows = session.execute(
        select(Event.device_id, func.max(Event.received_at))
        .where(Event.log_id == log_id, Event.device_id.in_([d.id for d in devices]))
        .group_by(Event.device_id)
    )
    last = {device_id: at for device_id, at in rows}
    return [Phone(device, last.get(device.id)) for device in devices]
