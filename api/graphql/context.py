"""The typed per-request context: the store, the caller's key, and DataLoaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from projections.documents import StatementDoc
from projections.service import Store

K = TypeVar("K")
V = TypeVar("V")


def _grouped(
    load: Callable[[list[str], int | None], dict[str, V]], default: V
) -> Callable[[list[tuple[str, int | None]]], Awaitable[list[V]]]:
    """A batch function over (id, asOf) keys that issues one query per distinct asOf."""

    async def batch(keys: list[tuple[str, int | None]]) -> list[V]:
        by_as_of: dict[int | None, list[str]] = {}
        for ident, as_of in keys:
            by_as_of.setdefault(as_of, []).append(ident)
        found: dict[tuple[str, int | None], V] = {}
        for as_of, ids in by_as_of.items():
            for ident, value in load(sorted(set(ids)), as_of).items():
                found[(ident, as_of)] = value
        return [found.get(k, default) for k in keys]

    return batch


@dataclass
class Context:
    """What every resolver may use."""

    store: Store
    key: Any = None
    key_error: str | None = None  # a Bearer token was sent but is wrong or revoked
    request: Any = None
    live: Any = None  # the process's Live fan-out, for subscriptions
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    def loader(self, name: str) -> DataLoader[Any, Any]:
        if name not in self.loaders:
            self.loaders[name] = DataLoader(load_fn=self._batch(name))
        return self.loaders[name]

    def _batch(self, name: str) -> Callable[[list[Any]], Awaitable[list[Any]]]:
        read = self.store.read
        if name == "decision":
            return _grouped(read.decisions, None)
        if name == "history":
            return _grouped(read.history, [])
        if name == "statements":
            return _grouped(
                lambda ids, as_of: _by_about(read.records("statement", refs=ids, as_of=as_of)),
                [],
            )
        if name.startswith("translations:"):
            kind = name.partition(":")[2]
            return _grouped(lambda ids, as_of: read.translations(kind, ids, as_of), [])
        relation, _, inverse = name.partition(":")
        return _grouped(
            lambda ids, as_of: read.related(ids, relation, inverse == "inverse", as_of), []
        )


def _by_about(docs: list[StatementDoc]) -> dict[str, list[StatementDoc]]:
    grouped: dict[str, list[StatementDoc]] = {}
    for doc in docs:
        grouped.setdefault(doc["about"], []).append(doc)
    return grouped
