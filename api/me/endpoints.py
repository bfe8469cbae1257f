"""One's own account: changing one's password, and everything the service keeps about
oneself (the personal data, the phones, the audit records that name the account)."""

from __future__ import annotations

from fastapi import APIRouter
from models.accounts import administration, users
from models.core.errors import Forbidden
from models.custody.enrollment import phones_of

from api.deps import DatabasesDep, DbDep, Permit, StandingsDep
from api.users.schemas import OwnData, PasswordIn, PhoneOut

router = APIRouter(prefix="/api/v1/me", tags=["users"])

PasswordChanger = Permit("me.password")
DataExporter = Permit("me.export")


@router.post("/password", status_code=204, responses={403: {"description": "The current password is wrong"}})
def change_password(body: PasswordIn, actor: PasswordChanger, db: DbDep, standings: StandingsDep) -> None:
    """Change your own password: every token you hold ends (sign in again). Recorded
    in the audit trail (without the password)."""
    with db.session(write=True) as session:
        user = session.get(users.User, actor.id)
        if user is None or not users.check_password(user, body.current):
            raise Forbidden("the current password is wrong", code="wrong_password")
        users.change_password(session, actor, user, body.new)
    standings.forget(actor.id)


@router.get("")
def export_own_data(actor: DataExporter, db: DbDep, databases: DatabasesDep) -> OwnData:
    """Everything the service keeps about you: your account with its personal data, your
    phones (with their last scan) and the audit records about your account."""
    with db.reads() as session:
        data = administration.own_data(session, actor)
        user = session.get(users.User, actor.id)
        phones = phones_of(databases, [user]) if user is not None else {}
    data["phones"] = [PhoneOut.of(phone) for phone in phones.get(actor.id, [])]
    return OwnData.model_validate(data)
