"""Accounts, administered by their area: importing officers, listing them with their
phones, lifting a lock, disabling, enabling, resetting, printing enrollment sheets,
ending an election period. Each through policy.permit_account: a KPU manages its
regency, a PPK its district, only roles below its own."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from models.accounts import administration, enrollment, onboarding, users
from models.accounts.actor import Actor, Role
from models.core.base import utcnow
from models.core.db import Database
from models.core.errors import InvalidRequest
from models.core.settings import Settings
from models.custody.enrollment import phones_of
from models.places.sites import get_site, site_names
from starlette.concurrency import run_in_threadpool

from api import paging
from api.deps import DatabasesDep, DbDep, Permit, SettingsDep, StandingsDep
from api.users.schemas import (
    AccountOut, AccountsPage, CodeOut, ImportOut, ManagedAccount, PeriodOut, PhoneOut, RevokedCodes,
)  # fmt: skip
from api.users.sheet import cards, enrollment_sheet_pdf

router = APIRouter(prefix="/api/v1/users", tags=["users"])

Importer = Permit("users.import")
Lister = Permit("users.list")
Unlocker = Permit("users.unlock")
Disabler = Permit("users.disable")
Enabler = Permit("users.enable")
Resetter = Permit("users.reset")
SheetPrinter = Permit("users.enrollment_sheet")
PeriodEnder = Permit("users.end_period")
UsernamePath = Annotated[str, Path(pattern="^" + users.USERNAME.pattern + "$")]
SiteQuery = Annotated[str, Query(max_length=32, examples=["53.03.08"])]
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}, "example": (
            "name,role,jurisdiction,nik,nrp,phone\n"
            "Maria Lake,pps,53.03.08.2001,5303084101900001,,081234567890\n"
            "Yohanes Bria,escort,53.03.08,,87050123,+6281298765432\n"
        )}},
    }
}  # fmt: skip


def _lifetime(settings: Settings) -> timedelta:
    return timedelta(days=settings.enrollment_code_days)


@router.post(
    "/import",
    openapi_extra=_CSV_BODY,
    responses={
        403: {"description": "A row is outside what you manage (every row's error listed, nothing created)"},
        422: {"description": "The file has errors: `errors` lists each (row, field, message); nothing was created"},
    },
)
async def import_officers(
    request: Request,
    actor: Importer,
    db: DbDep,
    settings: SettingsDep,
    period: Annotated[str | None, Query(max_length=32, description="The election period: pemilu-2029")] = None,
    dry_run: Annotated[bool, Query(description="Judge the file and show what it would create")] = False,
) -> ImportOut:
    """Import a CSV of officers (UTF-8; columns name, role, jurisdiction, nik, nrp,
    phone). The file is judged whole: any error and nothing is created. Each new account
    gets a one-time enrollment code (answered once: print the sheet, or hand it over) and
    no password; rows matching an existing account (by NIK, an escort's NRP) are left
    unchanged, so importing a file again creates nothing. Only roles below yours, within
    your jurisdiction. Recorded in the audit trail (without names, NIKs or phones)."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequest("the file must be UTF-8 text (save the spreadsheet as CSV UTF-8)") from error
    return await run_in_threadpool(_import, db, actor, text, period, dry_run, _lifetime(settings))


def _import(db: Database, actor: Actor, text: str, period: str | None, dry_run: bool, lifetime: timedelta) -> ImportOut:
    with db.session(write=not dry_run) as session:
        done = onboarding.import_officers(session, actor, text, period=period, code_lifetime=lifetime, dry_run=dry_run)
    return ImportOut.model_validate({"dry_run": dry_run, "created": done.created, "unchanged": done.unchanged})


@router.get("")
def list_accounts(
    pager: paging.PagerDep,
    actor: Lister,
    db: DbDep,
    databases: DatabasesDep,
    search: Annotated[str | None, Query(max_length=100, description="Part of a username, name, NIK or phone")] = None,
    role: Annotated[Role | None, Query(description="Only accounts of this role")] = None,
    within: Annotated[str | None, Query(max_length=32, description="Only accounts at this site or below it")] = None,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> AccountsPage:
    """The accounts you manage (within your jurisdiction, roles below yours), with the
    officers' personal data, whether each has enrolled, and their phones with each one's
    last scan."""
    with db.reads() as session:
        after = paging.decode(cursor, str)
        found = administration.list_accounts(
            session, actor, search=search, role=role, site=within, limit=limit + 1, after=after[0] if after else None
        )
        rows, next_page = pager.page(found, limit, lambda user: [user.username])
        phones = phones_of(databases, rows)
        places = site_names(session, {user.jurisdiction for user in rows if user.jurisdiction})
        accounts = [
            ManagedAccount.model_validate({
                **AccountOut.model_validate(user).model_dump(), "place": places.get(user.jurisdiction, ""),
                "full_name": user.full_name, "nik": user.nik,
                "phone": user.phone, "period": user.period,
                "enrolled": user.password_hash != enrollment.NO_PASSWORD,
                "phones": [PhoneOut.of(phone) for phone in phones.get(user.id, [])],
            })
            for user in rows
        ]  # fmt: skip
    return AccountsPage(accounts=accounts, next=next_page)


@router.post("/enrollment-sheet", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def enrollment_sheet(site: SiteQuery, actor: SheetPrinter, db: DbDep, settings: SettingsDep) -> Response:
    """The enrollment sheet of a district or village (PDF, a card per officer with the QR
    of their enrollment link): new codes for every account there that has not enrolled
    yet, so the sheet printed last is the only valid one. Recorded in the audit trail."""
    with db.session(write=True) as session:
        place = get_site(session, site).name
        sheet = administration.enrollment_sheet(session, actor, site, _lifetime(settings))
        names = site_names(session, {user.jurisdiction for user, _ in sheet.rows})
        expires = utcnow() + _lifetime(settings)
        printed = cards(sheet.rows, names, settings.public_url, expires)
    pdf = enrollment_sheet_pdf(site, place, printed, utcnow())
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="pendaftaran-{site}.pdf"', "Cache-Control": "no-store",
    })  # fmt: skip


@router.post("/periods/{period}/disable")
def end_period(
    period: Annotated[
        str, Path(pattern="^" + onboarding.PERIOD.pattern + "$", description="The election period, e.g. pemilu-2029")
    ],
    actor: PeriodEnder,
    db: DbDep,
    standings: StandingsDep,
    dry_run: Annotated[bool, Query(description="Only list the accounts that would be disabled")] = True,
) -> PeriodOut:
    """End an election period: disable every active account imported for it (within your
    jurisdiction, roles below yours) in one action; their tokens end, their codes are
    revoked, their log entries stay theirs. A dry run (the default) lists them."""
    with db.session(write=not dry_run) as session:
        found = administration.end_period(session, actor, period, dry_run=dry_run)
        ids, names = [user.id for user in found], [user.username for user in found]
    for user_id in ids:
        standings.forget(user_id)
    return PeriodOut(period=period, dry_run=dry_run, accounts=names)


@router.post("/{username}/unlock")
def unlock(username: UsernamePath, actor: Unlocker, db: DbDep) -> AccountOut:
    """Let a locked account sign in again now (its wrong passwords are forgotten);
    recorded in the audit trail."""
    with db.session(write=True) as session:
        user = administration.managed_user(session, actor, "users.unlock", username)
        users.unlock(session, actor, user)
        return AccountOut.model_validate(user)


@router.post("/{username}/disable")
def disable(username: UsernamePath, actor: Disabler, db: DbDep, standings: StandingsDep) -> AccountOut:
    """Stop an account: it cannot sign in, and every token it holds is refused (401) from
    its next request, in every process of the service within a second. Not your own.
    Recorded in the audit trail."""
    with db.session(write=True) as session:
        user = administration.managed_user(session, actor, "users.disable", username)
        users.disable(session, actor, user)
        account = AccountOut.model_validate(user)
    standings.forget(account.id)  # this process sees it at once, the others within FRESH_FOR
    return account


@router.post("/{username}/enable")
def enable(username: UsernamePath, actor: Enabler, db: DbDep) -> AccountOut:
    """Let a disabled account sign in again; the tokens it held stay refused. Recorded
    in the audit trail."""
    with db.session(write=True) as session:
        user = administration.managed_user(session, actor, "users.enable", username)
        users.enable(session, actor, user)
        return AccountOut.model_validate(user)


@router.post("/{username}/reset")
def reset(username: UsernamePath, actor: Resetter, db: DbDep, settings: SettingsDep, standings: StandingsDep) -> CodeOut:
    """Start an account afresh (a forgotten password, a lost phone): its password stops
    working, its tokens end, and a new one-time enrollment code (answered once) replaces
    any earlier one. Recorded in the audit trail."""
    with db.session(write=True) as session:
        user = administration.managed_user(session, actor, "users.reset", username)
        code = administration.reset(session, actor, user, _lifetime(settings))
        user_id = user.id
    standings.forget(user_id)
    return CodeOut(username=username, code=code, expires_at=utcnow() + _lifetime(settings))


@router.post("/{username}/enrollment/revoke")
def revoke_codes(username: UsernamePath, actor: Resetter, db: DbDep) -> RevokedCodes:
    """Revoke the account's unspent enrollment codes (a lost sheet). Recorded."""
    with db.session(write=True) as session:
        user = administration.managed_user(session, actor, "users.reset", username)
        return RevokedCodes(username=username, revoked=enrollment.revoke(session, actor, user))
