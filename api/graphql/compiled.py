"""A compiled execution path for the hot queries: timelines built straight from their rows.

graphql-core executes a 50-entry timeline page field by field: a resolver call and a type
completion for each of about 700 values, which costs more than reading the page. This module
answers the operations it covers without that: the document is the one already parsed and
validated (cached by its text), the fields a request selects are collected once per level
with graphql-core's own `collect_fields` (fragments, `@include`/`@skip`, variables, aliases,
merged selections), their arguments coerced by graphql-core's `get_argument_values`, and
every entry of the page is made by one list of (response key, getter) pairs built for that
selection, reading the read model's documents directly.

It covers queries whose top-level fields are `countryTimeline`, `weaponTimeline` and
`__typename`, with any selection of the connection, edges, page info, entries, their dates
and weapons; text in another language (`headline(lang:)`, `scope(lang:)` with a language) and
`minPosition` are left to ordinary execution. Anything else (other fields, introspection,
mutations, subscriptions, a document not yet validated) returns None and the caller executes
the operation the ordinary way, as it does whenever anything here raises: every error,
refused argument and limit is reported by ordinary execution, so errors are always exactly
its errors. `tests/test_compiled_properties.py` compares both paths' answers byte for byte.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import threading
from collections.abc import Callable
from enum import Enum
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from strawberry.types import ExecutionResult

from api.graphql.sources import parse_datetime
from api.graphql.types import TimelineRole
from api.http.limits import unstorable_in_operation
from api.text.display import display_edtf
from domain.dates import FuzzyDate
from domain.values import Action, Certainty, DecisionStatus
from projections.readmodels.arguments import check_category, check_country, check_record
from projections.readmodels.queries import Page

PLANS = 256
"""Operations whose coverage is remembered (LRU), as many as the documents validated."""

COVERED: dict[str, frozenset[str]] = {
    "Query": frozenset({"countryTimeline", "weaponTimeline", "__typename"}),
    "TimelineConnection": frozenset({"edges", "pageInfo", "__typename"}),
    "TimelineEdge": frozenset({"cursor", "node", "__typename"}),
    "PageInfo": frozenset(
        {"hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"}
    ),
    "TimelineEntry": frozenset(
        {
            "decisionId",
            "certainty",
            "action",
            "actor",
            "recipient",
            "treaty",
            "weapons",
            "date",
            "role",
            "status",
            "position",
            "recordedAt",
            "headline",
            "scope",
            "__typename",
        }
    ),
    "FuzzyDate": frozenset(
        {"edtf", "precision", "earliest", "latest", "uncertain", "approximate", "display"}
        | {"__typename"}
    ),
    "WeaponRef": frozenset({"system", "category", "__typename"}),
}
"""The (type, field) pairs the planner answers; any other field sends the operation to
ordinary execution."""

INT_RANGE = range(-(2**31), 2**31)
DATES = 65_536
"""Dates whose fields are kept serialized (LRU), as many as the EDTF parser keeps."""


class NotCovered(Exception):
    """This request is for ordinary execution (a field, an argument or a value not covered)."""


Run = Executor[Any]
Getter = Callable[[Any], Any]
Plan = list[tuple[str, Getter]]


class ValidatedDocuments:
    """Query texts that parsed and passed every validation rule of ordinary execution, with
    their documents: the last `size` (LRU). Filled by the schema's prepare extension."""

    def __init__(self, size: int = PLANS) -> None:
        self.size = size
        self.documents: LRUCache[str, DocumentNode] = LRUCache(size)
        self._lock = threading.Lock()  # remembered by validation threads, read by the loop

    def remember(self, query: str, document: DocumentNode) -> None:
        with self._lock:
            self.documents[query] = document

    def get(self, query: str) -> DocumentNode | None:
        with self._lock:
            return self.documents.get(query)


