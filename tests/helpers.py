"""Small helpers the tests share."""

from __future__ import annotations

import base64
import json
from typing import Any

from models.runtime import Runtime
from models.sequencer import Appended, NewEntry


def scans(count: int, *, items: int = 7, start: int = 0) -> list[NewEntry]:
    """`count` scan-like records spread over `items` boxes."""
    return [
        NewEntry({"type": "scan", "n": n, "pad": "x" * 40}, item=f"53.03.08.2001-{n % items:03d}-BUP")
        for n in range(start, start + count)
    ]


def append(runtime: Runtime, log_id: str, entries: list[NewEntry]) -> list[Appended]:
    return runtime.sequencer.append(log_id, entries)


def record(data: bytes) -> dict[str, Any]:
    return json.loads(data)


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
