"""Persisted queries as Apollo clients send them: a registry file, or registered on first use.

A request names its query by `extensions.persistedQuery.sha256Hash` (or `id`). With a
registry (`serve --persisted-only`) only registered queries run. Without one, the server
keeps automatic persisted queries: a hash it does not know answers PersistedQueryNotFound,
the client retries with the query text and the hash, and the server stores the text once its
SHA-256 matches, in a store bounded by entries and bytes that evicts the least recently used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cachetools import LRUCache

from api.http.limits import query_hash
from projections import settings

NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
NOT_FOUND_CODE = "PERSISTED_QUERY_NOT_FOUND"
ENTRIES_ENV = settings.env_name("apq_entries")
BYTES_ENV = settings.env_name("apq_bytes")
DEFAULT_ENTRIES = settings.DEFAULTS.apq_entries
DEFAULT_BYTES = settings.DEFAULTS.apq_bytes
_SHA256 = re.compile(r"[0-9a-f]{64}")


class Refused(Exception):
    """A GraphQL request error raised before execution: its message and extensions code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code

    def formatted(self) -> dict[str, Any]:
        """The error as it appears in a response's `errors`."""
        return {"message": self.message, "extensions": {"code": self.code}}


def not_found() -> Refused:
    """The error Apollo clients answer by sending the query text with its hash."""
    return Refused(NOT_FOUND_MESSAGE, NOT_FOUND_CODE)


class AutomaticStore:
    """Queries registered by clients: an LRU bounded by entry count and by bytes of text."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("persisted query store bounds must be 0 (off) or positive")
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._queries: LRUCache[str, str] = LRUCache(max_bytes, getsizeof=_encoded_size)

    @classmethod
    def from_env(cls) -> AutomaticStore:
        """Bounds from POLICY_TIMELINE_APQ_ENTRIES and POLICY_TIMELINE_APQ_BYTES."""
        chosen = settings.current()
        return cls(chosen.apq_entries, chosen.apq_bytes)

    def __len__(self) -> int:
        return len(self._queries)

    @property
    def bytes(self) -> int:
        """Bytes of query text held."""
        return int(self._queries.currsize)

    def get(self, digest: str) -> str | None:
        return self._queries.get(digest)

    def put(self, digest: str, query: str) -> None:
        if _encoded_size(query) > self.max_bytes or self.max_entries == 0:
            return  # the query still runs; it is only not remembered
        self._queries[digest] = query  # evicts the least recently used beyond max_bytes
        while len(self._queries) > self.max_entries:
            self._queries.popitem()


def _encoded_size(query: str) -> int:
    return len(query.encode())


def named_hash(data: Mapping[str, Any], *, by_id: bool) -> str | None:
    """The hash a request names (`id` too when `by_id`); Refused (BAD_USER_INPUT) if malformed."""
    extensions = data.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is not None:
        if not isinstance(persisted, dict):
            raise Refused("extensions.persistedQuery: must be an object", "BAD_USER_INPUT")
        if persisted.get("version") != 1:
            raise Refused(
                "extensions.persistedQuery.version: only 1 is supported", "BAD_USER_INPUT"
            )
        digest = persisted.get("sha256Hash")
        where = "extensions.persistedQuery.sha256Hash"
    elif by_id and data.get("id") is not None:
        digest, where = data.get("id"), "id"
    else:
        return None
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise Refused(f"{where}: must be 64 lower-case hex digits (a SHA-256)", "BAD_USER_INPUT")
    return digest


class PersistedQueries:
    """Fills in a request's query from its hash: from `registry` only, or automatic ones."""

    def __init__(self, registry: Mapping[str, str] | None, automatic: AutomaticStore) -> None:
        self.registry, self.automatic = registry, automatic

    def resolve(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The request with the query it names; Refused when it may not run."""
        digest = named_hash(data, by_id=self.registry is not None)
        query = data.get("query")
        text = query if isinstance(query, str) and query else None
        if digest is not None and text is not None and query_hash(text) != digest:
            raise Refused("the query text does not match its sha256Hash", "BAD_USER_INPUT")
        if self.registry is not None:
            if digest is None and text is not None:
                digest = query_hash(text)
            if digest is None:
                return dict(data)  # no query at all: the view says so
            if digest not in self.registry:
                raise not_found()
            return {**data, "query": self.registry[digest]}
        if digest is None:
            return dict(data)  # an ordinary request
        if text is not None:
            self.automatic.put(digest, text)
            return dict(data)
        stored = self.automatic.get(digest)
        if stored is None:
            raise not_found()
        return {**data, "query": stored}
