"""Output hardening for text from the record: bidi controls and HTML-significant characters."""

from __future__ import annotations

import re

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


def without_bidi(text: object) -> str:
    """The text without bidi controls: for places that cannot isolate it (titles, attributes)."""
    return BIDI_CONTROLS.sub("", str(text))


def html_safe_json(encoded: str | bytes) -> str:
    """JSON whose strings carry <, >, & (and U+2028/9) escaped: never markup if misread as HTML."""
    text = encoded.decode("utf-8") if isinstance(encoded, bytes) else encoded
    return _JSON_SPECIAL.sub(lambda m: _JSON_ESCAPES[m.group()], text)
