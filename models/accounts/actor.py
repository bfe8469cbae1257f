"""Who acts: a role, a jurisdiction and, for integrators, scopes. What every wing needs
to know of an account, without the account's table (models/accounts/users.py)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    ADMIN = "admin"
    KPU = "kpu"
    PPK = "ppk"
    PPS = "pps"
    KPPS = "kpps"
    ESCORT = "escort"  # police: Polres, Polsek, Bhabinkamtibmas
    AUDITOR = "auditor"  # Bawaslu, Panwascam, Polres command
    INTEGRATOR = "integrator"  # service accounts


# What an integrator's token may be granted; people's rights come from their role.
SCOPES = frozenset(
    {"logs:read", "sites:read", "items:read", "events:read", "alerts:read", "webhooks:manage"}
)


@dataclass(frozen=True)
class Actor:
    """Who acts, as entries name them: an opaque id and a role, never a name."""

    id: uuid.UUID
    role: Role
    jurisdiction: str
    scopes: frozenset[str] = frozenset()
    # The account's token version when this actor was read or signed in: not who acts,
    # so not part of an actor's identity.
    token_version: int = field(default=0, compare=False)

    def fields(self) -> dict[str, str]:
        return {"actor": str(self.id), "role": self.role.value}
