"""Delegated administration: a KPU manages the accounts of its regency, a PPK those of
its district, only of roles below its own (policy.permit_account); each change is
recorded in the audit trail, by username, never with a name, NIK or phone number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.accounts import enrollment, policy, trail
from models.accounts.actor import Actor, Role
from models.accounts.users import User, get_user
from models.core.errors import Forbidden
from models.places.sites import under


def managed_user(session: Session, actor: Actor | None, action: str, username: str) -> User:
    """The account `username`, if `actor` may take `action` on it (None: the command line)."""
    user = get_user(session, username)
    if actor is not None and user.id == actor.id:
        raise Forbidden("you may not manage your own account: ask another administrator (your password: /api/v1/me)", code="own_account")
    if actor is not None:
        policy.permit_account(actor, action, user.role, user.jurisdiction)
    return user


def list_accounts(
    session: Session, actor: Actor, *, search: str | None, role: Role | None, site: str | None, limit: int,
    after: str | None = None,
) -> list[User]:
    """Accounts within the actor's jurisdiction (and `site`), of the roles it manages,
    by username (those after `after`); `search` matches a username, name, NIK or phone."""
    query = select(User).where(User.role.in_(sorted(policy.MANAGED[actor.role])))
    if actor.jurisdiction:
        query = query.where(under(User.jurisdiction, actor.jurisdiction))
    if site:
        policy.permit(actor, "users.list", at=site)
        query = query.where(under(User.jurisdiction, site))
    if role is not None:
        query = query.where(User.role == role)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(
            User.username.like(like), User.full_name.ilike(like), User.nik.like(like), User.phone.like(like),
        ))  # fmt: skip
    if after is not None:
        query = query.where(User.username > after)
    return list(session.scalars(query.order_by(User.username).limit(limit)))


def reset(session: Session, by: Actor | None, user: User, lifetime: timedelta) -> str:
    """Start the account afresh: its password no longer signs in, its tokens end, and a
    new enrollment code (returned) replaces any earlier one. Its phones stay until the
    new one enrolls (then as the deployment's second-phone setting says)."""
    trail.record(session, by, "user.reset", user.username, jurisdiction=user.jurisdiction)
    user.password_hash = enrollment.NO_PASSWORD
    user.token_version += 1
    return enrollment.issue_many(session, by, [user], lifetime)[user.id]


@dataclass(frozen=True)
class Sheet:
    """The codes of one site's accounts awaiting enrollment, newly issued for printing."""

    site: str
    rows: list[tuple[User, str]]


def enrollment_sheet(session: Session, by: Actor | None, site: str, lifetime: timedelta) -> Sheet:
    """New codes for every active account under `site` that has not enrolled yet (and
    that `by` manages): the printed sheet is then the only valid one. Recorded."""
    if by is not None:
        policy.permit(by, "users.enrollment_sheet", at=site)
    query = select(User).where(
        under(User.jurisdiction, site), User.active, User.password_hash == enrollment.NO_PASSWORD
    )
    if by is not None:
        query = query.where(User.role.in_(sorted(policy.MANAGED[by.role])))
    users = list(session.scalars(query.order_by(User.jurisdiction, User.username)))
    codes = enrollment.issue_many(session, by, users, lifetime)
    trail.record(session, by, "user.enrollment_sheet", site, {"codes": len(users)}, jurisdiction=site)
    return Sheet(site, [(user, codes[user.id]) for user in users])


def end_period(session: Session, by: Actor | None, period: str, *, dry_run: bool) -> list[User]:
    """Disable every active account of the election period within `by`'s jurisdiction
    and roles (all of them from the command line); `dry_run` only lists them. Their
    tokens end; their log entries stay theirs (entries name the account's id)."""
    query = select(User).where(User.period == period, User.active)
    if by is not None:
        policy.permit(by, "users.end_period")
        query = query.where(User.role.in_(sorted(policy.MANAGED[by.role])))
        if by.jurisdiction:
            query = query.where(under(User.jurisdiction, by.jurisdiction))
    users = list(session.scalars(query.order_by(User.username)))
    if not dry_run:
        for user in users:
            user.active = False
            user.token_version += 1
        enrollment.revoke_codes(session, [user.id for user in users])
        trail.record(
            session, by, "user.end_period", period, {"disabled": len(users)},
            jurisdiction=by.jurisdiction if by else "",
        )
    return users


def own_data(session: Session, actor: Actor) -> dict[str, Any]:
    """Everything the service keeps about the actor's account (devices aside: custody's)."""
    user = session.get(User, actor.id)
    if user is None:
        raise Forbidden("the account of this token no longer exists", code="account_gone")
    records = trail.list_records(session, jurisdiction="", action=None, target=user.username, before=None, limit=1000)
    return {
        "account": {
            "id": str(user.id), "username": user.username, "role": user.role.value, "jurisdiction": user.jurisdiction,
            "full_name": user.full_name, "nik": user.nik, "nrp": user.nrp, "phone": user.phone,
            "period": user.period, "active": user.active, "created_at": user.created_at,
        },
        "audit": [
            {"at": r.at, "action": r.action, "actor_role": r.actor_role} for r in records
        ],
    }  # fmt: skip
