"""Scanning devices: a phone's Ed25519 key, bound to its user and recorded in the log,
so the log alone carries every key needed to check every scan in it."""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from nacl.bindings import crypto_core_ed25519_is_valid_point
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts.actor import Actor

from models.accounts.users import stand_in
from models.core.base import Base, UTCDateTime, utcnow
from models.core.errors import Conflict, InvalidRequest, NotFound
from models.custody.events import Event
from models.log.sequencer import Appended, Batch, NewEntry, Refused
from models.log.tables import Log, LogEntry


class Device(Base):
    __tablename__ = "devices"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    name: Mapped[str] = mapped_column(String(100), default="")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_index: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_index: Mapped[int | None] = mapped_column(BigInteger)
    # An escort's phone: its owner's NRP, as its device_register entry records it. The
    # escort's pickups and deliveries are theirs by it, never by what a scan says.
    nrp: Mapped[str | None] = mapped_column(String(32))



def new_device_id() -> str:
    return "d-" + secrets.token_hex(8)


def parse_public_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as error:
        raise InvalidRequest("public_key must be standard base64") from error
    if len(raw) != 32:
        raise InvalidRequest(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    # A point of small order (the all-zero key among them) is no one's key: a signature
    # by it can be forged for any scan. libsodium also refuses encodings off the curve
    # or outside its prime-order group, which no key pair ever has.
    if not crypto_core_ed25519_is_valid_point(raw):
        raise InvalidRequest(
            "public_key is not a usable Ed25519 key (a point of small order, such as all zeros, "
            "or not a point of the curve's prime-order group): send the phone's own public key"
        )
    return raw


def get_device(session: Session, log_id: str, device_id: str) -> Device:
    device = session.get(Device, (log_id, device_id))
    if device is None:
        raise NotFound(f"there is no device {device_id} in log {log_id}", code="device_not_found")
    return device


def devices_of(session: Session, user_id: uuid.UUID) -> list[Device]:
    return list(
        session.scalars(
            select(Device).where(Device.user_id == user_id).order_by(Device.registered_at)
        )
    )


@dataclass
class DeviceRegistration:
    """Work: a device's key enters the log, and the device is known from then on."""

    log_id: str
    actor: Actor
    public_key: bytes
    name: str
    device_id: str = field(default_factory=new_device_id)
    nrp: str | None = None  # an escort's, from their account: their attestations are theirs by it

    def prepare(self, batch: Batch) -> list[NewEntry]:
        # Accounts live on the home database; a log routed to another keeps a stand-in
        # of the phone's owner there (models/core/routing.py).
        stand_in(
            batch.session, self.actor, f"account-{self.actor.id.hex}", self.actor.jurisdiction,
            "an account on the home database: sign in there",
        )
        return [
            NewEntry(
                {
                    "type": "device_register",
                    "device": self.device_id,
                    "key": base64.b64encode(self.public_key).decode(),
                    "alg": "Ed25519",
                    **self.actor.fields(),
                    **({"nrp": self.nrp} if self.nrp is not None else {}),
                }
            )
        ]

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Device:
        (appended,) = results
        assert isinstance(appended, Appended)
        device = Device(
            log_id=self.log_id,
            id=self.device_id,
            user_id=self.actor.id,
            public_key=self.public_key,
            name=self.name,
            registered_at=appended.received_at,
            registered_index=appended.index,
            nrp=self.nrp,
        )
        batch.session.add(device)
        return device


@dataclass
class DeviceRevocation:
    """Work: a lost or retired phone's key is revoked in the log; its scans are refused."""

    device: Device
    actor: Actor

    def prepare(self, batch: Batch) -> list[NewEntry]:
        current = batch.session.get(Device, (self.device.log_id, self.device.id))
        if current is None or current.revoked_at is not None:
            raise Conflict(f"device {self.device.id} is already revoked", code="device_revoked")
        return [
            NewEntry(
                {
                    "type": "device_revoke",
                    "device": self.device.id,
                    **self.actor.fields(),
                }
            )
        ]

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Device:
        (appended,) = results
        assert isinstance(appended, Appended)
        current = batch.session.get_one(Device, (self.device.log_id, self.device.id))
        current.revoked_at = appended.received_at
        current.revoked_index = appended.index
        return current


@dataclass(frozen=True)
class DeviceKey:
    """What never changes about a device once registered: whose it is, its key, the
    entry that published it, and an escort's NRP."""

    user_id: uuid.UUID
    public_key: bytes
    registered_index: int
    nrp: str | None = None

    def verify(self, message: bytes, signature: bytes) -> bool:
        # PyNaCl (libsodium) verifies about 1.7x faster than cryptography: every scan
        # pays for one verification, so it is the ingest path's largest single cost.
        try:
            VerifyKey(self.public_key).verify(message, signature)
        except (BadSignatureError, ValueError):
            return False
        return True


class DeviceKeys:
    """A process-wide cache of device keys. Safe because a key and its owner never
    change; revocation, which does change, is checked under the log's lock."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._keys: dict[tuple[str, str], DeviceKey] = {}
        self._lock = threading.Lock()

    def cached(self, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], DeviceKey]:
        """Those of the wanted keys already known, without the database."""
        with self._lock:
            return {k: self._keys[k] for k in wanted if k in self._keys}

    def lookup(self, session: Session, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], DeviceKey]:
        found = self.cached(wanted)
        by_log: dict[str, list[str]] = {}
        for log_id, device_id in wanted - found.keys():
            by_log.setdefault(log_id, []).append(device_id)
        for log_id, ids in by_log.items():
            rows = session.execute(
                select(Device.id, Device.user_id, Device.public_key, Device.registered_index, Device.nrp).where(
                    Device.log_id == log_id, Device.id.in_(ids)
                )
            )
            for device_id, *known in rows:
                found[(log_id, device_id)] = DeviceKey(*known)
        with self._lock:
            if len(self._keys) > self.capacity:
                self._keys.clear()  # rare; rebuilt from the database on demand
            self._keys.update(found)
        return found


@dataclass(frozen=True)
class SignedTrail:
    """Where one item's trail is in the log, for a verifier to fetch only that."""

    entries: list[int]  # in chain order: seq 1, 2, 3...
    devices: list[Device]  # those that signed one of its scans


def signed_trail(session: Session, log: Log, item_id: str) -> SignedTrail:
    entries = list(
        session.scalars(
            select(LogEntry.idx)
            .where(LogEntry.log_id == log.id, LogEntry.item_id == item_id)
            .order_by(LogEntry.seq)
        )
    )
    if not entries:
        raise NotFound(f"log {log.id} has no entry about item {item_id}")
    signers = select(Event.device_id).where(Event.log_id == log.id, Event.item_id == item_id)
    devices = session.scalars(
        select(Device)
        .where(Device.log_id == log.id, Device.id.in_(signers))
        .order_by(Device.registered_index)
    )
    return SignedTrail(entries, list(devices))
