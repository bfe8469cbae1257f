from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int
    role: str
    jurisdiction: str
    scope: str
