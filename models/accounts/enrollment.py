"""One-time enrollment codes: how an imported officer's phone becomes theirs.

An imported account has no password. An administrator issues it a code (at import, on
reset, or when printing the sheet); the officer's phone reads the code once, makes its
own key, and the officer chooses a password: the code is then spent. A code expires,
is revoked when another is issued to the same account, and can be revoked alone.

Codes are 120 random bits. They are stored as their SHA-256 digest, not with a slow
password hash: a slow hash protects secrets people choose, which are guessable; a code
nobody chose cannot be guessed from its digest (2^120 tries), and a plain digest lets
the service find a code's account by one indexed lookup without a username, and hash
10,000 codes in milliseconds (docs/BENCHMARKS.md). The plain code exists only on the
printed sheet and in the answer that issued it."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Uuid, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts import trail
from models.accounts.actor import Actor
from models.accounts.users import User, actor_of, change_password
from models.core.base import Base, UTCDateTime, utcnow
from models.core.errors import Forbidden, InvalidRequest, JejakError

CODE_BYTES = 15  # 120 bits: 24 base32 letters, printed in groups of four
_CODE = re.compile(r"[A-Z2-7]{24}")
NO_PASSWORD = "!enroll"  # an imported account's password hash until it enrolls: matches nothing


class Enrollment(Base):
    __tablename__ = "enrollments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256, hex
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None: the command line
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[str | None] = mapped_column(String(32))  # the phone it enrolled


class CodeRefused(JejakError):
    """A code that enrolls nothing: unknown, spent, revoked or expired. One status for
    all (the holder of a wrong code learns nothing of others), the reason in words and
    as a `code` (code_unknown, code_spent, code_revoked, code_expired) the page translates."""

    status = 410
    title = "Enrollment code not valid"

    def __init__(self, detail: str, code: str) -> None:
        super().__init__(detail, code=code)


def new_code() -> str:
    """A fresh code, as printed: `ABCD-EFGH-…` (six groups of four)."""
    text = base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def digest(code: str) -> str:
    """The stored form of a code, as typed or printed (dashes, spaces, case ignored)."""
    plain = re.sub(r"[\s-]", "", code).upper()
    if not _CODE.fullmatch(plain):
        raise InvalidRequest("an enrollment code has 24 letters A-Z and digits 2-7, as printed on the sheet")
    return hashlib.sha256(plain.encode()).hexdigest()


def issue_many(session: Session, by: Actor | None, users: list[User], lifetime: timedelta) -> dict[uuid.UUID, str]:
    """A new code for each account (its earlier unspent codes revoked), by account id.
    The caller records why in the audit trail (an import, a reset, a printed sheet)."""
    now = utcnow()
    revoke_codes(session, [user.id for user in users])
    codes = {user.id: new_code() for user in users}
    session.add_all(
        Enrollment(user_id=user_id, code_hash=digest(code), issued_at=now, issued_by=by.id if by else None,
                   expires_at=now + lifetime)
        for user_id, code in codes.items()
    )  # fmt: skip
    session.flush()
    return codes


def revoke_codes(session: Session, user_ids: list[uuid.UUID]) -> int:
    """Revoke these accounts' unspent codes; how many there were. The caller records why."""
    revoked, now = 0, utcnow()
    for start in range(0, len(user_ids), 500):
        revoked += session.execute(
            update(Enrollment)
            .where(Enrollment.user_id.in_(user_ids[start : start + 500]), Enrollment.spent_at.is_(None),
                   Enrollment.revoked_at.is_(None))
            .values(revoked_at=now)
        ).rowcount  # fmt: skip
    return revoked


def revoke(session: Session, by: Actor | None, user: User) -> int:
    """Revoke the account's unspent codes (a lost sheet); recorded. How many there were."""
    revoked = revoke_codes(session, [user.id])
    trail.record(session, by, "user.code_revoke", user.username, {"codes": revoked}, jurisdiction=user.jurisdiction)
    return revoked


def pending(session: Session, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Of these accounts, those holding a code that could still enroll."""
    now, found = utcnow(), set()
    for start in range(0, len(user_ids), 500):
        found.update(
            session.scalars(
                select(Enrollment.user_id).where(
                    Enrollment.user_id.in_(user_ids[start : start + 500]), Enrollment.spent_at.is_(None),
                    Enrollment.revoked_at.is_(None), Enrollment.expires_at > now,
                )
            )
        )  # fmt: skip
    return found


@dataclass(frozen=True)
class Redeemed:
    """A code spent: the account it enrolled, as it now acts (its new token version)."""

    enrollment_id: uuid.UUID
    actor: Actor
    username: str


def redeem(session: Session, code: str, password: str) -> Redeemed:
    """Spend a code: the account's password becomes `password` (its earlier tokens end),
    recorded. Spent at most once even when two phones race (one UPDATE decides)."""
    code_hash, now = digest(code), utcnow()
    spent = session.execute(
        update(Enrollment)
        .where(Enrollment.code_hash == code_hash, Enrollment.spent_at.is_(None), Enrollment.revoked_at.is_(None),
               Enrollment.expires_at > now)
        .values(spent_at=now)
        .returning(Enrollment.id, Enrollment.user_id)
    ).one_or_none()  # fmt: skip
    if spent is None:
        raise CodeRefused(*_why_refused(session, code_hash, now))
    user = session.get(User, spent.user_id)
    assert user is not None
    if not user.active:
        raise Forbidden("this account is disabled: ask your KPU or PPK to enable it", code="account_disabled")
    change_password(session, None, user, password)
    trail.record(session, actor_of(user), "user.enroll", user.username, jurisdiction=user.jurisdiction)
    return Redeemed(spent.id, actor_of(user), user.username)


def attach_device(session: Session, enrollment_id: uuid.UUID, device_id: str) -> None:
    """Remember which phone a spent code enrolled."""
    session.execute(update(Enrollment).where(Enrollment.id == enrollment_id).values(device_id=device_id))


def _why_refused(session: Session, code_hash: str, now: datetime) -> tuple[str, str]:
    """Why a code enrolls nothing: (detail, code)."""
    found = session.scalar(select(Enrollment).where(Enrollment.code_hash == code_hash))
    if found is None:
        return "this enrollment code is not known: check it against the sheet, or ask for a new one", "code_unknown"
    if found.spent_at is not None:
        return (
            "this enrollment code was already used: a code enrolls one phone once; ask your PPK or KPU for a new one",
            "code_spent",
        )
    if found.revoked_at is not None:
        return "this enrollment code was revoked (a newer one was issued): use the newest sheet", "code_revoked"
    return "this enrollment code has expired: ask your PPK or KPU for a new one", "code_expired"
