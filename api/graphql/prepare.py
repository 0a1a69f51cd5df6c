"""Parsing and validation in time linear in the document, off the event loop, cached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    parse,
    validate,
)
from graphql.language import FloatValueNode, IntValueNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

MAX_NUMBER_CHARS = 40
"""Longest number literal in a document: GraphQL numbers are 32-bit integers and doubles."""
PREPARE_THREADS = 2
"""Threads checking new documents; requests beyond them wait their turn, off the event loop."""

T = TypeVar("T")
STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)
_executor = ThreadPoolExecutor(max_workers=PREPARE_THREADS, thread_name_prefix="graphql-prepare")


async def off_loop(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in one of the PREPARE_THREADS document threads, awaited."""
    return await asyncio.get_running_loop().run_in_executor(_executor, function, *args)


class _Measure:
    """Depth and alias count of selection sets, each fragment measured once (memoized)."""

    def __init__(self, document: DocumentNode, ignore: Callable[[FieldNode], bool]) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.ignore = ignore
        self.memo: dict[str, tuple[int, int]] = {}

    def selections(self, selection_set: SelectionSetNode | None) -> tuple[int, int]:
        """(depth, aliases) of a selection set: its deepest field chain and every alias in it,
        fragments expanded as often as they are spread (counted, not walked)."""
        depth = aliases = 0
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                inner, inner_aliases = self.selections(selection.selection_set)
                aliases += inner_aliases + (selection.alias is not None)
                if selection.selection_set is not None and not self.ignore(selection):
                    depth = max(depth, 1 + inner)
            elif isinstance(selection, InlineFragmentNode):
                inner, inner_aliases = self.selections(selection.selection_set)
                depth, aliases = max(depth, inner), aliases + inner_aliases
            elif isinstance(selection, FragmentSpreadNode):
                inner, inner_aliases = self.fragment(selection.name.value)
                depth, aliases = max(depth, inner), aliases + inner_aliases
        return depth, aliases

    def fragment(self, name: str) -> tuple[int, int]:
        if name not in self.memo:
            self.memo[name] = (0, 0)  # a cycle counts once; NoFragmentCyclesRule refuses it
            fragment = self.fragments.get(name)
            if fragment is not None:
                self.memo[name] = self.selections(fragment.selection_set)
        return self.memo[name]


def limit_rule(
    max_depth: int, max_aliases: int, ignore: Callable[[FieldNode], bool]
) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than `max_depth` or a document with more
    than `max_aliases` aliases, fragments included: linear in the document's size."""

    class LimitRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure = _Measure(context.document, ignore)
            total = 0
            try:
                for definition in context.document.definitions:
                    if not isinstance(definition, OperationDefinitionNode):
                        continue
                    depth, aliases = measure.selections(definition.selection_set)
                    total += aliases
                    if depth > max_depth:
                        name = definition.name.value if definition.name else "anonymous"
                        context.report_error(
                            GraphQLError(
                                f"'{name}' exceeds maximum operation depth of {max_depth}",
                                definition,
                            )
                        )
            except RecursionError:  # fragments spreading fragments thousands of levels down
                context.report_error(GraphQLError("the document nests too deeply to check"))
                return
            if total > max_aliases:
                context.report_error(GraphQLError(f"{total} aliases found. Allowed: {max_aliases}"))

    return LimitRule


class NumberLiteralRule(ValidationRule):
    """Refuses a number literal longer than any GraphQL scalar needs, before graphql-core's
    own rules convert it (int() of thousands of digits is slow, then fails obscurely)."""

    def enter_int_value(self, node: IntValueNode, *_: Any) -> None:
        self._check(node)

    def enter_float_value(self, node: FloatValueNode, *_: Any) -> None:
        self._check(node)

    def _check(self, node: IntValueNode | FloatValueNode) -> None:
        if len(node.value) > MAX_NUMBER_CHARS:
            message = f"a number of {len(node.value)} characters; the limit is {MAX_NUMBER_CHARS}"
            self.report_error(GraphQLError(message, node, extensions={"code": "BAD_USER_INPUT"}))


Prepared = tuple[DocumentNode, list[GraphQLError]]


def _prepare(
    schema: GraphQLSchema,
    query: str,
    parse_options: dict[str, Any],
    rules: Sequence[type[ValidationRule]],
    hide_suggestions: bool,
) -> Prepared:
    """Parse and validate (runs in a worker thread); a syntax error is raised."""
    document = parse(query, **parse_options)
    number_errors = validate(schema, document, (NumberLiteralRule,))
    if number_errors:
        return document, number_errors
    return document, validate(schema, document, rules, hide_suggestions=hide_suggestions)


def prepare_extension(
    rules: Sequence[type[ValidationRule]],
    *,
    cache_size: int,
    hide_suggestions: bool,
    remember: Callable[[str, DocumentNode], None] | None = None,
) -> type[SchemaExtension]:
    """An extension that parses and validates each new query text in a worker thread, with
    `rules` first, then those of the request (graphql-core's, introspection's) and
    Strawberry's own, and keeps the last `cache_size` results; `remember` is told each text
    that passed them all (the compiled execution path answers only those)."""
    cache: LRUCache[tuple[Any, ...], Prepared] = LRUCache(cache_size)

    class PrepareOffLoop(SchemaExtension):
        async def on_parse(self) -> AsyncIterator[None]:
            context = self.execution_context
            all_rules = (*rules, *context.validation_rules, *STRAWBERRY_RULES)
            key = (context.query, tuple(sorted(context.parse_options.items())), all_rules)
            prepared = cache.get(key)
            if prepared is None:
                prepared = await off_loop(
                    _prepare,
                    context.schema._schema,
                    context.query or "",
                    dict(context.parse_options),
                    all_rules,
                    hide_suggestions,
                )
                cache[key] = prepared
                if remember is not None and not prepared[1] and context.query:
                    remember(context.query, prepared[0])
            context.graphql_document, self.errors = prepared
            yield

        async def on_validate(self) -> AsyncIterator[None]:
            self.execution_context.pre_execution_errors = list(self.errors)
            yield

    return PrepareOffLoop
