"""The hashed envelope is RFC 8785 canonical JSON: one form whatever the stored JSON looks like."""

from __future__ import annotations

import dataclasses
import json
import random
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.eventlog.ledger import Envelope, canonical_json, envelope_of, leaf_hash, payload_of

SAFE = 2**53 - 1  # I-JSON integers: what RFC 8785 serialises exactly

scalars = st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.text(max_size=12)
documents = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    ),
    max_size=6,
)
layouts = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 4, "\t"]),
        "separators": st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]),
        "ensure_ascii": st.booleans(),
        "around": st.sampled_from(["", " ", "\n", "\t\r\n "]),
    }
)


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: shuffled(value[k], rng) for k in keys}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def stored(value: Any, layout: dict[str, Any]) -> bytes:
    """A stored event state with this layout of whitespace and escapes."""
    text = json.dumps(
        value,
        indent=layout["indent"],
        separators=layout["separators"],
        ensure_ascii=layout["ensure_ascii"],
    )
    return (layout["around"] + text + layout["around"]).encode("utf-8")


def envelope(state: bytes) -> Envelope:
    return Envelope(
        position=7,
        stream_id="6f1c1c52-4b7e-5f5c-9a57-0b1f2d3e4f50",
        version=2,
        event_id="0d9d4c3e-5a7b-5c8d-9e0f-1a2b3c4d5e6f",
        event_type="Corrected",
        schema_version=1,
        recorded_at="2024-11-20T12:00:00.000000Z",
        payload=payload_of(state),
    )


@settings(max_examples=60, deadline=None)
@given(documents, layouts, layouts, st.randoms(use_true_random=False))
def test_the_envelope_does_not_depend_on_key_order_or_whitespace_of_the_stored_state(
    document: dict[str, Any],
    first: dict[str, Any],
    second: dict[str, Any],
    rng: random.Random,
) -> None:
    one = envelope(stored(document, first))
    other = envelope(stored(shuffled(document, rng), second))
    assert one.canonical() == other.canonical()
    assert leaf_hash(one) == leaf_hash(other)
    # Canonical JSON is a fixed point: canonicalising it again changes nothing.
    assert rfc8785.dumps(json.loads(one.canonical())) == one.canonical()


@settings(max_examples=60, deadline=None)
@given(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-SAFE, SAFE),
    layouts,
)
def test_a_number_written_with_a_fraction_or_exponent_travels_as_a_string(
    number: float, whole: int, layout: dict[str, Any]
) -> None:
    payload = payload_of(
        stored({"value": number, "nested": [{"x": number}], "count": whole}, layout)
    )
    assert payload == {"value": repr(number), "nested": [{"x": repr(number)}], "count": whole}
    assert payload_of(b'{"value": 1.5e3, "half": 0.5}') == {"value": "1500.0", "half": "0.5"}
    canonical = envelope(stored({"value": number}, layout)).canonical()
    assert json.loads(canonical)["payload"] == {"value": repr(number)}


RFC_SORTING_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""


def test_the_rfc_8785_sorting_example_sorts_keys_by_utf16_code_units() -> None:
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")
    assert rfc8785.dumps(payload_of(RFC_SORTING_INPUT.encode("utf-8"))) == expected
    canonical = envelope(RFC_SORTING_INPUT.encode("utf-8")).canonical()
    assert canonical.endswith(
        b'"payload":'
        + expected
        + b',"position":7,"recordedAt"'
        + (
            b':"2024-11-20T12:00:00.000000Z","schemaVersion":1,"streamId":'
            b'"6f1c1c52-4b7e-5f5c-9a57-0b1f2d3e4f50","version":2}'
        )
    )


def test_the_rfc_8785_main_example_is_reproduced() -> None:
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode("utf-8")
    assert rfc8785.dumps(json.loads(source)) == expected
    # In an envelope the same numbers are strings: no binary float is ever hashed.
    assert payload_of(source.encode())["numbers"] == [
        "333333333.3333333",
        "1e+30",
        "4.5",
        "0.002",
        "1e-27",
    ]


# RFC 8785 Appendix B: IEEE 754 bit patterns whose values are integers, and their JSON form.
APPENDIX_B_INTEGERS = {
    "0000000000000000": "0",
    "8000000000000000": "0",
    "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992",
    "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21",
    "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308",
}


