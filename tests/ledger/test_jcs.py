"""RFC 8785 canonical JSON, checked against the RFC's own examples."""

from __future__ import annotations

import enum
import json
import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.jcs import Canonical, canonicalize, canonicalize_with_member


def test_rfc8785_section_3_2_2_sample() -> None:
    # RFC 8785 §3.2.2: the input as a JSON text, so the parser sees 4.50, 1E30 etc.
    source = r"""{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    expected = (
        '{"literals":[null,true,false],'
        '"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(source)) == expected.encode()


def test_rfc8785_section_3_2_3_sorting() -> None:
    # Keys sort by UTF-16 code units: U+1F600 (a surrogate pair, D83D) before U+FB33.
    source = r"""{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"""
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )
    assert canonicalize(json.loads(source)) == expected.encode()


# RFC 8785 Appendix B: IEEE-754 bit patterns and their canonical text.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


@pytest.mark.parametrize(("bits", "text"), APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, text: str) -> None:
    assert canonicalize(_double(bits)) == text.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000"])
def test_nan_and_infinity_are_rejected(bits: str) -> None:
    # Appendix B's NaN and Infinity rows: JSON cannot carry them.
    with pytest.raises(rfc8785.CanonicalizationError):
        canonicalize(_double(bits))


def test_keys_sorted_at_every_depth_without_whitespace() -> None:
    value = {"b": [{"z": 1, "a": 2}], "a": {"d": None, "c": True}}
    assert canonicalize(value) == b'{"a":{"c":true,"d":null},"b":[{"a":2,"z":1}]}'


def test_unicode_is_not_escaped() -> None:
    assert canonicalize({"kota": "Kupang \u2014 NTT \U0001f5f3"}) == (
        '{"kota":"Kupang \u2014 NTT \U0001f5f3"}'.encode()
    )


def test_insertion_order_does_not_matter() -> None:
    assert canonicalize({"x": 1, "y": 2}) == canonicalize({"y": 2, "x": 1})


def test_values_json_cannot_carry_exactly_are_rejected() -> None:
    with pytest.raises(ValueError):
        canonicalize({"n": 2**53})
    with pytest.raises(ValueError):
        canonicalize({"s": "\ud800"})
    with pytest.raises(ValueError):
        canonicalize({1: "non-string key"})
    with pytest.raises(ValueError):
        canonicalize({"nested": {"a": 1, 2: "non-string key"}})


def test_a_string_enum_key_is_its_string() -> None:
    class Level(enum.StrEnum):
        TPS = "tps"

    assert canonicalize({Level.TPS: 1, "b": 2.0}) == rfc8785.dumps({Level.TPS: 1, "b": 2.0}) == b'{"b":2,"tps":1}'


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(_json_values)
def test_fast_path_gives_the_same_bytes_as_the_reference(value: object) -> None:
    # canonicalize() takes json.dumps for plain values; rfc8785 is the reference.
    try:
        expected = rfc8785.dumps(value)
    except ValueError:
        with pytest.raises(ValueError):
            canonicalize(value)
        return
    assert canonicalize(value) == expected


def test_control_characters_and_escapes_match_the_reference() -> None:
    text = "".join(chr(c) for c in range(0x20)) + '"\\\u007f\u2028\u00e9\U0001f5f3'
    assert canonicalize({"k": text}) == rfc8785.dumps({"k": text})


_coordinates = st.floats(min_value=-1e17, max_value=1e17) | st.builds(
    lambda digits, scale: digits / 10**scale,
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=12),
)


@settings(max_examples=2000, deadline=None)
@given(_coordinates)
def test_fast_path_floats_match_the_reference(value: float) -> None:
    # Coordinates take the orjson path when their shortest form has no exponent.
    assert canonicalize({"location": {"lat": value, "lon": -value}}) == rfc8785.dumps(
        {"location": {"lat": value, "lon": -value}}
    )


@pytest.mark.parametrize(
    "value",
    [1.0, -0.0, 10.0, 1e15, 2.0**53, 2.0**53 + 2, 9999999999999998.0, 1e16, 1e21, 1e-7, 0.0001, 124.5],
)
def test_floats_at_the_edges_of_the_fast_path(value: float) -> None:
    assert canonicalize([value]) == rfc8785.dumps([value])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _json_values, max_size=3), _json_values)
def test_an_entry_and_its_member_in_one_walk(entry: dict, member: object) -> None:
    value = {**entry, "scan": member}
    try:
        expected = (rfc8785.dumps(value), rfc8785.dumps(member))
    except ValueError:
        with pytest.raises(ValueError):
            canonicalize_with_member(value, "scan")
        return
    assert canonicalize_with_member(value, "scan") == expected


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _json_values, max_size=3), _json_values)
def test_a_member_made_canonical_once_is_embedded_as_the_reference_writes_it(entry: dict, member: object) -> None:
    # The service makes a signed scan's bytes once, to check its signature, and its log
    # entry embeds them: on the fast path and on the reference path (a key that is not
    # ASCII, an integer beyond 2^53 elsewhere in the entry) alike.
    value = {**entry, "scan": member}
    try:
        expected = rfc8785.dumps(value)
        made = Canonical(member)
    except ValueError:
        with pytest.raises(ValueError):
            canonicalize({**entry, "scan": Canonical(member)})
        return
    assert made.data == rfc8785.dumps(member)
    assert canonicalize({**entry, "scan": made}) == expected
    assert canonicalize([{**entry, "scan": made}]) == rfc8785.dumps([value])
    assert canonicalize_with_member({**entry, "scan": made}, "scan") == (expected, made.data)


def test_an_integral_float_is_written_as_the_integer_a_phone_signed() -> None:
    # A browser sends a GPS accuracy of 10 as "10"; a Python client may send 10.0.
    # Both sign the same RFC 8785 bytes, so both signatures check.
    assert canonicalize({"accuracy_m": 10.0, "lat": -9.5}) == b'{"accuracy_m":10,"lat":-9.5}'
    assert canonicalize_with_member({"scan": {"accuracy_m": 10.0}}, "scan") == (
        b'{"scan":{"accuracy_m":10}}',
        b'{"accuracy_m":10}',
    )
