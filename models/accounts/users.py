"""People and service accounts, their role and jurisdiction.

Personal names and police NRPs stay here; log entries name actors only by opaque id
and role."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Enum, Integer, String, Uuid, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts import trail
from models.accounts.actor import SCOPES, Actor, Role
from models.core.base import Base, UTCDateTime, utcnow
from models.core.db import Database
from models.core.errors import Conflict, InvalidRequest, JejakError, NotFound
from models.places.sites import get_site


USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
NRP = re.compile(r"[A-Za-z0-9]{4,32}")  # what a dispatch's `escorts` may name (a Token)
_hasher = PasswordHasher()


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    # A site code; everything below it is theirs. "" is national (admins, national auditors).
    jurisdiction: Mapped[str] = mapped_column(String(32))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    # Personal data of an imported officer (models/accounts/onboarding.py): the NIK of an
    # official's identity card, a phone number. Never in the log, nor the audit trail;
    # shown only to the administrators of the account's area.
    nik: Mapped[str | None] = mapped_column(String(16), index=True, unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # The election period an imported account serves ("pilkada-2026"): ended in one action.
    period: Mapped[str | None] = mapped_column(String(32), index=True)
    # A police officer's registration number: one person's, so unique; an escort has one.
    nrp: Mapped[str | None] = mapped_column(String(32), index=True, unique=True)
    scopes: Mapped[str] = mapped_column(String(255), default="")  # integrators, space-separated
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since the last lock
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Carried in every access token; raised when the account is disabled, enabled or its
    # password changes, which refuses every token issued before (models/accounts/standing.py).
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A service account's client secret (the client_credentials grant), as its SHA-256:
    # models/accounts/clients.py. None: the account has no client secret.
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def actor_of(user: User) -> Actor:
    """The actor a user's account acts as."""
    return Actor(user.id, user.role, user.jurisdiction, frozenset(user.scopes.split()), user.token_version)


def nrp_of(session: Session, user_id: uuid.UUID) -> str | None:
    """An account's NRP (escorts'), if it has one."""
    return session.scalar(select(User.nrp).where(User.id == user_id))


def escort_jurisdictions(session: Session, nrps: Collection[str]) -> dict[str, str]:
    """Of these NRPs, those of active escort accounts, with each one's jurisdiction."""
    if not nrps:
        return {}
    rows = session.execute(
        select(User.nrp, User.jurisdiction).where(User.nrp.in_(sorted(nrps)), User.role == Role.ESCORT, User.active)
    )
    return {nrp: jurisdiction for nrp, jurisdiction in rows}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_password_length(password: str) -> None:
    if len(password) < 10:
        raise InvalidRequest("a password has at least 10 characters")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    jurisdiction: str,
    full_name: str = "",
    nrp: str | None = None,
    scopes: frozenset[str] = frozenset(),
    by: Actor | None = None,
) -> User:
    """A new account, recorded in the audit trail as made `by` someone (None: the
    server's command line)."""
    if not USERNAME.fullmatch(username):
        raise InvalidRequest(
            "a username has 3 to 64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    _check_password_length(password)
    if jurisdiction:
        get_site(session, jurisdiction)
    elif role not in (Role.ADMIN, Role.AUDITOR, Role.INTEGRATOR):
        raise InvalidRequest(f"a {role} user needs a jurisdiction (a site code)")
    if scopes and role is not Role.INTEGRATOR:
        raise InvalidRequest("only integrator accounts carry scopes")
    if nrp is not None and not NRP.fullmatch(nrp):
        raise InvalidRequest("an NRP is 4 to 32 letters and digits, as on the officer's card")
    if role is Role.ESCORT and nrp is None:
        raise InvalidRequest("an escort account needs the officer's NRP: their pickups and deliveries name them by it")
    if nrp is not None and session.scalar(select(User.username).where(User.nrp == nrp)) is not None:
        raise Conflict(f"NRP {nrp} is another account's: an NRP names one officer")
    if unknown := scopes - SCOPES:
        raise InvalidRequest(f"unknown scopes {sorted(unknown)}; known: {sorted(SCOPES)}")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username} exists", code="user_exists")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        jurisdiction=jurisdiction,
        full_name=full_name,
        nrp=nrp,
        scopes=" ".join(sorted(scopes)),
    )
    session.add(user)
    session.flush()
    trail.record(
        session, by, "user.create", username,
        {"id": str(user.id), "role": role.value, "scopes": sorted(scopes)}, jurisdiction=jurisdiction,
    )
    return user


