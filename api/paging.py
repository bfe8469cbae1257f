"""Opaque cursors for list endpoints: the sort key of the last row a page showed."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import HTTPException, Query

Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="The `next` value of the previous page")
]


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode(cursor: str | None, length: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise HTTPException(400, "cursor is not one this service gave out") from error
    if not isinstance(key, list) or len(key) != length:
        raise HTTPException(400, "cursor is not one this service gave out")
    return key
