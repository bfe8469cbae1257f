"""Enrolling a phone with a one-time code: public (the code is the credential), limited
per client address like signing in."""

from __future__ import annotations

from fastapi import APIRouter, Request
from models.accounts.enrollment import CodeRefused
from models.custody.enrollment import enroll_phone

from api.auth import tokens
from api.deps import DatabasesDep, DbDep, KeysDep, SequencerDep, SettingsDep, failures_of
from api.users.schemas import EnrollIn, EnrolledOut

router = APIRouter(tags=["users"])


@router.post(
    "/api/v1/enroll",
    status_code=201,
    responses={
        410: {"description": "The code is unknown, already used, revoked or expired (the detail says which)"},
        429: {"description": "Too many wrong codes from this address: wait Retry-After seconds"},
    },
)
def enroll(
    body: EnrollIn,
    request: Request,
    db: DbDep,
    databases: DatabasesDep,
    sequencer: SequencerDep,
    keys: KeysDep,
    settings: SettingsDep,
) -> EnrolledOut:
    """Enroll this phone with the officer's one-time code (from the printed QR): the
    officer's password is set, the phone's key is registered in the log as theirs, their
    earlier phones are revoked or kept as the KPU chose (JEJAK_ENROLL_SECOND_PHONE), and
    the code is spent. Answers a signed-in token."""
    failures, address = failures_of(
        request, "enroll_failures", settings.sign_in_failures_per_minute,
        "too many wrong enrollment codes from your address; try again shortly",
    )
    try:
        done = enroll_phone(
            db, databases, sequencer, code=body.code, password=body.password, public_key=body.public_key,
            name=body.name or "HP petugas", replace_phones=settings.enroll_second_phone == "revoke",
        )
    except CodeRefused:
        failures.take(address)
        raise
    token, lifetime = tokens.issue(keys, settings, done.actor)
    return EnrolledOut(
        username=done.username, role=done.actor.role, jurisdiction=done.actor.jurisdiction, access_token=token,
        expires_in=lifetime, device=done.device.id if done.device else None,
        log_id=done.device.log_id if done.device else None, nrp=done.device.nrp if done.device else None,
        revoked_devices=[d.id for d in done.revoked],
    )
