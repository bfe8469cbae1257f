"""Signing in (OAuth 2.0 password and client_credentials grants, RFC 6749) and the public
keys that check access tokens."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from models.accounts import clients, users
from models.accounts.actor import Actor
from models.core.db import Database
from models.core.settings import Settings
from starlette.concurrency import run_in_threadpool

from api.auth import tokens
from api.auth.schemas import OAuthError, Token, TokenRequest
from api.deps import DbDep, KeysDep, SettingsDep, failures_of
from api.versioning import deprecated

router = APIRouter(tags=["auth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class Refused(Exception):
    """The token endpoint's refusal, answered as RFC 6749 §5.2 says."""

    def __init__(self, error: str, description: str, status: int = 400, challenge: str | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.challenge = error, description, status, challenge

    def response(self) -> JSONResponse:
        headers = dict(_NO_STORE)
        if self.challenge:
            headers["WWW-Authenticate"] = self.challenge
        body = OAuthError(error=self.error, error_description=self.description)  # type: ignore[arg-type]
        return JSONResponse(body.model_dump(), status_code=self.status, headers=headers)


def _basic(request: Request) -> tuple[str, str] | None:
    """Client credentials sent with HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise Refused("invalid_client", "the Basic credentials are not base64 of client_id:client_secret", 401, "Basic")
    return unquote_plus(client_id), unquote_plus(secret)


async def _password(form: TokenRequest, db: Database, settings: Settings) -> Actor:
    if not form.username or form.password is None:
        raise Refused("invalid_request", "the password grant needs username and password")
    lockout = users.Lockout(settings.sign_in_max_failures, timedelta(minutes=settings.sign_in_lock_minutes))
    actor = await run_in_threadpool(users.sign_in, db, form.username, form.password, lockout)
    if actor is None:
        raise Refused("invalid_grant", "wrong username or password")
    return actor


def _client_credentials(request: Request, form: TokenRequest, db: Database) -> Actor:
    basic = _basic(request)
    if basic is not None and (form.client_id or form.client_secret):
        raise Refused("invalid_request", "send the client credentials once: in the Basic header or in the form")
    client_id, secret = basic or (form.client_id, form.client_secret)
    if not client_id or not secret:
        raise Refused("invalid_client", "client_credentials needs client_id and client_secret", 401)
    actor = clients.authenticate(db, client_id, secret)
    if actor is None:
        raise Refused("invalid_client", "unknown client or wrong client secret", 401, "Basic" if basic else None)
    return actor


@router.post(
    "/api/v1/auth/token",
    response_model=Token,
    responses={
        200: {"headers": {"Cache-Control": {"description": "no-store", "schema": {"type": "string"}}}},
        400: {
            "model": OAuthError,
            "description": "RFC 6749 §5.2: invalid_request, invalid_grant (wrong username or password), "
            "unsupported_grant_type, invalid_scope (a scope the account does not have)",
        },
        401: {"model": OAuthError, "description": "invalid_client: unknown client or wrong client secret"},
        423: {"description": "The account is locked after too many wrong passwords: until Retry-After"},
        429: {"description": "Too many failed sign-ins from this address: wait Retry-After seconds"},
    },
)
async def sign_in(
    request: Request, form: Annotated[TokenRequest, Form()], db: DbDep, keys: KeysDep, settings: SettingsDep
) -> Any:
    """An access token (RFC 6749): for a person, by the `password` grant; for a service
    account, by `client_credentials` (its client secret in the form or HTTP Basic). Failed
    attempts are limited per client address (429); wrong passwords in a row lock the
    account (423). Errors other than those are RFC 6749 §5.2 bodies, not problem+json."""
    failures, address = failures_of(
        request, "sign_in_failures", settings.sign_in_failures_per_minute,
        "too many failed sign-ins from your address; try again shortly",
    )
    grant = form.grant_type or ("password" if form.username is not None else None)
    try:
        if grant == "password":
            try:
                actor = await _password(form, db, settings)
            except users.AccountLocked:
                failures.take(address)
                raise
        elif grant == "client_credentials":
            actor = await run_in_threadpool(_client_credentials, request, form, db)
        elif grant is None:
            raise Refused("invalid_request", "grant_type is missing: password or client_credentials")
        else:
            raise Refused("unsupported_grant_type", f"grant_type {grant} is not offered: password or client_credentials")
        if form.scope is not None and (asked := frozenset(form.scope.split())):
            if unknown := asked - actor.scopes:
                offered = " ".join(sorted(actor.scopes)) or "none"
                raise Refused("invalid_scope", f"this account may not have {' '.join(sorted(unknown))}; its scopes: {offered}")
            actor = replace(actor, scopes=asked)  # a narrower token than the account allows
    except Refused as refusal:
        if refusal.error in ("invalid_grant", "invalid_client"):
            failures.take(address)
        return refusal.response()
    token, lifetime = tokens.issue(keys, settings, actor)
    answer = Token(
        access_token=token,
        token_type="bearer",
        expires_in=lifetime,
        role=actor.role.value,
        jurisdiction=actor.jurisdiction,
        scope=" ".join(sorted(actor.scopes)),
    )
    response = JSONResponse(answer.model_dump(), headers=_NO_STORE)
    if form.grant_type is None:
        deprecated(response)  # RFC 6749 requires grant_type; early clients left it out
    return response


@router.get("/.well-known/jwks.json")
def jwks(keys: KeysDep, settings: SettingsDep) -> dict[str, list[dict[str, str]]]:
    """The public keys (EdDSA, Ed25519) that verify access tokens."""
    return tokens.jwks(keys, settings)
