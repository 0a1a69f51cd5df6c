"""Strict JSON text: the rules every line a user hands in must follow before it is parsed."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (real inputs need fewer than ten)."""
MAX_NUMBER_CHARS = 40
"""Longest number text accepted: room for any 64-bit integer or double, not for thousands."""

_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class JsonTextError(ValueError):
    """A text that is not strict JSON; the message says why and where."""


def loads(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON, refusing deep nesting, huge numbers, duplicate keys and lone surrogates."""
    if _SURROGATE.search(text):
        raise JsonTextError("not valid UTF-8")
    check_depth(text, max_depth)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise JsonTextError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:  # not reached after check_depth; kept so no input can crash
        raise JsonTextError(f"nested more than {max_depth} levels deep") from None
    if "\\u" in text or "\\U" in text:
        _no_lone_surrogates(value)
    return value


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than `max_depth`, in one linear pass that skips strings."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonTextError(f"nested more than {max_depth} levels deep")
        elif token in "]}":
            depth -= 1


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonTextError(f"duplicate key {key[:100]!r} in an object")
            seen.add(key)
    return result


def _number_text(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonTextError(f"a number of {len(text)} characters; the limit is {MAX_NUMBER_CHARS}")


def _int(text: str) -> int:
    _number_text(text)
    return int(text)


def _float(text: str) -> float:
    _number_text(text)
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JsonTextError(f"the number {text} is out of range")
    return value


def _constant(text: str) -> None:
    raise JsonTextError(f"{text} is not JSON")


def _no_lone_surrogates(value: Any) -> None:
    """An escaped lone surrogate (\\ud800) cannot be stored as UTF-8: refuse it here."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JsonTextError("a string holds a lone surrogate escape (not valid Unicode)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
