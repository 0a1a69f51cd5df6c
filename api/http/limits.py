"""Request limits outside GraphQL itself: body size, the persisted-query registry file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

MAX_BODY_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Answers 413 to an HTTP request whose body on the given path exceeds `limit` bytes, and
    closes a WebSocket there (code 1009) on a message over the same limit."""

    def __init__(self, app: ASGIApp, path: str = "/graphql", limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.path, self.limit = app, path, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await self.app(scope, self._capped_messages(receive, send), send)
            return
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:  # chunked bodies carry no Content-Length
                raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    def _capped_messages(self, receive: Receive, send: Send) -> Receive:
        """`receive` for a WebSocket: a message over the limit closes it with 1009."""

        async def capped() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                text, data = message.get("text"), message.get("bytes")
                size = len(text.encode()) if text is not None else len(data or b"")
                if size > self.limit:
                    reason = f"message too large: the limit is {self.limit} bytes"
                    await send({"type": "websocket.close", "code": 1009, "reason": reason})
                    return {"type": "websocket.disconnect", "code": 1009}
            return message

        return capped

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"request body too large: the limit is {self.limit} bytes"
        response = JSONResponse({"errors": [{"message": message}]}, status_code=413)
        await response(scope, receive, send)


class NoSniff:
    """Adds `X-Content-Type-Options: nosniff` to every HTTP response: no answer is sniffed
    into another media type (a JSON error rendered as HTML, say)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != NOSNIFF[0]]
                message = {**message, "headers": [*headers, NOSNIFF]}
            await send(message)

        await self.app(scope, receive, sending)


NOSNIFF = (b"x-content-type-options", b"nosniff")


def query_hash(query: str) -> str:
    """The registry key of a query: the hex SHA-256 of its exact text."""
    return hashlib.sha256(query.encode()).hexdigest()


def load_persisted(path: Path) -> dict[str, str]:
    """A registry file {sha256: query}; every hash must match its query."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{sha256: query}}")
    for key, query in data.items():
        if not isinstance(query, str) or query_hash(query) != key:
            raise ValueError(f"{path}: entry {key!r} is not the sha256 of its query text")
    return data


def refuse_unstorable_text(value: Any, where: str = "body") -> None:
    """HTTP 400 naming where a NUL or a lone UTF-16 surrogate is: no database can store them."""
    if isinstance(value, str):
        if "\x00" in value:
            raise HTTPException(
                400, f"{where}: a NUL character at character {value.index(chr(0))} is not allowed"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise HTTPException(
                400,
                f"{where}: a lone surrogate {value[exc.start]!r} at character {exc.start} "
                "is not valid Unicode text",
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable_text(key, where)
            refuse_unstorable_text(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_unstorable_text(item, f"{where}.{index}")


def _unstorable(value: Any) -> str | None:
    """Why a string argument can never match stored text, or None."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "a NUL character is not allowed"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate is not valid Unicode text"
    return None


class UnstorableArguments(SchemaExtension):
    """Refuses string arguments no database can hold (NUL, lone surrogates) as BAD_USER_INPUT.

    Checked once per operation, before it executes, over every argument of every field and
    directive the selected operation (with its fragments) contains, literals and variables
    alike: one such argument refuses the whole operation. Wrapping each field's resolver
    instead would cost a call per field of every answer."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            problem = unstorable_in_operation(
                document, context.operation_name, context.variables or {}
            )
            if problem is not None:
                from graphql import GraphQLError

                raise GraphQLError(problem, extensions={"code": "BAD_USER_INPUT"})
        yield


def unstorable_in_operation(
    document: Any, operation_name: str | None, variables: Mapping[str, Any]
) -> str | None:
    """'name: reason' for the first argument of the operation no database can store."""
    found = _operation(document, operation_name)
    if found is None:
        return None  # graphql-core refuses the request itself
    operation, fragments, defaults = found
    walk = _ArgumentWalk(fragments, variables, defaults)
    return walk.selections(operation)


def _operation(
    document: Any, operation_name: str | None
) -> tuple[Any, dict[str, Any], dict[str, Any]] | None:
    """The operation `operation_name` names (or the only one), the document's fragments by
    name and the operation's variables' defaults; None when no single operation is named."""
    from graphql import FragmentDefinitionNode, OperationDefinitionNode

    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name is not None and o.name.value == operation_name)
    ]
    if len(chosen) != 1:
        return None
    operation = chosen[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        d.variable.name.value: d.default_value
        for d in operation.variable_definitions or ()
        if d.default_value is not None
    }
    return operation, fragments, defaults


