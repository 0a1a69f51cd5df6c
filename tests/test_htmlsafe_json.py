"""The fast encoder of compiled answers writes exactly what the ordinary encoder writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text.htmlsafe import html_safe_json, html_safe_json_bytes


def ordinary(data: Any) -> bytes:
    """What the GraphQL view sends: `json.dumps` (ensure_ascii), then the HTML escapes."""
    return html_safe_json(json.dumps(data, separators=(",", ":"))).encode()


def test_every_character_is_written_as_the_ordinary_encoder_writes_it() -> None:
    """Every code point a string may hold (surrogates aside), in keys and values: control
    characters, DEL, markup, U+2028/9, the BMP and astral planes."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    for start in range(0, len(chars), 4096):
        text = "".join(chars[start : start + 4096])
        data = {"data": {text[:64]: [text, {"k": text[::-1]}], "n": start, "ok": True}}
        assert html_safe_json_bytes(data) == ordinary(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_any_answer_without_floats_is_written_byte_for_byte_as_before(data: Any) -> None:
    assert html_safe_json_bytes({"data": data}) == ordinary({"data": data})


@pytest.mark.parametrize("value", [2**64, "\ud800"])
def test_what_orjson_refuses_is_a_type_error_for_the_caller_to_encode_otherwise(
    value: Any,
) -> None:
    with pytest.raises(TypeError):
        html_safe_json_bytes({"data": value})
