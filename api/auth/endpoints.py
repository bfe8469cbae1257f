"""Signing in (OAuth2 password flow) and the public keys that check access tokens."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm
from models.users import Actor, authenticate

from api.auth import tokens
from api.auth.schemas import Token
from api.deps import RuntimeDep

router = APIRouter(tags=["auth"])


@router.post(
    "/api/v1/auth/token",
    responses={401: {"description": "Wrong username or password"}},
)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], runtime: RuntimeDep
) -> Token:
    """Exchange a username and password for a short-lived bearer token."""
    with runtime.db.reads() as session:
        user = authenticate(session, form.username, form.password)
        actor = Actor.of(user) if user is not None else None
    if actor is None:
        raise HTTPException(
            401, "wrong username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    if form.scopes:  # an integrator may ask for a narrower token than its account allows
        actor = replace(actor, scopes=actor.scopes & set(form.scopes))
    token, lifetime = tokens.issue(runtime, actor)
    return Token(
        access_token=token,
        token_type="bearer",
        expires_in=lifetime,
        role=actor.role.value,
        jurisdiction=actor.jurisdiction,
        scope=" ".join(sorted(actor.scopes)),
    )


@router.get("/.well-known/jwks.json")
def jwks(runtime: RuntimeDep) -> dict[str, list[dict[str, str]]]:
    """The public keys (EdDSA, Ed25519) that verify access tokens."""
    return tokens.jwks(runtime)
