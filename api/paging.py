"""Opaque cursors for list endpoints: the sort key of the last row a page showed."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from models.core.errors import InvalidRequest

T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page")]
Cursor = Annotated[
    str | None, Query(max_length=512, description="The `next` value of the previous page")
]


def encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode()


def decode(cursor: str | None, *types: type) -> list[Any] | None:
    """The key a cursor carries, checked against the types its list endpoint writes."""
    if cursor is None:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise InvalidRequest("cursor is not one this service gave out", code="invalid_cursor") from error
    if (
        not isinstance(key, list)
        or len(key) != len(types)
        or not all(type(v) is t for v, t in zip(key, types, strict=True))
        # A database integer has 64 bits: a larger one would fail in the query, not here.
        or any(type(v) is int and not -(2**63) <= v < 2**63 for v in key)
    ):
        raise InvalidRequest("cursor is not one this service gave out", code="invalid_cursor")
    return key


def decode_time_and_id(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The key of a list sorted by time then id (alerts, the audit trail)."""
    key = decode(cursor, str, str)
    if key is None:
        return None
    try:
        at, row = datetime.fromisoformat(key[0]), uuid.UUID(key[1])
    except ValueError as error:
        raise InvalidRequest("cursor is not one this service gave out", code="invalid_cursor") from error
    if at.tzinfo is None:
        raise InvalidRequest("cursor is not one this service gave out", code="invalid_cursor")
    return at, row


def page(rows: list[T], limit: int, key: Callable[[T], list[Any]]) -> tuple[list[T], str | None]:
    """Rows fetched with limit + 1: the extra one only says there is a next page."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(key(rows[-1]))


class Pager:
    """A list endpoint's pages: rows fetched with limit + 1 (as `page`), and the next
    page named twice, as the body's `next` cursor and as a `Link` header (RFC 8288,
    rel="next"), the way the EPCIS export and most HTTP clients follow pages."""

    def __init__(self, request: Request, response: Response) -> None:
        self.request, self.response = request, response

    def page(self, rows: list[T], limit: int, key: Callable[[T], list[Any]]) -> tuple[list[T], str | None]:
        rows, next_page = page(rows, limit, key)
        if next_page is not None:
            self.response.headers["Link"] = f'<{self.request.url.include_query_params(cursor=next_page)}>; rel="next"'
        return rows, next_page


PagerDep = Annotated[Pager, Depends(Pager)]