class _ArgumentWalk:
    def __init__(
        self,
        fragments: Mapping[str, Any],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
    ) -> None:
        self.fragments, self.variables, self.defaults = fragments, variables, defaults
        self.seen: set[str] = set()

    def selections(self, node: Any) -> str | None:
        for directive in getattr(node, "directives", None) or ():
            if (found := self.arguments(directive)) is not None:
                return found
        if (found := self.arguments(node)) is not None:
            return found
        kind = node.kind
        if kind == "fragment_spread":
            name = node.name.value
            fragment = self.fragments.get(name)
            if name in self.seen or fragment is None:
                return None
            self.seen.add(name)
            return self.selections(fragment)
        selection_set = getattr(node, "selection_set", None)
        for child in selection_set.selections if selection_set is not None else ():
            if (found := self.selections(child)) is not None:
                return found
        return None

    def arguments(self, node: Any) -> str | None:
        for argument in getattr(node, "arguments", None) or ():
            reason = self.value(argument.value)
            if reason is not None:
                return f"{argument.name.value}: {reason}"
        return None

    def value(self, node: Any) -> str | None:
        kind = node.kind
        if kind == "string_value":
            return _unstorable(node.value)
        if kind == "variable":
            name = node.name.value
            if name in self.variables:
                return _unstorable_anywhere(self.variables[name])
            default = self.defaults.get(name)
            return None if default is None else self.value(default)
        if kind == "list_value":
            return next((r for r in map(self.value, node.values) if r is not None), None)
        if kind == "object_value":
            return next((r for f in node.fields if (r := self.value(f.value)) is not None), None)
        return None


def _unstorable_anywhere(value: Any) -> str | None:
    """Why a variable's value (any JSON) holds text no database can store, or None."""
    if isinstance(value, str):
        return _unstorable(value)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        if (reason := _unstorable_anywhere(item)) is not None:
            return reason
    return None


class ArgumentCheck:
    """`unstorable_in_operation(document, operation_name, variables) is not None`, with the
    document walked once: whether a literal argument holds unstorable text, and which
    variables the arguments use (with whether each one's default does). For a path that
    answers the same operation text many times and needs only the yes or no."""

    def __init__(self, document: Any, operation_name: str | None) -> None:
        self.literal = False
        self.variables: dict[str, bool] = {}
        """Each variable an argument uses: whether its default (when not sent) is refused."""
        found = _operation(document, operation_name)
        if found is None:
            return  # graphql-core refuses the request itself
        operation, fragments, defaults = found
        self._defaults = _ArgumentWalk(fragments, {}, defaults)
        self._seen: set[str] = set()
        self._fragments = fragments
        self._selections(operation)
        del self._defaults, self._seen, self._fragments

    def refuses(self, variables: Mapping[str, Any]) -> bool:
        """Whether the operation with these variables has an argument no database can store."""
        if self.literal:
            return True
        for name, default_refused in self.variables.items():
            if name in variables:
                if _unstorable_anywhere(variables[name]) is not None:
                    return True
            elif default_refused:
                return True
        return False

    def _selections(self, node: Any) -> None:
        for directive in getattr(node, "directives", None) or ():
            self._arguments(directive)
        self._arguments(node)
        if node.kind == "fragment_spread":
            name = node.name.value
            fragment = self._fragments.get(name)
            if name in self._seen or fragment is None:
                return
            self._seen.add(name)
            self._selections(fragment)
            return
        selection_set = getattr(node, "selection_set", None)
        for child in selection_set.selections if selection_set is not None else ():
            self._selections(child)

    def _arguments(self, node: Any) -> None:
        for argument in getattr(node, "arguments", None) or ():
            self._value(argument.value)

    def _value(self, node: Any) -> None:
        kind = node.kind
        if kind == "string_value":
            self.literal = self.literal or _unstorable(node.value) is not None
        elif kind == "variable":
            name = node.name.value
            if name not in self.variables:  # its default, as the walk reads it when not sent
                self.variables[name] = self._defaults.value(node) is not None
        elif kind == "list_value":
            for item in node.values:
                self._value(item)
        elif kind == "object_value":
            for field in node.fields:
                self._value(field.value)
