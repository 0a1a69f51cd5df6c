"""The typed per-request context: the store, the caller's key, and DataLoaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader

from api.graphql.errors import coded
from api.http.keys import ApiKey
from api.http.live import Live
from api.http.ratelimit import WriteRateLimit
from domain.values import RecordKind
from projections.readmodels.documents import (
    DecisionDoc,
    FlagDoc,
    HistoryStep,
    StatementDoc,
    TranslationDoc,
    TreatyDoc,
)
from projections.readmodels.queries import ReadModel
from projections.service import Store

V = TypeVar("V")
Key = tuple[str, int | None]
"""What a loader is asked for: a record's id, and the log position to read as of."""


def _grouped(
    load: Callable[[list[str], int | None], Mapping[str, V]], missing: Callable[[], V]
) -> Callable[[list[Key]], Awaitable[list[V]]]:
    """A batch function over (id, asOf) keys: one query per distinct asOf, all in one worker
    thread, so a batch never runs SQL on the event loop; `missing()` answers an id not found."""

    def read(keys: list[Key]) -> dict[Key, V]:
        by_as_of: dict[int | None, set[str]] = {}
        for ident, as_of in keys:
            by_as_of.setdefault(as_of, set()).add(ident)
        return {
            (ident, as_of): value
            for as_of, ids in by_as_of.items()
            for ident, value in load(sorted(ids), as_of).items()
        }

    async def batch(keys: list[Key]) -> list[V]:
        found = await asyncio.to_thread(read, keys)
        return [found[k] if k in found else missing() for k in keys]

    return batch


def _none() -> None:
    return None


class Loaders:
    """The request's DataLoaders: each batches the loads of one event-loop turn into one read."""

    def __init__(self, read: ReadModel) -> None:
        self.read = read
        self._related: dict[tuple[str, bool], DataLoader[Key, list[str]]] = {}
        self._translations: dict[RecordKind, DataLoader[Key, list[TranslationDoc]]] = {}

    @cached_property
    def decision(self) -> DataLoader[Key, DecisionDoc | None]:
        return DataLoader(load_fn=_grouped(self.read.decisions, _none))

    @cached_property
    def history(self) -> DataLoader[Key, list[HistoryStep]]:
        return DataLoader(load_fn=_grouped(self.read.history, list))

    @cached_property
    def statements(self) -> DataLoader[Key, list[StatementDoc]]:
        """The statements about each decision."""

        def about(ids: list[str], as_of: int | None) -> dict[str, list[StatementDoc]]:
            grouped: dict[str, list[StatementDoc]] = {}
            for doc in self.read.records("statement", refs=ids, as_of=as_of):
                grouped.setdefault(doc["about"], []).append(doc)
            return grouped

        return DataLoader(load_fn=_grouped(about, list))

    @cached_property
    def flags(self) -> DataLoader[Key, list[FlagDoc]]:
        """The compliance flags of each decision."""
        return DataLoader(load_fn=_grouped(self.read.flags_of, list))

    @cached_property
    def treaty(self) -> DataLoader[Key, TreatyDoc | None]:
        def load(ids: list[str], as_of: int | None) -> dict[str, TreatyDoc]:
            return {d["id"]: d for d in self.read.records("treaty", ids=ids, as_of=as_of)}

        return DataLoader(load_fn=_grouped(load, _none))

    def related(self, relation: str, inverse: bool) -> DataLoader[Key, list[str]]:
        """The ids each decision `relation`s (or that `relation` it, when `inverse`)."""
        if (relation, inverse) not in self._related:

            def load(ids: list[str], as_of: int | None) -> dict[str, list[str]]:
                return self.read.related(ids, relation, inverse, as_of)

            self._related[(relation, inverse)] = DataLoader(load_fn=_grouped(load, list))
        return self._related[(relation, inverse)]

    def translations(self, kind: RecordKind) -> DataLoader[Key, list[TranslationDoc]]:
        """Each record's translations, one per language."""
        if kind not in self._translations:

            def load(ids: list[str], as_of: int | None) -> dict[str, list[TranslationDoc]]:
                return self.read.translations(kind.kind, ids, as_of)

            self._translations[kind] = DataLoader(load_fn=_grouped(load, list))
        return self._translations[kind]


@dataclass
class Context:
    """What every resolver may use."""

    store: Store
    key: ApiKey | None = None
    key_error: str | None = None
    """Why a Bearer token that was sent is refused (wrong or revoked)."""
    request: Request | WebSocket | None = None
    response: Response | None = None
    """The HTTP response being prepared: a 429 sets its status and Retry-After here."""
    live: Live | None = None
    """The process's fan-out of timeline changes, for subscriptions."""
    write_rate: WriteRateLimit | None = None
    """The per-key write rate (none: unlimited)."""
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.store.read)

    def editor(self, forbidden: str) -> ApiKey:
        """The caller's key when it may write; UNAUTHORIZED or FORBIDDEN (`forbidden`) else."""
        if self.key_error is not None:
            raise coded(self.key_error, "UNAUTHORIZED")
        if self.key is None:
            message = "an editor API key is required (Authorization: Bearer <key>)"
            raise coded(message, "UNAUTHORIZED")
        if self.key.role != "editor":
            raise coded(forbidden, "FORBIDDEN")
        return self.key

    def check_write_rate(self, key: ApiKey) -> None:
        """RATE_LIMITED (HTTP 429 with Retry-After) when `key` is over its write rate."""
        if self.write_rate is not None:
            self.write_rate.check(key.key_id, self.response)