class CompiledPath:
    """Answers covered operations of documents ordinary execution has already validated."""

    def __init__(
        self, schema: GraphQLSchema, validated: ValidatedDocuments, read: Callable[[], Any]
    ) -> None:
        self.schema = schema
        self.read = read  # the read model (store.read), looked up per request
        self.validated = validated
        # Whether the planner covers an operation, by its text and name (not by the document
        # object, whose id a later document may reuse once it is dropped).
        self.covered: LRUCache[tuple[str, str | None], bool] = LRUCache(PLANS)
        self.answered = self.declined = 0
        query = schema.query_type
        assert query is not None
        self.query_type = query

    async def execute(
        self, query: str | None, variables: dict[str, Any] | None, operation_name: str | None
    ) -> ExecutionResult | None:
        """The operation's answer, or None for ordinary execution to give it."""
        # The request's members are whatever JSON the client sent (an object as
        # operationName, a list as variables): anything but their expected types is for
        # ordinary execution to refuse.
        if not (
            isinstance(query, str)
            and (operation_name is None or isinstance(operation_name, str))
            and (variables is None or isinstance(variables, dict))
        ):
            self.declined += 1
            return None
        document = self.validated.get(query)
        if document is None or not self._covers(query, document, operation_name):
            self.declined += 1
            return None
        try:
            result = await asyncio.to_thread(self._run, document, variables, operation_name)
        except Exception:  # anything at all: ordinary execution answers, errors included
            result = None
        if result is None:
            self.declined += 1
            return None
        self.answered += 1
        return ExecutionResult(data=result, errors=None)

    def _covers(self, query: str, document: DocumentNode, operation_name: str | None) -> bool:
        key = (query, operation_name)
        known = self.covered.get(key)
        if known is None:
            known = _covers(self.schema, document, operation_name)
            self.covered[key] = known
        return known

    def _run(
        self, document: DocumentNode, variables: dict[str, Any] | None, operation_name: str | None
    ) -> dict[str, Any] | None:
        """The data of the answer (in a worker thread), or None when not covered."""
        if unstorable_in_operation(document, operation_name, variables or {}) is not None:
            return None
        executor = Executor.build(
            self.schema,
            document,
            raw_variable_values=variables or {},
            operation_name=operation_name,
        )
        if isinstance(executor, list):  # variables refused: ordinary execution says why
            return None
        operation = executor.operation
        if operation.operation is not OperationType.QUERY:
            return None
        collected = collect_fields(
            self.schema,
            executor.fragments,
            executor.variable_values,
            self.query_type,
            operation,
        )
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return None
        try:
            return self._root(executor, collected.grouped_field_set)
        except NotCovered:
            return None

    def _root(self, executor: Run, fields: dict[str, FieldDetailsList]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, details in fields.items():
            name = details[0].node.name.value
            if name == "__typename":
                data[key] = self.query_type.name
                continue
            field = self.query_type.fields[name]
            args = get_argument_values(
                field,
                details[0].node,
                executor.variable_values,
                details[0].fragment_variable_values,
            )
            if args.get("minPosition") is not None:
                raise NotCovered("minPosition waits for the projections")
            if name == "countryTimeline":
                check_country("country", args["country"])
                kind, ident = "country", args["country"]
            else:
                system, category = args.get("system"), args.get("category")
                if (system is None) == (category is None):
                    raise NotCovered("the resolver refuses it")
                # As the resolver does: an unknown weapon or category is refused (raises).
                if system is not None:
                    check_record(self.read(), "weapon", "system", system)
                    kind, ident = "system", system
                else:
                    check_category(self.read(), "category", str(category))
                    kind, ident = "category", category
            actions = args.get("actions")
            first = args.get("first")
            page: Page = self.read().timeline(
                kind,
                str(ident),
                first=20 if first is None else first,
                after=args.get("after"),
                from_=args.get("from"),
                to=args.get("to"),
                actions=None if actions is None else [_enum_value(a) for a in actions],
                include_retracted=bool(args.get("includeRetracted")),
                as_of=args.get("asOf"),
            )
            data[key] = self._connection(executor, field.type, details, page)
        return data

    def _sub(self, executor: Run, type_: Any, details: FieldDetailsList) -> tuple[
        GraphQLObjectType, dict[str, FieldDetailsList]
    ]:  # fmt: skip
        named = get_named_type(type_)
        assert isinstance(named, GraphQLObjectType)
        collected = collect_subfields(
            self.schema, executor.fragments, executor.variable_values, executor.operation,
            named, details,
        )  # fmt: skip
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise NotCovered("@defer")
        return named, collected.grouped_field_set

    def _connection(
        self, executor: Run, type_: Any, details: FieldDetailsList, page: Page
    ) -> dict[str, Any]:
        named, fields = self._sub(executor, type_, details)
        out: dict[str, Any] = {}
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                out[key] = named.name
            elif name == "edges":
                out[key] = self._edges(executor, named.fields[name].type, inner, page)
            else:  # pageInfo
                out[key] = self._page_info(executor, named.fields[name].type, inner, page)
        return out

    def _page_info(
        self, executor: Run, type_: Any, details: FieldDetailsList, page: Page
    ) -> dict[str, Any]:
        named, fields = self._sub(executor, type_, details)
        values = {
            "__typename": named.name,
            "hasNextPage": page.has_next,
            "hasPreviousPage": page.has_previous,
            "startCursor": page.cursors[0] if page.cursors else None,
            "endCursor": page.cursors[-1] if page.cursors else None,
        }
        return {key: values[inner[0].node.name.value] for key, inner in fields.items()}

    def _edges(
        self, executor: Run, type_: Any, details: FieldDetailsList, page: Page
    ) -> list[dict[str, Any]]:
        named, fields = self._sub(executor, type_, details)
        plan: list[tuple[str, Getter]] = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                plan.append((key, _constant(named.name)))
            elif name == "cursor":
                plan.append((key, _item(0)))
            else:  # node
                node_plan = self._entry_plan(executor, named.fields[name].type, inner)
                plan.append((key, _nested(_item(1), node_plan)))
        return [
            {key: get(pair) for key, get in plan}
            for pair in zip(page.cursors, page.entries, strict=False)
        ]

    def _entry_plan(self, executor: Run, type_: Any, details: FieldDetailsList) -> Plan:
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            field = named.fields.get(name)
            if name == "__typename":
                plan.append((key, _constant(named.name)))
            elif name in ("headline", "scope"):
                assert field is not None
                args = get_argument_values(
                    field,
                    inner[0].node,
                    executor.variable_values,
                    inner[0].fragment_variable_values,
                )
                if args.get("lang") is not None:
                    raise NotCovered("a translation is read by the ordinary resolver")
                plan.append((key, _text(name, nullable=name == "scope")))
            elif name == "weapons":
                assert field is not None
                weapon_plan = self._leaf_plan(executor, field.type, inner, _WEAPON)
                plan.append((key, _weapons(weapon_plan)))
            elif name == "date":
                assert field is not None
                plan.append((key, self._date_getter(executor, field.type, inner)))
            else:
                plan.append((key, self._entry_leaf(name)))
        return plan

    def _entry_leaf(self, name: str) -> Getter:
        if name in _ENTRY:
            return _ENTRY[name]
        raise NotCovered(name)

    def _leaf_plan(
        self,
        executor: Run,
        type_: Any,
        details: FieldDetailsList,
        getters: dict[str, Getter],
    ) -> Plan:
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            plan.append((key, _constant(named.name) if name == "__typename" else getters[name]))
        return plan

    def _date_getter(self, executor: Run, type_: Any, details: FieldDetailsList) -> Getter:
        named, fields = self._sub(executor, type_, details)
        plan: Plan = []
        for key, inner in fields.items():
            name = inner[0].node.name.value
            if name == "__typename":
                plan.append((key, _constant(named.name)))
            elif name == "display":
                args = _arguments(named.fields[name], inner, executor)
                plan.append((key, _display(args.get("lang") or "en")))
            else:
                plan.append((key, _DATE[name]))

        def get(doc: dict[str, Any]) -> dict[str, Any]:
            date = _date(doc["date"]["edtf"])
            return {key: value(date) for key, value in plan}

        return get


def _arguments(field: Any, details: FieldDetailsList, executor: Run) -> dict[str, Any]:
    """The field's arguments as graphql-core coerces them (the first node's, as it does)."""
    first = details[0]
    return get_argument_values(
        field, first.node, executor.variable_values, first.fragment_variable_values
    )


def _display(lang: str) -> Getter:
    return lambda date: display_edtf(date["edtf"], lang)


@functools.lru_cache(maxsize=DATES)
def _date(edtf: str) -> dict[str, Any]:
    """A FuzzyDate's fields as graphql-core serializes them (the type's values, by name)."""
    d = FuzzyDate(edtf)
    return {
        "edtf": d.edtf,
        "precision": d.precision.name,
        "earliest": d.earliest.isoformat(),
        "latest": d.latest.isoformat(),
        "uncertain": bool(d.uncertain),
        "approximate": bool(d.approximate),
    }


def _enum_value(value: Any) -> str:
    """An argument's enum value as the read model takes it (the member's value)."""
    return str(getattr(value, "value", value))


def _constant(value: Any) -> Getter:
    return lambda _source: value


def _item(index: int) -> Getter:
    return lambda source: source[index]


def _nested(outer: Getter, plan: Plan) -> Getter:
    def get(source: Any) -> dict[str, Any]:
        inner = outer(source)
        return {key: value(inner) for key, value in plan}

    return get


def _non_null(value: Any) -> Any:
    if value is None:
        raise NotCovered("null for a non-null field: ordinary execution reports it")
    return value


def _text(name: str, *, nullable: bool) -> Getter:
    if nullable:
        return lambda doc: _string(doc.get(name))
    return lambda doc: _string(_non_null(doc[name]))


def _string(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    raise NotCovered("not a string")


def _int(value: Any) -> int:
    if type(value) is not int or value not in INT_RANGE:
        raise NotCovered("not a 32-bit integer")
    return value


def _weapons(plan: Plan) -> Getter:
    def get(doc: dict[str, Any]) -> list[dict[str, Any]]:
        return [{key: value(w) for key, value in plan} for w in doc["weapons"]]

    return get


def _enum(kind: type[Enum]) -> Callable[[Any], str]:
    """The GraphQL name of the member with this value (what graphql-core serializes)."""
    names = {member.value: member.name for member in kind}

    def name(value: Any) -> str:
        found = names.get(value)
        return found if found is not None else kind(value).name  # raises as the type does

    return name


_certainty, _action = _enum(Certainty), _enum(Action)
_role, _status = _enum(TimelineRole), _enum(DecisionStatus)
_ENTRY: dict[str, Getter] = {
    "decisionId": lambda doc: _string(_non_null(doc["decisionId"])),
    "certainty": lambda doc: _certainty(doc.get("certainty", "OFFICIAL")),
    "action": lambda doc: _action(doc["action"]),
    "actor": lambda doc: _string(_non_null(doc["actor"])),
    "recipient": lambda doc: _string(doc.get("recipient")),
    "treaty": lambda doc: _string(doc.get("treaty")),
    "role": lambda doc: _role(doc.get("role") or "ACTOR"),
    "status": lambda doc: _status(doc["status"]),
    "position": lambda doc: _int(doc["position"]),
    "recordedAt": lambda doc: parse_datetime(doc["recordedAt"]).isoformat(),
}
_WEAPON: dict[str, Getter] = {
    "system": lambda w: _string(w.get("system")),
    "category": lambda w: _string(_non_null(w["category"])),
}
_DATE: dict[str, Getter] = {name: operator.itemgetter(name) for name in _date("2000")}


def _covers(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> bool:
    """True when every field the operation could select, whatever its directives say, is one
    the planner answers, and the operation is a query."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        chosen = operations if len(operations) == 1 else []
    else:
        chosen = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query = schema.query_type
    assert query is not None
    return _selection_covered(schema, query, chosen[0].selection_set, fragments, set())


def _selection_covered(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[tuple[str, str]],
) -> bool:
    allowed = COVERED.get(parent.name)
    if allowed is None:
        return False
    for node in selections.selections:
        if isinstance(node, FieldNode):
            name = node.name.value
            if name not in allowed:
                return False
            if name == "__typename" or node.selection_set is None:
                continue
            child = get_named_type(parent.fields[name].type)
            if not isinstance(child, GraphQLObjectType):
                return False
            if not _selection_covered(schema, child, node.selection_set, fragments, seen):
                return False
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            if condition is not None and condition.name.value != parent.name:
                return False
            if not _selection_covered(schema, parent, node.selection_set, fragments, seen):
                return False
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is None or fragment.type_condition.name.value != parent.name:
                return False
            mark = (node.name.value, parent.name)
            if mark in seen:
                continue
            seen.add(mark)
            if not _selection_covered(schema, parent, fragment.selection_set, fragments, seen):
                return False
        else:
            return False
    return True
