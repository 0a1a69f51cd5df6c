"""HTTP caching for the embeds: an ETag from the log position, 304 on revalidation, and the
rendered pages of the latest ETags kept in memory (bounded)."""

from __future__ import annotations

import hashlib
import threading

from cachetools import LRUCache
from starlette.requests import Request

from api.embed.params import View

# Bump when the markup or the JSON shapes change, so caches drop old bodies.
FORMAT_VERSION = "4"


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


class PageCache:
    """Rendered embed pages by ETag, least recently used first out.

    The ETag names the URL's meaning and the log position the page shows, and promises the
    same bytes for both (a strong validator), so a body kept under it never goes stale: a new
    decision moves the position and the next request renders again. Bounded by count and by
    bytes; a page larger than the whole budget is not kept. Used from worker threads: every
    read and write of the pages holds a lock."""

    def __init__(self, max_pages: int = 256, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_pages, self.max_bytes = max_pages, max_bytes
        # Bounded by bytes by the cache itself (a page weighs its length), by count here.
        self._pages: LRUCache[str, bytes] = LRUCache(max_bytes, getsizeof=len)
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @property
    def size(self) -> int:
        """The bytes of the pages kept."""
        return int(self._pages.currsize)

    def get(self, tag: str) -> bytes | None:
        with self._lock:
            body = self._pages.get(tag)
            if body is None:
                self.misses += 1
                return None
            self.hits += 1
            return body

    def put(self, tag: str, body: bytes) -> None:
        with self._lock:
            if len(body) > self.max_bytes or tag in self._pages:
                return
            self._pages[tag] = body
            while len(self._pages) > self.max_pages:
                self._pages.popitem()  # the least recently used

    def __len__(self) -> int:
        return len(self._pages)