def stand_in(session: Session, actor: Actor, username: str, jurisdiction: str, why: str) -> None:
    """A disabled account row for an actor whose account is not in this database (a
    restored log's actors, the owners of a routed log's phones), so that rows naming
    the actor keep their foreign keys; no one can sign in with it."""
    if session.get(User, actor.id) is None:
        session.add(
            User(
                id=actor.id, username=username, password_hash=f"!{why}", role=actor.role,
                jurisdiction=jurisdiction, active=False,
            )
        )
        session.flush()


class AccountLocked(JejakError):
    status = 423
    title = "Account locked"
    code = "account_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"this account is locked until {until:%Y-%m-%dT%H:%M:%SZ} after too many wrong "
            "passwords; wait, or ask an administrator to unlock it"
        )
        self.retry_after = max(1, math.ceil((until - utcnow()).total_seconds()))


@dataclass(frozen=True)
class Lockout:
    """How many wrong passwords in a row lock an account, and for how long."""

    max_failures: int
    duration: timedelta


def sign_in(db: Database, username: str, password: str, lockout: Lockout) -> Actor | None:
    """The actor these credentials name, or None. Wrong passwords in a row are counted
    and lock the account (recorded in the audit trail); a locked account is refused
    (AccountLocked) whatever the password, so guessing on cannot tell a right one.
    The password is checked outside any write: the hashing takes a while."""
    with db.reads() as session:
        user = _active_user(session, username, password)
        if user is None:
            return None
        if user.locked_until is not None and user.locked_until > utcnow():
            raise AccountLocked(user.locked_until)
        actor, failures = actor_of(user), user.failed_logins
        right = check_password(user, password)
    if right:
        if failures:
            with db.session(write=True) as session:
                session.execute(update(User).where(User.id == actor.id).values(failed_logins=0))
        return actor
    with db.session(write=True) as session:
        failures = session.execute(
            update(User).where(User.id == actor.id)
            .values(failed_logins=User.failed_logins + 1).returning(User.failed_logins)
        ).scalar_one()
        if failures >= lockout.max_failures:
            until = utcnow() + lockout.duration
            session.execute(update(User).where(User.id == actor.id).values(failed_logins=0, locked_until=until))
            trail.record(
                session, None, "user.lock", username,
                {"failures": failures, "until": until.isoformat()}, jurisdiction=actor.jurisdiction,
            )
    return None


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"there is no user {username}", code="user_not_found")
    return user


def unlock(session: Session, by: Actor | None, user: User) -> None:
    """Lift a lock (and forget the wrong passwords before it), recorded in the audit trail."""
    trail.record(
        session, by, "user.unlock", user.username,
        {"locked_until": user.locked_until.isoformat() if user.locked_until else None},
        jurisdiction=user.jurisdiction,
    )
    user.failed_logins, user.locked_until = 0, None


def disable(session: Session, by: Actor | None, user: User) -> None:
    """Stop an account: it cannot sign in, and every token it holds is refused from its
    next request on (enabling it again does not revive them). Recorded in the audit trail."""
    trail.record(session, by, "user.disable", user.username, jurisdiction=user.jurisdiction)
    user.active = False
    user.token_version += 1


def enable(session: Session, by: Actor | None, user: User) -> None:
    """Let a disabled account sign in again, recorded in the audit trail. Its version
    rises too: its new tokens are then newer than what any process remembers of it."""
    trail.record(session, by, "user.enable", user.username, jurisdiction=user.jurisdiction)
    user.active = True
    user.token_version += 1


def change_password(session: Session, by: Actor | None, user: User, password: str) -> None:
    """Set a new password; every token signed in with the old one is refused from its
    next request on. Recorded in the audit trail (without the password)."""
    _check_password_length(password)
    trail.record(session, by, "user.password", user.username, jurisdiction=user.jurisdiction)
    user.password_hash = hash_password(password)
    user.token_version += 1


def _active_user(session: Session, username: str, password: str) -> User | None:
    """The active user of this name, or None after as long as a password check takes."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # spend the same time: don't reveal which usernames exist
        return None
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = _active_user(session, username, password)
    return user if user is not None and check_password(user, password) else None
