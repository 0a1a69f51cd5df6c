"""A server-side cache of whole GraphQL query responses, keyed on the read-model position.

A query's answer depends on the request, on the rows of the read models, and on today's date
(a treaty's parties default to today). The read models only change when the projector
applies events, and it moves its tracking rows in the same transaction. So a response is
cached under (method, exact request body or query string, Content-Type, Accept, every
projection's tracking position and code version, today's date): a later identical request
that finds the same positions would read the same rows and gets the stored bytes, headers
included. A write that is projected moves a position, so older entries become unreachable
and age out of the LRU. A hit finds the positions in memory (`api.graphql.positions`: held
until this process's projector, a PostgreSQL notification or a few milliseconds say they may
have moved), so it reads no database; a miss reads them before and after its answer.

Only operations that are queries, and whose top-level fields all read the read models, are
cached; mutations, subscriptions, the audit fields (which read the log and its head), the
GraphiQL page, errors of any kind (STALE included), non-200 answers and streamed answers are
never stored. No query reads the caller's API key (only mutations do, `api.graphql.schema`
`_write`), so the key is not part of the cache key; a root field that ever reads it must not
be added to `CACHEABLE_FIELDS`.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql.positions import PositionWatch
from api.graphql.prepare import off_loop
from projections import settings

log = logging.getLogger("policy_timeline")

ENTRIES_ENV = settings.env_name("response_cache_entries")
BYTES_ENV = settings.env_name("response_cache_bytes")
DEFAULT_ENTRIES = settings.DEFAULTS.response_cache_entries
DEFAULT_BYTES = settings.DEFAULTS.response_cache_bytes
ENTRY_OVERHEAD = 256
"""Bytes counted per entry beyond its body, request key and headers (the dict, the tuple)."""

CACHEABLE_FIELDS = frozenset(
    {
        "countryTimeline",
        "weaponTimeline",
        "decision",
        "treaty",
        "weapon",
        "complianceFlags",
        "observations",
        "__typename",
    }
)
"""Top-level query fields whose answer is a function of the read models and today's date."""

CLASSIFIED_DOCUMENTS = 256
"""(query text, operation name) pairs whose cacheability is remembered (LRU)."""
MAX_TOKENS = 2000
"""Parsing for classification stops here, as the schema's own token limit does."""

_NEGOTIATED = frozenset({b"content-type", b"accept"})

ERRORS_KEY = "policy_timeline.graphql_errors"
"""Set in the ASGI scope by the GraphQL view: whether the answer carried errors."""


class ResponseCache:
    """An LRU of responses bounded by entry count and by total bytes; 0 for either disables."""

    def __init__(self, max_entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("response cache bounds must be 0 (off) or positive")
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._entries: OrderedDict[Any, CachedResponse] = OrderedDict()
        self.bytes = 0
        self.hits = self.misses = self.bypasses = self.stored = self.evictions = 0

    @classmethod
    def from_env(cls) -> ResponseCache:
        """Bounds from POLICY_TIMELINE_RESPONSE_CACHE_ENTRIES and ..._BYTES (0 turns it off)."""
        chosen = settings.current()
        return cls(chosen.response_cache_entries, chosen.response_cache_bytes)

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.max_bytes > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Any) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: Any, entry: CachedResponse) -> None:
        if entry.size > self.max_bytes:
            return  # bigger than the whole budget: never worth evicting everything for
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        self._entries[key] = entry
        self.bytes += entry.size
        self.stored += 1
        while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.size
            self.evictions += 1

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0


