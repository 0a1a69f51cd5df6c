"""CORS for the public reads: other sites' pages may read them, and nothing else."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http import jsonbody

READ_PATHS = frozenset({"/timelinejs.json", "/oembed", "/graphql"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
ALLOWED_HEADERS = (
    "accept, content-type, if-none-match, apollo-require-preflight, "
    "apollographql-client-name, apollographql-client-version, x-apollo-operation-name"
)
"""What a reading client may send; not Authorization: keys are for writes, never cross-origin."""
MAX_AGE = "86400"
_GRANT = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"etag"),
]


class PublicReadCORS:
    """`Access-Control-Allow-Origin: *` on GETs of /timelinejs.json, /oembed and of persisted
    GraphQL queries, with preflight answers; any other cross-origin request is not granted.

    No credentials are ever allowed (the grant is `*`), so a page on another site can read
    what any anonymous reader can, and cannot write: mutations are POSTs, never granted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in READ_PATHS:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        headers = Headers(scope=scope)
        if method == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(headers)(scope, receive, send)
            return
        if method not in SAFE_METHODS or not _granted(scope):
            await self.app(scope, receive, send)
            return

        async def granting(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not k.lower().startswith(b"access-control-")
                ]
                message = {**message, "headers": [*kept, *_GRANT]}
            await send(message)

        await self.app(scope, receive, granting)

    def _preflight(self, headers: Headers) -> Response:
        if headers["access-control-request-method"].upper() not in SAFE_METHODS:
            return PlainTextResponse(
                "cross-origin requests may only read (GET); writes come from no other site",
                status_code=403,
            )
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, HEAD",
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": MAX_AGE,
            },
        )


def _granted(scope: Scope) -> bool:
    """Every read path is granted; /graphql only for a GET naming a persisted query."""
    if scope["path"] != "/graphql":
        return True
    params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    if params.get("id"):
        return True
    try:
        extensions = jsonbody.load(params.get("extensions") or "null", "extensions")
    except jsonbody.BadJson:
        return False  # the view answers it, unreadable from other sites
    return isinstance(extensions, dict) and isinstance(extensions.get("persistedQuery"), dict)
