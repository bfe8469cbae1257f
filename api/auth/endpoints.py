"""Signing in (OAuth2 password flow) and the public keys that check access tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from models.accounts import users
from models.core.errors import Unauthenticated

from api.auth import tokens
from api.auth.schemas import Token
from api.deps import DbDep, KeysDep, SettingsDep, failures_of

router = APIRouter(tags=["auth"])


@router.post(
    "/api/v1/auth/token",
    responses={
        401: {"description": "Wrong username or password"},
        423: {"description": "The account is locked after too many wrong passwords: until Retry-After"},
        429: {"description": "Too many failed sign-ins from this address: wait Retry-After seconds"},
    },
)
def sign_in(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DbDep,
    keys: KeysDep,
    settings: SettingsDep,
) -> Token:
    """Exchange a username and password for a short-lived bearer token. Wrong passwords
    are limited per client address (429) and lock the account after a few in a row (423)."""
    failures, address = failures_of(
        request, "sign_in_failures", settings.sign_in_failures_per_minute,
        "too many failed sign-ins from your address; try again shortly",
    )
    lockout = users.Lockout(settings.sign_in_max_failures, timedelta(minutes=settings.sign_in_lock_minutes))
    try:
        actor = users.sign_in(db, form.username, form.password, lockout)
    except users.AccountLocked:
        failures.take(address)
        raise
    if actor is None:
        failures.take(address)
        raise Unauthenticated("wrong username or password", code="invalid_credentials")
    if form.scopes:  # an integrator may ask for a narrower token than its account allows
        actor = replace(actor, scopes=actor.scopes & set(form.scopes))
    token, lifetime = tokens.issue(keys, settings, actor)
    return Token(
        access_token=token,
        token_type="bearer",
        expires_in=lifetime,
        role=actor.role.value,
        jurisdiction=actor.jurisdiction,
        scope=" ".join(sorted(actor.scopes)),
    )


@router.get("/.well-known/jwks.json")
def jwks(keys: KeysDep, settings: SettingsDep) -> dict[str, list[dict[str, str]]]:
    """The public keys (EdDSA, Ed25519) that verify access tokens."""
    return tokens.jwks(keys, settings)
