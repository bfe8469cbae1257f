"""Access tokens: short-lived JWTs signed with EdDSA, checked on every request."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger.jws import public_jwk, thumbprint
from models.base import utcnow
from models.runtime import Runtime
from models.users import Actor, Role

AUDIENCE = "jejak"


class BadToken(Exception):
    pass


def issue(runtime: Runtime, actor: Actor) -> tuple[str, int]:
    """(token, seconds it lives)."""
    key = runtime.keys.token_key()
    lifetime = timedelta(minutes=runtime.settings.token_minutes)
    now = utcnow()
    claims = {
        "iss": runtime.settings.host,
        "aud": AUDIENCE,
        "sub": str(actor.id),
        "role": actor.role.value,
        "jur": actor.jurisdiction,
        "scope": " ".join(sorted(actor.scopes)),
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": thumbprint(key.public_key())})
    return token, int(lifetime.total_seconds())


def verify(runtime: Runtime, token: str) -> Actor:
    key: Ed25519PrivateKey = runtime.keys.token_key()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("kid") != thumbprint(key.public_key()):
            raise BadToken("the token was signed by a key this service does not use")
        # Only EdDSA: a token claiming "none" or HS256 is refused before its signature.
        claims = jwt.decode(
            token,
            key.public_key(),
            algorithms=["EdDSA"],
            audience=AUDIENCE,
            issuer=runtime.settings.host,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        return Actor(
            id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            jurisdiction=str(claims.get("jur", "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
        )
    except jwt.ExpiredSignatureError as error:
        raise BadToken("the access token has expired: sign in again") from error
    except (jwt.InvalidTokenError, ValueError, KeyError) as error:
        raise BadToken(f"the access token is not valid: {error}") from error


def jwks(runtime: Runtime) -> dict[str, list[dict[str, str]]]:
    public = runtime.keys.token_key().public_key()
    return {"keys": [{**public_jwk(public), "kid": thumbprint(public), "use": "sig", "alg": "EdDSA"}]}
