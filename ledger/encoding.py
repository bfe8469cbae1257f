"""Strict text encodings shared by the C2SP text formats.

Each value has exactly one accepted spelling, so that two parses of different text
can never yield the same value (and a signed text cannot be re-spelled).
"""

from __future__ import annotations

import base64
import binascii
import re

MAX_UINT63 = 2**63 - 1  # sizes and indexes fit a signed 64-bit integer, as in Go

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII only: `\d` would accept other digits


def b64encode(data: bytes) -> str:
    """Standard padded base64 (RFC 4648 §4)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str, error: type[ValueError] = ValueError) -> bytes:
    """Decode standard padded base64, accepting only its canonical spelling."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as cause:
        raise error(f"{what} is not valid base64: {text!r}") from cause
    # Rejects non-zero padding bits, which the decoder silently drops.
    if b64encode(data) != text:
        raise error(f"{what} is not canonical base64: {text!r}")
    return data


def parse_uint63(text: str, what: str, error: type[ValueError] = ValueError) -> int:
    """An ASCII decimal without leading zeros, at most 2^63 - 1."""
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_UINT63:
        raise error(
            f"{what} must be a decimal number from 0 to 2^63-1 without leading zeros, got {text!r}"
        )
    return int(text)
