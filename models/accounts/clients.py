"""Service accounts' client credentials (OAuth 2.0 client_credentials, RFC 6749 §4.4):
an account's username is its client_id, and its client secret is shown once and kept
only as its SHA-256. A secret is 256 random bits, not a password a person picks, so a
fast hash resists guessing as well as a slow one, and checking it costs nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts import trail
from models.accounts.actor import Actor
from models.accounts.users import User, actor_of
from models.core.db import Database

PREFIX = "jcs_"  # tells a client secret from a password or a token in a leaked file


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(session: Session, by: Actor | None, user: User) -> str:
    """A new client secret for the account, replacing any earlier one; the tokens issued
    under the earlier one are refused from their next request on. Recorded in the audit
    trail (without the secret); the secret itself is returned, to show once."""
    secret = PREFIX + secrets.token_urlsafe(32)
    trail.record(session, by, "user.client_secret", user.username, jurisdiction=user.jurisdiction)
    user.client_secret_hash = _digest(secret)
    user.token_version += 1
    return secret


def authenticate(db: Database, client_id: str, secret: str) -> Actor | None:
    """The actor of the active account these client credentials name, or None."""
    digest = _digest(secret)
    with db.reads() as session:
        user = session.scalar(select(User).where(User.username == client_id))
        if user is None or not user.active or user.client_secret_hash is None:
            return None
        if not hmac.compare_digest(user.client_secret_hash, digest):
            return None
        return actor_of(user)
