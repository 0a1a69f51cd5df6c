"""The HTTP server: GraphQL at /graphql, /healthz, and the embeds."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.embed import embed_routes
from api.graphql.build import build_schema
from api.graphql.context import Context
from api.keys import KeyRing
from api.limits import BodySizeLimit, persisted_only, resolve_persisted
from api.live import Live
from projections.service import Store

log = logging.getLogger("policy_timeline")


class PolicyGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context: the store and the caller's key."""

    def __init__(
        self,
        store: Store,
        keys: KeyRing,
        live: Live,
        persisted: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store, self.keys, self.live = store, keys, live
        self.persisted = persisted

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if self.persisted is not None and isinstance(parsed, dict):
            return resolve_persisted(parsed, self.persisted)
        return parsed

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        parsed = super().parse_query_params(params)
        if self.persisted is not None:
            return resolve_persisted(parsed, self.persisted)
        return parsed

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        key, key_error = None, None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            key = self.keys.check(token.strip())
            if key is None:  # refused by the mutation as UNAUTHORIZED; reads stay public
                key_error = "the API key is wrong or revoked"
        ctx = Context(store=self.store, key=key, request=request, key_error=key_error)
        ctx.live = self.live  # type: ignore[attr-defined]
        return ctx


ORIGINS_ENV = "POLICY_TIMELINE_ALLOWED_ORIGINS"


def allowed_origins_from_env() -> list[str]:
    """Origins (comma-separated in POLICY_TIMELINE_ALLOWED_ORIGINS) whose pages may subscribe."""
    return [o.strip() for o in os.environ.get(ORIGINS_ENV, "").split(",") if o.strip()]


def create_app(
    store: Store,
    *,
    production: bool = False,
    persisted: Mapping[str, str] | None = None,
    allowed_origins: Sequence[str] | None = None,
) -> Starlette:
    """The ASGI application serving one store; `persisted` turns on allow-list mode."""
    keys = KeyRing(store.engine)
    live = Live(store)
    graphql = PolicyGraphQL(
        store,
        keys,
        live,
        persisted=persisted,
        schema=build_schema(
            production=production,
            extra=[] if persisted is None else [persisted_only(persisted)],
        ),
        graphql_ide=None if production else "graphiql",
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
        allowed_origins=allowed_origins_from_env() if allowed_origins is None else allowed_origins,
    )

    async def healthz(_: Request) -> Response:
        try:
            head = store.head()
            applied = store.projector.position()
        except Exception:  # the database is unreachable: say so, without a traceback
            log.exception("health check failed")
            return JSONResponse({"ok": False, "error": "database unavailable"}, status_code=503)
        return JSONResponse({"ok": True, "head": head, "projected": applied, "lag": head - applied})

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
    ]
    routes += embed_routes(store)
    app = Starlette(routes=routes)
    app.state.store = store
    app.state.live = live  # subscribers are visible to health checks and tests
    app.add_middleware(BodySizeLimit, path="/graphql")
    return app
