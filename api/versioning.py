"""What may change within /api/v1, and how a deprecated name says so (docs/API.md,
*Versioning and deprecation*): a request that uses one is answered with `Deprecation`
(RFC 9745: since when) and `Sunset` (RFC 8594: the earliest it may go)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi import Response

# The names the one vocabulary replaced (issue 24), and when they may go: a year on,
# past the next election's logistics.
DEPRECATED_ON = datetime(2026, 12, 7, tzinfo=UTC)
SUNSET_ON = datetime(2027, 12, 7, tzinfo=UTC)


def deprecated(response: Response) -> None:
    """Say on the answer that the request used a deprecated name."""
    response.headers["Deprecation"] = f"@{int(DEPRECATED_ON.timestamp())}"
    response.headers["Sunset"] = format_datetime(SUNSET_ON, usegmt=True)
