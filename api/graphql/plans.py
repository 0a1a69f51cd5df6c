"""Compiled plans kept for a query's shape, so a repeated shape skips building them.

What the compiled path builds for a request (the root fields collected, each selection's
getters) depends on the document, the operation and the values of the variables it uses
anywhere but in the root fields' own arguments (directives, nested arguments such as
`lang:` or `validAt:`); a root field's arguments (`id:`, `country:`, `asOf:`, ...) are read
per request. So a plan is kept under the query text, the operation name and the values of
those variables: a decision asked by id after id is planned once.
"""

from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import VariableValues

PLANS = 256
"""Plans kept (LRU), as many as the documents validated."""
KEY_BUDGET = 1024
"""Characters of variable values a plan's key may hold; a request with more is planned
anew (never kept), so the cache holds at most PLANS keys of about this size."""

ABSENT = object()
"""A variable the request did not give (and that has no default)."""


class Unkeyable(Exception):
    """Variable values too big or of a kind that cannot be part of a key."""


class Plans:
    """Plans by (query text, operation name, values of the variables they depend on, part),
    the last PLANS (LRU); shared by the worker threads."""

    def __init__(self, size: int = PLANS) -> None:
        self._plans: LRUCache[Any, Any] = LRUCache(size)
        self._variables: LRUCache[tuple[str, str | None], frozenset[str]] = LRUCache(size)
        self._lock = threading.Lock()

    def key(
        self,
        query: str,
        operation_name: str | None,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDetails],
        values: VariableValues,
    ) -> tuple[Any, ...] | None:
        """The key of this request's plans, or None when they are not to be kept: the
        coerced value and the value sent (or its absence) of each variable they use."""
        with self._lock:
            names = self._variables.get((query, operation_name))
        if names is None:
            definitions = {name: f.definition for name, f in fragments.items()}
            names = plan_variables(operation, definitions)
            with self._lock:
                self._variables[(query, operation_name)] = names
        budget = [KEY_BUDGET]
        try:
            frozen = []
            for name in sorted(names):
                source = values.sources.get(name)
                sent = ABSENT if source is None else source.value
                coerced = values.coerced.get(name, ABSENT)
                frozen.append((name, _freeze(coerced, budget), _freeze(sent, budget)))
        except Unkeyable:
            return None
        return (query, operation_name, tuple(frozen))

    def get(self, key: Any) -> Any:
        with self._lock:
            return self._plans.get(key)

    def put(self, key: Any, plan: Any) -> None:
        with self._lock:
            self._plans[key] = plan


def plan_variables(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> frozenset[str]:
    """The variables the operation uses anywhere but in its root fields' arguments."""
    names: set[str] = set()
    seen: set[str] = set()  # fragments walked whole
    at_root: set[str] = set()  # fragments walked as root selections

    def root(selections: SelectionSetNode) -> None:
        for node in selections.selections:
            for directive in node.directives or ():
                _variables_in(directive, fragments, names, seen)
            if isinstance(node, FieldNode):
                if node.selection_set is not None:  # the arguments are read per request
                    _variables_in(node.selection_set, fragments, names, seen)
            elif isinstance(node, InlineFragmentNode):
                root(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments.get(node.name.value)
                if fragment is not None and node.name.value not in at_root:
                    at_root.add(node.name.value)
                    for directive in fragment.directives or ():
                        _variables_in(directive, fragments, names, seen)
                    root(fragment.selection_set)

    for directive in operation.directives or ():
        _variables_in(directive, fragments, names, seen)
    root(operation.selection_set)
    return frozenset(names)


def _variables_in(
    node: Node, fragments: dict[str, FragmentDefinitionNode], names: set[str], seen: set[str]
) -> None:
    """Every variable under `node`, through the fragments it spreads."""
    if isinstance(node, VariableNode):
        names.add(node.name.value)
        return
    if isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
        seen.add(node.name.value)
        fragment = fragments.get(node.name.value)
        if fragment is not None:
            _variables_in(fragment, fragments, names, seen)
    for attribute in node.keys:
        value = getattr(node, attribute, None)
        if isinstance(value, Node):
            _variables_in(value, fragments, names, seen)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Node):
                    _variables_in(item, fragments, names, seen)


def _freeze(value: Any, budget: list[int]) -> Any:
    """A hashable stand-in for a coerced variable value, its type kept (1, 1.0 and True
    differ); Unkeyable past the budget or for a kind not known here."""
    if value is ABSENT or value is None:
        return value
    if isinstance(value, (bool, int, float, str)):
        budget[0] -= len(str(value)) if isinstance(value, str) else 8
        if budget[0] < 0:
            raise Unkeyable
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_freeze(item, budget) for item in value))
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: str(item[0]))
        return ("dict", tuple((str(k), _freeze(v, budget)) for k, v in items))
    try:
        hash(value)
    except TypeError:
        raise Unkeyable from None
    budget[0] -= len(repr(value))
    if budget[0] < 0:
        raise Unkeyable
    return (type(value).__qualname__, value)
