"""Accounts: lifting a lock that wrong passwords put on one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from models import users
from models.users import Role

from api.deps import CurrentActor, RuntimeDep, authorize
from api.users.schemas import AccountOut

router = APIRouter(prefix="/api/v1/users", tags=["users"])

# A KPU unlocks its own officers on election day; an admin anyone.
UNLOCKERS = {Role.ADMIN, Role.KPU}
UsernamePath = Annotated[str, Path(pattern="^" + users.USERNAME.pattern + "$")]


@router.post("/{username}/unlock")
def unlock(username: UsernamePath, actor: CurrentActor, runtime: RuntimeDep) -> AccountOut:
    """Let a locked account sign in again now (its wrong passwords are forgotten);
    recorded in the audit trail."""
    authorize(actor, UNLOCKERS)
    with runtime.db.session(write=True) as session:
        user = users.get_user(session, username)
        authorize(actor, UNLOCKERS, at=user.jurisdiction)
        users.unlock(session, actor, user)
        return AccountOut.model_validate(user)
