"""Accounts: lifting a lock that wrong passwords put on one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from models import users
from models.accounts import policy

from api.deps import Permit, RuntimeDep
from api.users.schemas import AccountOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Unlocker = Permit("users.unlock")
UsernamePath = Annotated[str, Path(pattern="^" + users.USERNAME.pattern + "$")]


@router.post("/{username}/unlock")
def unlock(username: UsernamePath, actor: Unlocker, runtime: RuntimeDep) -> AccountOut:
    """Let a locked account sign in again now (its wrong passwords are forgotten);
    recorded in the audit trail."""
    with runtime.db.session(write=True) as session:
        user = users.get_user(session, username)
        policy.permit(actor, "users.unlock", at=user.jurisdiction)
        users.unlock(session, actor, user)
        return AccountOut.model_validate(user)
