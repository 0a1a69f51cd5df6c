"""Builds the schema with the extensions a public deployment needs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from functools import partial
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError

from api.graphql.compiled import ValidatedDocuments
from api.graphql.prepare import limit_rule, prepare_extension
from api.graphql.schema import Mutation, Query, Subscription
from api.graphql.translation import plain_timeline_resolvers
from api.http.limits import UnstorableArguments

log = logging.getLogger("policy_timeline")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
CACHED_DOCUMENTS = 256
"""Parsed and validated documents kept per process (LRU): clients send the same few queries."""
USER_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "UNAUTHORIZED",
        "FORBIDDEN",
        "STALE",
        "NOT_FOUND",
        "RATE_LIMITED",
        "TOO_MANY_SUBSCRIPTIONS",
    }
)


def is_internal(error: GraphQLError) -> bool:
    """True for an unexpected exception in a resolver; validation and coded errors are not."""
    original = error.original_error
    if original is None:  # parse and validation errors (limits included) speak to the user
        return False
    if isinstance(original, GraphQLError):
        if error.path is None:  # raised coercing variables (e.g. an Int past 2^31), not a bug
            return False
        return (original.extensions or {}).get("code") not in USER_CODES
    return True


class MaskInternalErrors(MaskErrors):
    """Replaces internal errors with an id that is also written, with the traceback, to the log."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex[:12]
        original = error.original_error
        log.error(
            "internal error %s at %s: %r",
            error_id,
            error.path,
            original,
            exc_info=(type(original), original, original.__traceback__) if original else None,
        )
        return GraphQLError(
            f"internal error (id {error_id}); the server log has the details",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
        )


def _ignore_introspection(field: FieldNode) -> bool:
    # GraphiQL's introspection query is deeper than any data query needs to be.
    return field.name.value.startswith("__")


class PolicySchema(strawberry.Schema):
    """Logs only internal errors; refused requests and user errors are answers, not incidents."""

    @staticmethod
    def remove_field_suggestion(error: GraphQLError) -> None:
        # With suggestions off (production), none at all: enum values, arguments, types and
        # input fields too (coercing variables suggests enum values after validation).
        if "Did you mean" in error.message:
            error.message = error.message.split("Did you mean")[0].strip()

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        super().process_errors([e for e in errors if is_internal(e)], execution_context)

    async def _prepare_operation_async(
        self, context: ExecutionContext, extensions_runner: Any
    ) -> PreExecutionError | None:
        # The document threads parse inside an extension, whose syntax error Strawberry's
        # WebSocket handler would log as a crash (a bare `complete`); answer it like HTTP.
        try:
            return await super()._prepare_operation_async(context, extensions_runner)
        except GraphQLError as error:
            context.pre_execution_errors = [error]
            return PreExecutionError(data=None, errors=[error])


ExtensionFactory = type[SchemaExtension] | Callable[[], SchemaExtension]

# The depth and alias rule, made once: a new rule class per request would make every
# validation a cache miss. It measures each fragment once, so it is linear in the document.
LIMIT_RULES = (limit_rule(MAX_DEPTH, MAX_ALIASES, _ignore_introspection),)


def build_schema(
    *, production: bool = False, extra: Collection[ExtensionFactory] = ()
) -> strawberry.Schema:
    """The schema; `production` turns off introspection and field suggestions."""
    # Factories, not instances: each request gets fresh extension state. Parsing and
    # validation (with the limits) are cached per query text: their result depends on the
    # document alone, and they cost about 2 ms a request (a third of a 50-entry page). A new
    # text is parsed and validated in a worker thread, so no document stalls the event loop.
    validated = ValidatedDocuments(CACHED_DOCUMENTS)
    extensions: list[Any] = [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        prepare_extension(
            LIMIT_RULES,
            cache_size=CACHED_DOCUMENTS,
            hide_suggestions=production,
            remember=validated.remember,
        ),
        MaskInternalErrors,
        UnstorableArguments,
        *extra,
    ]
    if production:
        extensions.append(DisableIntrospection)
    schema = PolicySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=production),
    )
    plain_timeline_resolvers(schema._schema)
    schema.validated_documents = validated  # type: ignore[attr-defined]
    return schema


def schema_sdl() -> str:
    """The schema as SDL, as exported to docs/schema.graphql."""
    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    print(schema_sdl(), end="")
