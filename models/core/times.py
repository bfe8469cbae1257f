"""A time as the service takes it from outside: RFC 3339 with its zone, in the one
spelling everyone reads the same way. Python's own parser would also take ISO 8601's
basic and week forms, and years it cannot convert to UTC. Pure: the custody rules, and
so the auditors' replay of them, read scans' and entries' times with it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.ASCII)
FIRST_YEAR, LAST_YEAR = 2000, 2100
TIME_FORMAT = "an RFC 3339 time with its timezone (Z or ±HH:MM), like 2024-11-27T08:00:00+08:00"


def parse_time(value: str) -> datetime:
    """The UTC moment of an RFC 3339 time with its zone; ValueError says what is wrong."""
    if not RFC3339.fullmatch(value):
        raise ValueError(f"{value[:40]!r} is not {TIME_FORMAT}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError(f"{value!r} is not a real time: {error}") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"{value!r} is not a year from {FIRST_YEAR} to {LAST_YEAR}")
    return moment.astimezone(UTC)
