"""Domain errors. The API maps each to an RFC 9457 problem with the matching status and a
stable `code` (snake_case) that clients and the pages translate; the `detail` is English
prose for a person and may change, the `code` may not."""

from __future__ import annotations

from typing import Any


class JejakError(Exception):
    status = 400
    title = "Bad request"
    code = "invalid_request"
    retry_after: int | None = None  # seconds, when asking again later will succeed

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = {}  # more members of the problem, e.g. an import's `errors`
        if code is not None:
            self.code = code


class NotFound(JejakError):
    status = 404
    title = "Not found"
    code = "not_found"


class Forbidden(JejakError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


class InvalidRequest(JejakError):
    status = 400
    title = "Invalid request"
    code = "invalid_request"


class Unprocessable(JejakError):
    """Well-formed, but not what the operation takes (as FastAPI's own 422)."""

    status = 422
    title = "Invalid request"
    code = "invalid_request"


class Conflict(JejakError):
    status = 409
    title = "Conflict"
    code = "conflict"


class Unavailable(JejakError):
    status = 503
    title = "Service unavailable"
    code = "unavailable"


class NotYet(JejakError):
    """Recorded, but what was asked for follows in a moment (a checkpoint, a cosignature)."""

    status = 409
    title = "Not yet"
    code = "not_yet"
    retry_after = 1


class Unauthenticated(JejakError):
    """No valid bearer token: answered with a `WWW-Authenticate` challenge."""

    status = 401
    title = "Unauthorized"
    code = "not_signed_in"


class TooManyRequests(JejakError):
    status = 429
    title = "Too many requests"
    code = "rate_limited"

    def __init__(self, detail: str, retry_after: int, *, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after
