"""RFC 8785 JSON Canonicalization Scheme: the exact bytes of a log entry."""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1


def canonicalize(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 JSON of `obj`.

    Keys sorted by UTF-16 code units, no whitespace, non-ASCII left unescaped,
    numbers in ECMAScript form. Raises a ValueError for what JSON cannot carry
    exactly: NaN, infinities, integers beyond ±(2^53 - 1), lone surrogates,
    non-string keys.
    """
    if _same_as_plain_json(obj):
        # Most records are strings, integers and nesting: for those the C encoder
        # writes RFC 8785 bytes already, four times faster than the general path.
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return rfc8785.dumps(obj)


def _same_as_plain_json(value: Any) -> bool:
    """True where json.dumps(sort_keys=True) gives RFC 8785 bytes: no floats (their
    ECMAScript form differs from Python's), safe integers, ASCII keys (sorted alike by
    code point and UTF-16). A lone surrogate fails either way, when the text is encoded."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return True
    if kind is int:
        return -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER
    if kind is dict:
        return all(
            type(key) is str and key.isascii() and _same_as_plain_json(item)
            for key, item in value.items()
        )
    if kind is list or kind is tuple:
        return all(_same_as_plain_json(item) for item in value)
    return False

