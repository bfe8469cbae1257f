"""Whether an account still stands as it did when its token was issued, checked on every
request.

An access token lives for minutes; disabling an account, changing its password or
deleting it must end the tokens it holds sooner than that. Each token carries the
account's token version (models/accounts/users.py), and every request compares it with what
the accounts table says now. Reading the table on every request would cost a query
per scan, so each process remembers what it read for at most FRESH_FOR seconds: a
change made anywhere (another worker, the command line) is seen by every process
within that time. Every change raises the version, enabling too, so a token issued
after the change is newer than what a process remembers and makes it read again."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from models.accounts.users import User
from models.core.db import Database

FRESH_FOR = 1.0  # seconds a process may act on what it last read of an account


@dataclass(frozen=True)
class Standing:
    """What the accounts table says of one account."""

    exists: bool
    active: bool
    token_version: int

    def refusal(self, token_version: int) -> str | None:
        """Why a token carrying `token_version` no longer admits its bearer, or None."""
        if not self.exists:
            return "the account of this token no longer exists"
        if not self.active:
            return "this account is disabled: ask an administrator or your KPU to enable it"
        if token_version != self.token_version:
            return "this token was issued before the account's password changed or it was disabled: sign in again"
        return None


GONE = Standing(exists=False, active=False, token_version=-1)
_STANDING = select(User.active, User.token_version)


class Standings:
    """This process's memory of accounts' standing, each at most `lifetime` seconds old."""

    def __init__(self, db: Database, lifetime: float = FRESH_FOR, capacity: int = 100_000) -> None:
        # One statement outside any transaction, and no ORM session: a miss costs one
        # round trip (measured: half a read session's time on SQLite, a third less on
        # PostgreSQL).
        self._engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.lifetime = lifetime
        self.capacity = capacity
        self._known: dict[uuid.UUID, tuple[Standing, float]] = {}
        self._lock = threading.Lock()

    def cached(self, user_id: uuid.UUID, token_version: int) -> Standing | None:
        """The account's standing if read less than `lifetime` ago, else None. None too if
        a token carries a newer version than the one remembered: it was issued after what
        this process read (a new password, an account enabled again), so that is old."""
        with self._lock:
            found = self._known.get(user_id)
        if found is None or found[1] <= time.monotonic() or found[0].token_version < token_version:
            return None
        return found[0]

    def read(self, user_id: uuid.UUID) -> Standing:
        """The account's standing from the database (one row by its key), remembered."""
        fresh_until = time.monotonic() + self.lifetime  # counted from before the read
        with self._engine.connect() as connection:
            row = connection.execute(_STANDING.where(User.id == user_id)).one_or_none()
        standing = GONE if row is None else Standing(exists=True, active=row.active, token_version=row.token_version)
        with self._lock:
            if len(self._known) >= self.capacity:
                now = time.monotonic()
                self._known = {k: v for k, v in self._known.items() if v[1] > now}
                if len(self._known) >= self.capacity:
                    self._known.clear()
            self._known[user_id] = (standing, fresh_until)
        return standing

    def forget(self, user_id: uuid.UUID) -> None:
        """Drop what this process knows of the account: it changed here, just now."""
        with self._lock:
            self._known.pop(user_id, None)
