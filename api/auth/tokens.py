"""Access tokens: short-lived JWTs signed with EdDSA, checked on every request."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from ledger.jws import public_jwk, thumbprint
from models.accounts.actor import Actor, Role
from models.core.base import utcnow
from models.accounts.standing import Standings
from models.core.settings import Settings
from models.log.keys import KeyStore
from starlette.concurrency import run_in_threadpool

AUDIENCE = "jejak"


class BadToken(Exception):
    pass


def issue(keys: KeyStore, settings: Settings, actor: Actor) -> tuple[str, int]:
    """(token, seconds it lives)."""
    key = keys.token_key()
    lifetime = timedelta(minutes=settings.token_minutes)
    now = utcnow()
    claims = {
        "iss": settings.host,
        "aud": AUDIENCE,
        "sub": str(actor.id),
        "role": actor.role.value,
        "jur": actor.jurisdiction,
        "scope": " ".join(sorted(actor.scopes)),
        "ver": actor.token_version,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": thumbprint(key.public_key())})
    return token, int(lifetime.total_seconds())


class _Verified:
    """Tokens already verified, until they expire: a phone syncing reuses its token for
    every request, and checking its signature again each time would double the
    Ed25519 work per scan."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._tokens: dict[str, tuple[Actor, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Actor | None:
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] <= time.time():
            return None
        return found[0]

    def put(self, token: str, actor: Actor, expires: float) -> None:
        with self._lock:
            if len(self._tokens) >= self.capacity:
                now = time.time()
                self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
                if len(self._tokens) >= self.capacity:
                    self._tokens.clear()
            self._tokens[token] = (actor, expires)


_verified = _Verified()


def _public_keys(keys: KeyStore, settings: Settings) -> list[Ed25519PublicKey]:
    """The key that signs tokens now, then those retired less than a token's lifetime ago."""
    lifetime = timedelta(minutes=settings.token_minutes)
    return [keys.token_key().public_key(), *keys.retired_token_keys(lifetime)]


def verify(keys: KeyStore, settings: Settings, token: str) -> Actor:
    if (actor := _verified.get(token)) is not None:
        return actor
    try:
        header = jwt.get_unverified_header(token)
        known = {thumbprint(key): key for key in _public_keys(keys, settings)}
        kid = header.get("kid")
        if (key := known.get(kid) if isinstance(kid, str) else None) is None:
            raise BadToken("the token was signed by a key this service does not use")
        # Only EdDSA: a token claiming "none" or HS256 is refused before its signature.
        claims = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            audience=AUDIENCE,
            issuer=settings.host,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
        actor = Actor(
            id=uuid.UUID(claims["sub"]),
            role=Role(claims["role"]),
            jurisdiction=str(claims.get("jur", "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            # Tokens issued before accounts had versions carry none: the first version.
            token_version=int(claims.get("ver", 0)),
        )
        _verified.put(token, actor, float(claims["exp"]))
        return actor
    except jwt.ExpiredSignatureError as error:
        raise BadToken("the access token has expired: sign in again") from error
    except (jwt.InvalidTokenError, ValueError, KeyError) as error:
        raise BadToken(f"the access token is not valid: {error}") from error


async def admit(keys: KeyStore, settings: Settings, standings: Standings, token: str) -> Actor:
    """The actor a valid token names, if their account still stands as when it was
    issued: not deleted, not disabled, its password not changed since. The account is
    read at most once a second per process (models/accounts/standing.py), in a worker thread."""
    actor = verify(keys, settings, token)
    standing = standings.cached(actor.id, actor.token_version) or await run_in_threadpool(standings.read, actor.id)
    if (refusal := standing.refusal(actor.token_version)) is not None:
        raise BadToken(refusal)
    return actor


def jwks(keys: KeyStore, settings: Settings) -> dict[str, list[dict[str, str]]]:
    """The current key first; a rotated-out key stays until the tokens it signed expire."""
    return {
        "keys": [
            {**public_jwk(public), "kid": thumbprint(public), "use": "sig", "alg": "EdDSA"}
            for public in _public_keys(keys, settings)
        ]
    }