@dataclass(frozen=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    size: int


class CacheCollector(Collector):
    """The cache's counters and size for /metrics."""

    def __init__(self, cache: ResponseCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "policy_timeline_response_cache_requests",
            "GraphQL requests by response-cache outcome (hit, miss, bypass: not cacheable)",
            labels=["result"],
        )
        requests.add_metric(["hit"], self.cache.hits)
        requests.add_metric(["miss"], self.cache.misses)
        requests.add_metric(["bypass"], self.cache.bypasses)
        yield requests
        evictions = CounterMetricFamily(
            "policy_timeline_response_cache_evictions", "Responses evicted by the LRU bounds"
        )
        evictions.add_metric([], self.cache.evictions)
        yield evictions
        entries = GaugeMetricFamily("policy_timeline_response_cache_entries", "Cached responses")
        entries.add_metric([], len(self.cache))
        yield entries
        size = GaugeMetricFamily(
            "policy_timeline_response_cache_bytes", "Bytes held by cached responses"
        )
        size.add_metric([], self.cache.bytes)
        yield size


@functools.lru_cache(maxsize=CLASSIFIED_DOCUMENTS)
def cacheable_document(query: str, operation_name: str | None) -> bool:
    """True when the selected operation is a query reading only `CACHEABLE_FIELDS` at its top."""
    try:
        document = parse(query, no_location=True, max_tokens=MAX_TOKENS)
    except Exception:  # a syntax error: the view answers it, uncached
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            return False
        operation = operations[0]
    else:
        named = [o for o in operations if o.name is not None and o.name.value == operation_name]
        if len(named) != 1:
            return False
        operation = named[0]
    if operation.operation is not OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _top_fields_cacheable(operation.selection_set, fragments, set())


def _top_fields_cacheable(
    selections: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: set[str]
) -> bool:
    for node in selections.selections:
        if isinstance(node, FieldNode):
            if node.name.value not in CACHEABLE_FIELDS:
                return False
        elif isinstance(node, InlineFragmentNode):
            if not _top_fields_cacheable(node.selection_set, fragments, seen):
                return False
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen:
                continue
            fragment = fragments.get(name)
            if fragment is None:
                return False
            seen.add(name)
            if not _top_fields_cacheable(fragment.selection_set, fragments, seen):
                return False
        else:
            return False
    return True


class CachedGraphQL:
    """ASGI app in front of the GraphQL view: answers repeated queries from a ResponseCache.

    `watch` says what the read models answer at. `view` must record whether an answer had
    errors under `ERRORS_KEY` in the scope (`api.http.app.PolicyGraphQL.process_result` does);
    an answer without that mark is never stored. `parse_json` and `parse_query_params` are
    the view's own, so a request is read exactly as the view reads it (persisted queries
    resolved, unstorable text refused)."""

    def __init__(self, view: Any, cache: ResponseCache, watch: PositionWatch) -> None:
        self.view: ASGIApp = view
        self.cache, self.watch = cache, watch
        self.parse_json: Callable[[bytes], Any] = view.parse_json
        self.parse_query_params: Callable[[QueryParams], Any] = view.parse_query_params

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.cache.enabled:
            await self.view(scope, receive, send)
            return
        method = scope["method"]
        # Every Content-Type and Accept header, in order: the view reads the body by the
        # first and picks a transport (a plain or a streamed answer) by Accept.
        negotiated = tuple((n, v) for n, v in scope["headers"] if n in _NEGOTIATED)
        content_type = next((v for n, v in negotiated if n == b"content-type"), b"")
        query_string: bytes = scope.get("query_string", b"")
        body = b""
        if method == "POST":
            if b"application/json" not in content_type.lower():
                self.cache.bypasses += 1
                await self.view(scope, receive, send)
                return
            body = await read_body(receive)
            receive = replay(body, receive)
        elif method != "GET" or not query_string:  # GraphiQL, HEAD, ...
            self.cache.bypasses += 1
            await self.view(scope, receive, send)
            return
        request = (method, body, query_string, negotiated)
        try:
            # Held in memory while nothing says the read models moved: no database read.
            state = self.watch.held() or await self.watch.current()
        except Exception:  # the database is unreachable: the view answers (503)
            log.debug("response cache: read position unavailable", exc_info=True)
            self.cache.bypasses += 1
            await self.view(scope, receive, send)
            return
        if state is not None:
            entry = self.cache.get((*request, state))
            if entry is not None:
                self.cache.hits += 1
                await _answer(entry, send)
                return
        if not await self._cacheable(method, body, query_string):
            self.cache.bypasses += 1
            await self.view(scope, receive, send)
            return
        try:
            # The answer about to be made is stored under the state read now, just before
            # it, and only if the same state is read again just after it.
            state = await self.watch.fresh()
        except Exception:
            log.debug("response cache: read position unavailable", exc_info=True)
            self.cache.bypasses += 1
            await self.view(scope, receive, send)
            return
        key = (*request, state)
        entry = self.cache.get(key)
        if entry is not None:  # another request stored it meanwhile
            self.cache.hits += 1
            await _answer(entry, send)
            return
        self.cache.misses += 1
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                start.update(message)
            elif kind == "http.response.body" and not start.get("uncacheable"):
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    # Stored before the last byte goes out: a client that sends the same
                    # request as soon as it has this answer finds it.
                    payload = b"".join(chunks)
                    await self._store(key, scope, start, payload, len(body) + len(query_string))
            else:
                start["uncacheable"] = True
            await send(message)

        await self.view(scope, receive, capture)

    async def _store(
        self, key: Any, scope: Scope, start: dict[str, Any], payload: bytes, request_size: int
    ) -> None:
        """Keep a complete 200 JSON answer without errors, if read entirely at `key`'s state."""
        if scope.get(ERRORS_KEY) is not False or start.get("status") != 200:
            return
        headers = tuple((bytes(k), bytes(v)) for k, v in start.get("headers", ()))
        kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if not kind.startswith((b"application/json", b"application/graphql-response+json")):
            return  # streamed (multipart, event stream) or not a GraphQL answer
        try:
            unchanged = await self.watch.fresh() == key[-1]  # every row was read at this state
        except Exception:
            log.debug("response cache: read position unavailable", exc_info=True)
            return
        if unchanged:
            size = len(payload) + request_size + ENTRY_OVERHEAD
            size += sum(len(k) + len(v) for k, v in headers)
            self.cache.put(key, CachedResponse(200, headers, payload, size))

    async def _cacheable(self, method: str, body: bytes, query_string: bytes) -> bool:
        try:
            if method == "GET":
                data = self.parse_query_params(QueryParams(query_string))
            else:
                data = self.parse_json(body)
        except Exception:  # refused by the view's own parsing: it answers that, uncached
            return False
        if not isinstance(data, dict):  # a batch
            return False
        query, name = data.get("query"), data.get("operationName")
        if not isinstance(query, str) or not (name is None or isinstance(name, str)):
            return False
        # Classifying parses the query text: off the event loop, like the view's own parse.
        # The request's JSON is read here, on the loop: reading may register a persisted
        # query, and that store belongs to the loop's thread.
        return await off_loop(cacheable_document, query, name)


async def _answer(entry: CachedResponse, send: Send) -> None:
    start = {"type": "http.response.start", "status": entry.status, "headers": list(entry.headers)}
    await send(start)
    await send({"type": "http.response.body", "body": entry.body})


async def read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: the view sees no body
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then whatever the connection says (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
