"""Request JSON decoded strictly: valid UTF-8, bounded nesting, bounded numbers."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects a request may hold (real operations need under 10)."""
MAX_NUMBER_CHARS = 40
"""Longest number literal accepted: GraphQL numbers are 32-bit integers and doubles."""


class BadJson(ValueError):
    """The JSON of a request cannot be accepted; the message says where and why."""


def _short(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:  # int() of thousands of digits is slow, then refused
        raise BadJson(f"a number of {len(text)} characters; the limit is {MAX_NUMBER_CHARS}")
    return text


def _int(text: str) -> int:
    return int(_short(text))


def _float(text: str) -> float:
    return float(_short(text))


def _constant(text: str) -> float:
    raise BadJson(f"{text} is not a JSON number")


_DECODER = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)


def load(data: str | bytes, where: str = "body") -> Any:
    """`data` decoded, or BadJson naming `where`: bad UTF-8, bad JSON, too deep, too long."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(f"{where}: not valid UTF-8 at byte {exc.start}") from None
    try:
        value = _DECODER.decode(data)
    except BadJson as exc:
        raise BadJson(f"{where}: {exc}") from None
    except RecursionError:
        raise BadJson(f"{where}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError says line and column
        raise BadJson(f"{where}: not valid JSON ({exc})") from None
    if data.count("[") + data.count("{") > MAX_DEPTH:  # else it cannot nest that deep
        check_depth(value, where)
    return value


def check_depth(value: Any, where: str = "body") -> None:
    """BadJson when arrays and objects in `value` nest more than MAX_DEPTH levels."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:  # a loop, not recursion: the depth being checked is the attacker's
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise BadJson(f"{where}: nested more than {MAX_DEPTH} levels deep")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
