"""The HTTP server: GraphQL at /graphql, /healthz, and the embeds."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.graphql.build import build_schema
from api.graphql.context import Context
from api.keys import KeyRing
from api.live import Live
from projections.service import Store

log = logging.getLogger("policy_timeline")


class PolicyGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with our context: the store and the caller's key."""

    def __init__(self, store: Store, keys: KeyRing, live: Live, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store, self.keys, self.live = store, keys, live

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        key = None
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token:
            key = self.keys.check(token.strip())
            if key is None:
                from api.graphql.errors import coded

                raise coded("the API key is wrong or revoked", "UNAUTHORIZED")
        ctx = Context(store=self.store, key=key, request=request)
        ctx.live = self.live  # type: ignore[attr-defined]
        return ctx


def create_app(store: Store, *, production: bool = False) -> Starlette:
    """The ASGI application serving one store."""
    keys = KeyRing(store.engine)
    live = Live(store)
    graphql = PolicyGraphQL(
        store,
        keys,
        live,
        schema=build_schema(production=production),
        graphql_ide=None if production else "graphiql",
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
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
    app = Starlette(routes=routes)
    app.state.store = store
    return app
