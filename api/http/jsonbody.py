"""Request JSON (bodies, query-string values, WebSocket messages) read by import's strict rules."""

from __future__ import annotations

from typing import Any

from domain import jsontext

MAX_DEPTH = jsontext.MAX_DEPTH


class BadJson(ValueError):
    """The JSON of a request cannot be accepted; the message says where and why."""


def load(data: str | bytes, where: str = "body") -> Any:
    """`data` decoded by `domain.jsontext`, or BadJson naming `where` and what is wrong."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadJson(f"{where}: not valid UTF-8 at byte {exc.start}") from None
    try:
        return jsontext.loads(data)
    except jsontext.JsonTextError as exc:
        raise BadJson(f"{where}: {exc}") from None
