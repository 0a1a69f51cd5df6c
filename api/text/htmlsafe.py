"""Output hardening for text from the record: bidi controls and HTML-significant characters."""

from __future__ import annotations

import re
from typing import Any

import orjson
from markupsafe import escape

try:  # the C function behind markupsafe's `escape`, without a Markup object per call
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover -- markupsafe without its C speedups

    def _escape_str(text: str, /) -> str:
        return str(escape(text))


# Embedding, override and isolate controls, and the marks: U+202E can make a headline
# read backwards or reorder the text around it.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Inside JSON strings only (nowhere else may they occur), so the escapes keep the meaning.
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_SPECIAL = re.compile("[<>&\u2028\u2029]")


def esc(text: object) -> str:
    """Text as HTML: `str(markupsafe.escape(text))` for anything but markup (&, <, >, ', "
    as &amp; &lt; &gt; &#39; &#34;), as a plain str."""
    return _escape_str(text if type(text) is str else str(text))


def without_bidi(text: object) -> str:
    """The text without bidi controls: for places that cannot isolate it (titles, attributes)."""
    return BIDI_CONTROLS.sub("", str(text))


def html_safe_json(encoded: str | bytes) -> str:
    """JSON whose strings carry <, >, & (and U+2028/9) escaped: never markup if misread as HTML."""
    text = encoded.decode("utf-8") if isinstance(encoded, bytes) else encoded
    return _JSON_SPECIAL.sub(lambda m: _JSON_ESCAPES[m.group()], text)


_NON_ASCII = re.compile("[\x7f-\U0010ffff]")


def _ascii_escape(match: re.Match[str]) -> str:
    """A character as `json.dumps` escapes it (lowercase hex, astral ones as a pair)."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


def html_safe_json_bytes(data: Any) -> bytes:
    """`html_safe_json(json.dumps(data, separators=(",", ":")))` encoded, byte for byte, made
    by orjson (many times faster for an answer of hundreds of objects).

    Only for data of dicts with str keys, lists, str, int, bool and None: orjson writes some
    floats otherwise than `json.dumps` does, and refuses integers beyond 64 bits and lone
    surrogates (TypeError; the caller encodes those the ordinary way)."""
    encoded = orjson.dumps(data)
    if not encoded.isascii():  # as ensure_ascii writes text outside ASCII, and DEL
        encoded = _NON_ASCII.sub(_ascii_escape, encoded.decode()).encode()
    elif b"\x7f" in encoded:
        encoded = encoded.replace(b"\x7f", b"\\u007f")
    # Outside strings JSON holds none of these; U+2028/9 are already escaped above.
    return encoded.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
