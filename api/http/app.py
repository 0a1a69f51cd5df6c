"""The HTTP server: GraphQL at /graphql, /healthz, and the embeds."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from api.embed import embed_routes
from api.embed.caching import PageCache
from api.graphql.build import build_schema
from api.graphql.compiled import CompiledPath
from api.graphql.context import Context
from api.graphql.over_http import (
    GRAPHQL_RESPONSE,
    JSON,
    MEDIA_KEY,
    REQUEST_ERROR_KEY,
    errors_response,
    is_request_error,
    negotiate,
)
from api.graphql.positions import PositionWatch
from api.graphql.response_cache import (
    ERRORS_KEY,
    CacheCollector,
    CachedGraphQL,
    ResponseCache,
    read_body,
    replay,
)
from api.http import jsonbody
from api.http.cors import PublicReadCORS
from api.http.keys import KeyRing
from api.http.limits import BodySizeLimit, NoSniff, refuse_unstorable_text
from api.http.live import Live
from api.http.metrics import Metrics
from api.http.metrics_listener import MetricsListener, metrics_addr_from_env
from api.http.outage import DatabaseOutage, OutageMiddleware
from api.http.persisted import AutomaticStore, PersistedQueries, Refused
from api.http.persisted_ws import PersistedTransportWS
from api.http.public_url import PublicOrigin, PublicURL, public_url_from_env
from api.http.ratelimit import WriteRateLimit
from api.text.htmlsafe import html_safe_json, html_safe_json_bytes
from projections import settings
from projections.readmodels.worker import ProjectionWorker, start_in_thread
from projections.service import Store

log = logging.getLogger("policy_timeline")

CONTENT_TYPES = 64
"""Content-Type header values whose media type is remembered (LRU)."""
COMPILED_TRIED_KEY = "policy_timeline.compiled_tried"
"""Set in the ASGI scope once the compiled path has been asked for this request's answer."""


class PolicyGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context, persisted queries and GraphQL over HTTP."""

    graphql_transport_ws_handler_class = PersistedTransportWS

    def __init__(
        self,
        store: Store,
        keys: KeyRing,
        live: Live,
        persisted: Mapping[str, str] | None = None,
        compiled: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store, self.keys, self.live = store, keys, live
        self.persisted = PersistedQueries(persisted, AutomaticStore.from_env())
        self.write_rate = WriteRateLimit.from_env()  # per process, per key
        self.compiled: CompiledPath | None = None
        if compiled:
            self.compiled = CompiledPath(
                self.schema._schema,  # type: ignore[attr-defined]
                self.schema.validated_documents,  # type: ignore[attr-defined]
                lambda: store.read,
            )

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        # The hot timeline queries are answered from their rows by a compiled plan once their
        # text has been validated; anything else, errors included, executes the usual way.
        if self.compiled is not None and not request.scope.get(COMPILED_TRIED_KEY):
            result = await self.compiled.execute(
                request_data.query, request_data.variables, request_data.operation_name
            )
            if result is not None:
                return result
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media = negotiate(headers.get("accept", ""))
        scope[MEDIA_KEY] = media
        if self.compiled is not None and self._may_compile(scope, headers):
            body = await read_body(receive)
            receive = replay(body, receive)
            answer = await self._compiled_answer(scope, headers, body, media)
            if answer is not None:
                await answer(scope, receive, send)
                return
        try:
            response = await self.run(Request(scope, receive))
        except Refused as refused:  # a request error: 200 for application/json
            status = 400 if media == GRAPHQL_RESPONSE else 200
            response = errors_response([refused.formatted()], status, media)
        except HTTPException as exc:  # not a GraphQL request at all: its own status
            response = errors_response([{"message": exc.reason}], exc.status_code, media)
            if isinstance(exc.__cause__, InvalidOperationTypeError) and scope["method"] == "GET":
                response.status_code = 405  # a mutation over GET: the specification says 405
                response.headers["allow"] = "POST"
        else:
            if response.media_type == JSON:
                response.headers["content-type"] = media
                if scope.get(REQUEST_ERROR_KEY) and media == GRAPHQL_RESPONSE:
                    response.status_code = 400
        await response(scope, receive, send)

    def _may_compile(self, scope: Scope, headers: Headers) -> bool:
        """Whether the ordinary way would read the request's body as JSON and answer it with
        one response (not streamed): only then is its body read for the compiled path."""
        if scope["method"] != "POST":
            return False
        if "application/json" not in _media_type(headers.get("content-type", "")):
            return False
        return self._get_stream_transport_from_headers(headers) is None

    async def _compiled_answer(
        self, scope: Scope, headers: Headers, body: bytes, media: str
    ) -> Response | None:
        """The answer to a POSTed operation the compiled path gives, made without Strawberry's
        request handling (which it would only pass through), or None for the ordinary way.

        Only a request the ordinary way would read as one JSON operation (no batch, no
        streamed transport) and answer by `execute_single`: the same `parse_json` (persisted
        queries, refused text), the same members, the same encoding and headers."""
        assert self.compiled is not None
        try:
            data = self.parse_json(body)
        except Exception:  # refused: the ordinary way reads it again and answers why
            return None
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        if not isinstance(query, str) or not isinstance(variables, (dict, type(None))):
            return None
        if not isinstance(data.get("extensions"), (dict, type(None))):
            return None
        scope[COMPILED_TRIED_KEY] = True  # declined here: not tried again by execute_single
        # Spliced: a timeline's edges may come as the JSON text PostgreSQL wrote, which
        # html_safe_json_bytes takes as is and escapes with the rest of the answer.
        operation = data.get("operationName")
        result = await self.compiled.execute(query, variables, operation, spliced=True)
        if result is None:
            return None
        answer = {"data": result.data}
        try:  # what encode_json writes, made faster (the compiled path makes no floats)
            encoded = html_safe_json_bytes(answer)
        except TypeError:  # an integer beyond 64 bits: answered the ordinary way
            return None
        scope[ERRORS_KEY] = False  # as process_result marks an answer without errors
        return Response(encoded, 200, media_type=media)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET naming a persisted query has no `query` parameter, yet asks for an answer.
        named = request.query_params.get("extensions") or request.query_params.get("id")
        return not named and super().should_render_graphql_ide(request)

    def encode_json(self, data: object) -> str:
        return html_safe_json(super().encode_json(data))  # no markup from the record, ever

    def decode_json(self, data: str | bytes) -> object:
        try:
            return jsonbody.load(data, "message")
        except jsonbody.BadJson as exc:  # over WebSocket: closed 4400 as invalid JSON
            raise json.JSONDecodeError(str(exc), "", 0) from None

    def decode_request_json(self, data: str | bytes, where: str = "body") -> Any:
        """JSON a client sent over HTTP, refusing text no database can store."""
        try:  # HTTP: a 400 that says where and why, never a 500
            parsed = jsonbody.load(data, where)
        except jsonbody.BadJson as exc:
            raise HTTPException(400, str(exc)) from None
        refuse_unstorable_text(parsed, where)  # JSON may escape them; PostgreSQL cannot hold them
        return parsed

    def parse_json(self, data: str | bytes) -> Any:
        parsed = self.decode_request_json(data)
        return self.persisted.resolve(parsed) if isinstance(parsed, dict) else parsed

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        parsed: dict[str, Any] = dict(params)
        refuse_unstorable_text(parsed, "query string")
        for name in ("variables", "extensions"):
            if parsed.get(name):
                parsed[name] = self.decode_request_json(parsed[name], f"query string.{name}")
        return self.persisted.resolve(parsed)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # The response cache stores an answer only when this says it had no errors.
        request.scope[ERRORS_KEY] = bool(result.errors)
        body = await super().process_result(request, result)
        if is_request_error(result):
            request.scope[REQUEST_ERROR_KEY] = True
            if request.scope.get(MEDIA_KEY) == GRAPHQL_RESPONSE:
                body.pop("data", None)  # the execution never began: no data entry at all
        return body

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        key, key_error = None, None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            key = await asyncio.to_thread(self.keys.check, token.strip())  # a database read
            if key is None:  # refused by the mutation as UNAUTHORIZED; reads stay public
                key_error = "the API key is wrong or revoked"
        return Context(
            store=self.store,
            key=key,
            key_error=key_error,
            request=request,
            response=response,
            live=self.live,
            write_rate=self.write_rate,
        )


@functools.lru_cache(maxsize=CONTENT_TYPES)
def _media_type(content_type: str) -> str:
    """A Content-Type header's media type, as Strawberry's view reads it (its parser is
    slow: the standard library's e-mail header parsing)."""
    return parse_content_type(content_type)[0]


class PolicyApp(Starlette):
    """Starlette with `NoSniff` outside its error handler, so even a 500 carries the header."""

    def build_middleware_stack(self) -> ASGIApp:
        return NoSniff(super().build_middleware_stack())


ORIGINS_ENV = settings.env_name("allowed_origins")


def allowed_origins_from_env() -> list[str]:
    """Origins (comma-separated in POLICY_TIMELINE_ALLOWED_ORIGINS) whose pages may subscribe."""
    return list(settings.current().allowed_origins)


def create_app(
    store: Store,
    *,
    production: bool = False,
    persisted: Mapping[str, str] | None = None,
    allowed_origins: Sequence[str] | None = None,
    run_worker: bool = False,
    response_cache: ResponseCache | None = None,
    public_url: PublicURL | None = None,
    metrics_addr: tuple[str, int] | None = None,
    compiled: bool = True,
    embed_pages: PageCache | None = None,
) -> Starlette:
    """The ASGI application serving one store; `persisted` turns on allow-list mode.

    `public_url` is the base of every absolute URL it emits (and the only Host it answers);
    without it, the address the server is bound to. `/metrics` is served on `metrics_addr`
    when given (started with the application), else on the public port unless `production`.

    `run_worker` (PostgreSQL) runs a projection worker in the process: the first one to
    take the projection lock projects, the others wait as hot standby. `response_cache`
    defaults to one bounded by POLICY_TIMELINE_RESPONSE_CACHE_ENTRIES and ..._BYTES;
    `embed_pages` keeps rendered embed pages (default: 256 pages, 16 MiB)."""
    # 'ok' or 'at risk: …', judged now (a risk is logged as the server starts).
    durability = store.durability
    keys = KeyRing(store.engine)
    metrics = Metrics(store)
    live = Live(store)
    graphql = PolicyGraphQL(
        store,
        keys,
        live,
        persisted=persisted,
        compiled=compiled,
        schema=build_schema(
            production=production,
            extra=[DatabaseOutage],
        ),
        graphql_ide=None if production else "graphiql",
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        allowed_origins=allowed_origins_from_env() if allowed_origins is None else allowed_origins,
    )

    cache = ResponseCache.from_env() if response_cache is None else response_cache
    metrics.registry.register(CacheCollector(cache))
    watch = PositionWatch.for_store(store)
    cached = CachedGraphQL(graphql, cache, watch)

    workers: list[tuple[ProjectionWorker, threading.Event]] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if metrics_addr is not None:
            app.state.metrics_listener = MetricsListener(metrics.registry, metrics_addr)
            app.state.metrics_listener.start()
        if run_worker and store.dialect == "postgresql":
            workers.append(start_in_thread(store))
        # What start-up allocated (schema, templates, pools) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise dominate slow requests.
        gc.freeze()
        yield
        for _worker, stop in workers:
            stop.set()
        watch.close()
        if graphql.compiled is not None:
            graphql.compiled.close()  # the connections it read with on the event loop
        if metrics_addr is not None:
            app.state.metrics_listener.stop()

    async def healthz(_: Request) -> Response:
        try:
            # Database reads: in a thread, so a slow database never stalls the event loop.
            head = await asyncio.to_thread(store.head)
            applied = await asyncio.to_thread(store.read_position)
        except Exception:  # the database is unreachable: say so, without a traceback
            log.exception("health check failed")
            return JSONResponse({"ok": False, "error": "database unavailable"}, status_code=503)
        body: dict[str, Any] = {
            "ok": True,
            "head": head,
            "projected": applied,
            "lag": head - applied,
            "durability": durability,
        }
        if workers:
            body["worker"] = "active" if workers[0][0].state.active else "standby"
        return JSONResponse(body)

    routes = [
        Route("/graphql", cached, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
    ]
    if metrics_addr is None and not production:  # in production, never on the public port
        routes.append(Route("/metrics", metrics.view))
    routes += embed_routes(store, embed_pages)
    app = PolicyApp(routes=routes, lifespan=lifespan)
    app.state.store = store
    app.state.live = live  # subscribers are visible to health checks and tests
    app.state.response_cache = cache
    app.state.position_watch = watch
    app.state.graphql = graphql
    app.add_middleware(BodySizeLimit, path="/graphql")
    app.add_middleware(OutageMiddleware)
    app.add_middleware(PublicReadCORS)
    app.add_middleware(PublicOrigin, public=public_url)
    app.add_middleware(metrics.middleware)
    return app


def app_from_env() -> Starlette:
    """The application as `serve --workers N` starts it in each process (configured by env)."""

    from api.http.limits import load_persisted

    # `serve` migrated the store and rebuilt stale projections before starting the processes.
    chosen = settings.current()
    store = Store(chosen.db, project_inline=False, read_url=chosen.read_db)
    persisted_file = chosen.persisted_queries
    return create_app(
        store,
        production=chosen.production,
        persisted=load_persisted(persisted_file) if persisted_file else None,
        run_worker=chosen.embedded_worker,
        public_url=public_url_from_env(),
        metrics_addr=metrics_addr_from_env(),
    )