def test_the_rfc_8785_appendix_b_integer_values_serialise_as_published() -> None:
    for bits, expected in APPENDIX_B_INTEGERS.items():
        value = struct.unpack(">d", bytes.fromhex(bits))[0]
        assert value.is_integer()
        assert rfc8785.dumps(value) == expected.encode(), bits
        if abs(value) <= SAFE:  # as a JSON integer in a stored event, it stays one
            assert payload_of(expected.encode()) == int(value)
            assert rfc8785.dumps(payload_of(expected.encode())) == expected.encode()


def test_safe_integers_at_the_edge_of_the_domain_are_kept_exactly() -> None:
    for whole in (SAFE, -SAFE, 0, 1, -1):
        payload = payload_of(json.dumps({"n": whole}).encode())
        assert payload == {"n": whole}
        assert rfc8785.dumps(payload) == f'{{"n":{whole}}}'.encode()


def test_integers_beyond_double_precision_travel_as_strings() -> None:
    from projections.eventlog.ledger import payload_of

    payload = payload_of(b'{"big": 12345678901234567890, "small": -3, "flag": true}')
    assert payload == {"big": "12345678901234567890", "small": -3, "flag": True}


# Characters where a shortcut would go wrong: controls and their short escapes, quote,
# backslash, slash, DEL, line separators, the private-use and U+E000..U+FFFF range that
# code point order puts after astral characters but UTF-16 order puts before them, and
# astral characters themselves.
TRICKY = st.sampled_from(
    [chr(c) for c in range(0x20)]
    + ['"', "\\", "/", "\x7f", "\u0080", "\u2028", "\u2029", "\ud7ff"]
    + ["\ue000", "\uf8ff", "\ufb33", "\ufeff", "\uffef", "\ufffd", "\uffff"]
    + ["\U00010000", "\U0001f600", "\U000f0000", "\U0010ffff", "a", "A", "1", "\u20ac"]
)
characters = TRICKY | st.characters(exclude_categories=["Cs"])
keys = st.text(characters, max_size=4)
subset = st.recursive(
    st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.text(characters, max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(subset)
def test_the_fast_canonical_json_equals_rfc_8785_for_every_value_an_envelope_holds(
    value: Any,
) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(keys, st.integers(-SAFE, SAFE), min_size=2, max_size=8))
def test_object_keys_are_ordered_by_utf16_code_units_not_code_points(
    value: dict[str, int],
) -> None:
    value["\U0001f600"] = 1  # astral: after U+E000..U+FFFF by code point, before it in UTF-16
    value["\ufb33"] = 2
    text = canonical_json(value).decode("utf-8")
    assert text.index('"\U0001f600"') < text.index('"\ufb33"')
    assert canonical_json(value) == rfc8785.dumps(value)


def test_values_outside_the_fast_path_are_serialised_or_refused_as_rfc_8785_does() -> None:
    values: list[Any] = [{"f": 0.5, "e": [1e30, -0.0]}, ("tuple", 1), {"n": SAFE}, [True, None]]
    for value in values:
        assert canonical_json(value) == rfc8785.dumps(value)
    for refused in ({"big": SAFE + 1}, [-(SAFE + 1)], {"lone": "\ud800"}, float("nan")):
        with pytest.raises(rfc8785.CanonicalizationError):
            rfc8785.dumps(refused)
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(refused)


# Keys and strings with astral, private-use and control characters, and numbers of every kind.
wild_text = st.text(
    st.characters(codec="utf-8") | st.sampled_from(["\U0001f600", "\ue000", "\uffff", "\x01"]),
    max_size=6,
)
wild_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | wild_text
)
wild_documents = st.dictionaries(
    wild_text,
    st.recursive(
        wild_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(wild_text, inner, max_size=3),
        max_leaves=12,
    ),
    max_size=5,
)


@settings(max_examples=80, deadline=None)
@given(wild_documents, layouts)
def test_the_envelope_of_a_stored_state_is_what_rfc8785_makes_of_it(
    document: dict[str, Any], layout: dict[str, Any]
) -> None:
    state = stored(document, layout)
    fast = envelope_of(3, "6f1c1c52-4b7e-5f5c-9a57-0b1f2d3e4f50", 1, "m:E", state, "2024-11-20Z")
    slow = dataclasses.replace(fast, plain=False)  # without the hint that the payload is plain
    assert fast.payload == payload_of(state)
    expected = rfc8785.dumps({**json.loads(slow.canonical()), "payload": fast.payload})
    assert fast.canonical() == slow.canonical() == expected
