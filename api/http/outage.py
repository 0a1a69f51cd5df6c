"""Database outages answer 503 with a clear message, never a traceback or a masked 500."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
from graphql import GraphQLError
from sqlalchemy import exc
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

log = logging.getLogger("policy_timeline")

MESSAGE = (
    "the database is unavailable; retry later (a retried write with the same id is stored once)"
)
CODE = "SERVICE_UNAVAILABLE"
_FLAG = "policy_timeline_database_unavailable"

_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database")
_PG_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def _transient(error: BaseException) -> bool:
    """A driver error meaning the database cannot be reached now (not a bug in a query)."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        state = error.sqlstate
        return state is None or state.startswith(_PG_UNAVAILABLE_STATES)
    if isinstance(error, sqlite3.OperationalError):
        return str(error).startswith(_SQLITE_TRANSIENT)
    return False


def is_unavailable(error: BaseException | None) -> bool:
    """True when `error`, or an error it was raised from, says the database cannot be reached."""
    seen = 0
    while error is not None and seen < 10:
        if _transient(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


class DatabaseOutage(SchemaExtension):
    """Turns resolver errors caused by an unreachable database into SERVICE_UNAVAILABLE."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors:
            return
        replaced = []
        for error in errors:
            if is_unavailable(error.original_error):
                log.warning("database unavailable at %s: %s", error.path, error.original_error)
                error = GraphQLError(
                    MESSAGE,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions={"code": CODE},
                )
                _mark(self.execution_context.context)
            replaced.append(error)
        result.errors = replaced  # type: ignore[union-attr]


def _mark(context: Any) -> None:
    """Remember on the request that the answer must be a 503."""
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    if isinstance(scope, dict):
        scope.setdefault("state", {})[_FLAG] = True


class OutageMiddleware:
    """503 for requests that met an unreachable database, JSON for non-GraphQL routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_503_if_flagged(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if scope.get("state", {}).get(_FLAG):
                    message = {**message, "status": 503, "headers": _retry_after(message)}
            await send(message)

        try:
            await self.app(scope, receive, send_503_if_flagged)
        except Exception as error:
            if started or not is_unavailable(error):
                raise
            log.warning("database unavailable at %s: %s", scope.get("path"), error)
            response = JSONResponse(
                {"errors": [{"message": MESSAGE, "extensions": {"code": CODE}}]},
                status_code=503,
                headers={"Retry-After": "5"},
            )
            await response(scope, receive, send)


def _retry_after(message: Message) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"retry-after"]
    return [*headers, (b"retry-after", b"5")]
