"""RFC 8785 JSON Canonicalization Scheme: the exact bytes of a log entry."""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1


def canonicalize(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 JSON of `obj`.

    Keys sorted by UTF-16 code units, no whitespace, non-ASCII left unescaped,
    numbers in ECMAScript form. Raises a ValueError for what JSON cannot carry
    exactly: NaN, infinities, integers beyond ±(2^53 - 1), lone surrogates,
    non-string keys.
    """
    # Most records are strings, integers, coordinates and nesting: for those orjson's
    # sorted compact output is RFC 8785 byte for byte, twenty times faster than the
    # general path (the property tests hold it to the reference).
    plain = _as_plain(obj)
    if plain is not _NOT_PLAIN:
        try:
            return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS, default=_embed)
        except orjson.JSONEncodeError:
            pass  # a lone surrogate: let the reference raise its ValueError
    return rfc8785.dumps(_unwrapped(obj))


class Canonical:
    """A JSON value with its RFC 8785 bytes, made once. Inside a value given to
    canonicalize its bytes are embedded as they are: a signed scan is canonicalized to
    check its signature, and its log entry holds it again."""

    __slots__ = ("value", "data")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.data = canonicalize(value)


def _embed(value: Any) -> Any:
    if type(value) is Canonical:
        return orjson.Fragment(value.data)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _unwrapped(value: Any) -> Any:
    """`value` with each Canonical replaced by its value, for the reference path."""
    kind = type(value)
    if kind is Canonical:
        return value.value
    if kind is dict:
        return {key: _unwrapped(member) for key, member in value.items()}
    if kind is list or kind is tuple:
        return [_unwrapped(member) for member in value]
    return value


def canonicalize_with_member(obj: dict[str, Any], key: str) -> tuple[bytes, bytes]:
    """The RFC 8785 bytes of `obj` and of its member `key` (a log entry and the signed
    scan inside it), walking `obj` once: whatever is plain holds plain members."""
    plain = _as_plain(obj)
    if plain is not _NOT_PLAIN:
        try:
            return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS, default=_embed), orjson.dumps(
                plain[key], option=orjson.OPT_SORT_KEYS, default=_embed
            )
        except orjson.JSONEncodeError:
            pass
    return rfc8785.dumps(_unwrapped(obj)), canonicalize(obj[key])


_NOT_PLAIN: Any = object()
_SIMPLE = (str, bool, type(None))
# What _kind finds: sorted compact JSON is RFC 8785 as it is, or once integral floats
# are written as integers (a GPS accuracy of 10.0 is "10"), or not at all.
_NOT, _AS_IS, _INTEGRAL_FLOATS = 0, 1, 2


def _as_plain(value: Any) -> Any:
    """`value` in a form whose sorted compact JSON is its RFC 8785, or _NOT_PLAIN."""
    kind = _kind(value)
    if kind == _AS_IS:
        return value
    if kind == _INTEGRAL_FLOATS:
        return _floats_as_ints(value)
    return _NOT_PLAIN


def _float_kind(value: float) -> int:
    """Python's repr and ECMAScript agree on the shortest digits; without an exponent
    (1e16, 1e-7 take the reference path) a fraction (-9.45, 124.5) is written alike,
    and an integral one (10.0) is ECMAScript's "10": those digits as an int."""
    text = repr(value)
    if "e" in text or "n" in text:
        return _NOT
    return _INTEGRAL_FLOATS if text.endswith(".0") else _AS_IS


def _kind(value: Any) -> int:
    """Which of _NOT, _AS_IS, _INTEGRAL_FLOATS `value` is: plain floats, safe integers,
    ASCII keys (sorted alike by byte and UTF-16), Canonical members (RFC 8785 already).
    A cyclic value fails here with RecursionError."""
    kind = type(value)
    if kind is dict:
        try:
            ascii_keys = "".join(value).isascii()
        except TypeError:  # a key that is not a string
            return _NOT
        if not ascii_keys:
            return _NOT
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif kind is int:
        return _AS_IS if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER else _NOT
    elif kind is float:
        return _float_kind(value)
    else:
        return _AS_IS if kind in _SIMPLE or kind is Canonical else _NOT
    found = _AS_IS
    for item in items:
        kind = type(item)
        if kind in _SIMPLE:
            continue
        if kind is int:
            if not -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER:
                return _NOT
            continue
        inner = _float_kind(item) if kind is float else _kind(item)
        if inner == _NOT:
            return _NOT
        if inner == _INTEGRAL_FLOATS:
            found = inner
    return found


def _floats_as_ints(value: Any) -> Any:
    """A copy of a value _kind found plain with its integral floats as ints."""
    kind = type(value)
    if kind is float:
        text = repr(value)
        return int(text[:-2]) if text.endswith(".0") else value
    if kind is dict:
        return {key: _floats_as_ints(member) for key, member in value.items()}
    if kind is list or kind is tuple:
        return [_floats_as_ints(member) for member in value]
    return value
