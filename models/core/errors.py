"""Domain errors. The API maps each to an RFC 9457 problem with the matching status."""

from __future__ import annotations


class JejakError(Exception):
    status = 400
    title = "Bad request"
    retry_after: int | None = None  # seconds, when asking again later will succeed

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(JejakError):
    status = 404
    title = "Not found"


class Forbidden(JejakError):
    status = 403
    title = "Forbidden"


class InvalidRequest(JejakError):
    status = 400
    title = "Invalid request"


class Conflict(JejakError):
    status = 409
    title = "Conflict"


class Unavailable(JejakError):
    status = 503
    title = "Service unavailable"


class NotYet(JejakError):
    """Recorded, but what was asked for follows in a moment (a checkpoint, a cosignature)."""

    status = 409
    title = "Not yet"
    retry_after = 1
