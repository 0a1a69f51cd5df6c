"""HTTP caching for the embeds: an ETag from the log position, and 304 on revalidation."""

from __future__ import annotations

import hashlib

from starlette.requests import Request

from api.embed.params import View

# Bump when the markup or the JSON shapes change, so caches drop old bodies.
FORMAT_VERSION = "3"


def etag(request: Request, view: View | str, position: int) -> str:
    """A strong validator: same URL meaning, same log position, same bytes."""
    query = view.query() if isinstance(view, View) else view
    text = f"{FORMAT_VERSION}|{request.base_url}|{request.url.path}|{query}|{position}"
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


def cache_control(view: View) -> str:
    """A view pinned to a log position never changes; the live view is rechecked each minute."""
    if view.as_of is not None:
        return "public, max-age=86400"
    return "public, max-age=60"


def not_modified(request: Request, tag: str) -> bool:
    """True when the client's If-None-Match already names this ETag."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or tag in tags
