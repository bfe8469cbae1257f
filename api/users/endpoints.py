"""Accounts: lifting a lock that wrong passwords put on one, disabling and enabling one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from models.accounts import users
from models.accounts import policy
from models.core.errors import Forbidden

from api.deps import DbDep, Permit, StandingsDep
from api.users.schemas import AccountOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])

# A KPU unlocks, disables and enables its own officers on election day; an admin anyone.
Unlocker = Permit("users.unlock")
Disabler = Permit("users.disable")
Enabler = Permit("users.enable")
UsernamePath = Annotated[str, Path(pattern="^" + users.USERNAME.pattern + "$")]


@router.post("/{username}/unlock")
def unlock(username: UsernamePath, actor: Unlocker, db: DbDep) -> AccountOut:
    """Let a locked account sign in again now (its wrong passwords are forgotten);
    recorded in the audit trail."""
    with db.session(write=True) as session:
        user = users.get_user(session, username)
        policy.permit(actor, "users.unlock", at=user.jurisdiction)
        users.unlock(session, actor, user)
        return AccountOut.model_validate(user)


@router.post("/{username}/disable")
def disable(username: UsernamePath, actor: Disabler, db: DbDep, standings: StandingsDep) -> AccountOut:
    """Stop an account: it cannot sign in, and every token it holds is refused (401) from
    its next request, in every process of the service within a second. Not your own.
    Recorded in the audit trail."""
    with db.session(write=True) as session:
        user = users.get_user(session, username)
        policy.permit(actor, "users.disable", at=user.jurisdiction)
        if user.id == actor.id:
            raise Forbidden("you may not disable your own account: ask another administrator", code="own_account")
        users.disable(session, actor, user)
        account = AccountOut.model_validate(user)
    standings.forget(account.id)  # this process sees it at once, the others within FRESH_FOR
    return account


@router.post("/{username}/enable")
def enable(username: UsernamePath, actor: Enabler, db: DbDep) -> AccountOut:
    """Let a disabled account sign in again; the tokens it held stay refused. Recorded
    in the audit trail."""
    with db.session(write=True) as session:
        user = users.get_user(session, username)
        policy.permit(actor, "users.enable", at=user.jurisdiction)
        users.enable(session, actor, user)
        return AccountOut.model_validate(user)
