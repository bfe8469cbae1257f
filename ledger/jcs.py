"""RFC 8785 JSON Canonicalization Scheme: the exact bytes of a log entry."""

from __future__ import annotations

from typing import Any

import rfc8785


def canonicalize(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 JSON of `obj`.

    Keys sorted by UTF-16 code units, no whitespace, non-ASCII left unescaped,
    numbers in ECMAScript form. Raises `rfc8785.CanonicalizationError` (a
    ValueError) for what JSON cannot carry exactly: NaN, infinities, integers
    beyond ±(2^53 - 1), lone surrogates, non-string keys.
    """
    return rfc8785.dumps(obj)
