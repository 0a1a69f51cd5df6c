"""The GraphQL schema: queries read projections, mutations call the application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from api.graphql.audit import diff as audit_diff
from api.graphql.audit import inclusion_proof as audit_inclusion_proof
from api.graphql.audit import integrity as audit_integrity
from api.graphql.audit import verify_integrity as audit_verify_integrity
from api.graphql.context import Context
from api.graphql.decision import Decision
from api.graphql.errors import coded, user_error
from api.graphql.flags import ComplianceFlag, flags_of
from api.graphql.mutations import mutations
from api.graphql.sources import parse_datetime
from api.graphql.treaty import Treaty
from api.graphql.types import (
    AuditEntry,
    DecisionAction,
    Indicator,
    Observation,
    PageInfo,
    TimelineConnection,
    TimelineEdge,
    TimelineEntry,
    Weapon,
)
from domain.errors import FieldError as DomainFieldError
from domain.errors import InvalidInput, PolicyRecordError
from domain.values import Action
from projections.readmodels.arguments import (
    check_category,
    check_country,
    check_indicator,
    check_record,
    check_scope,
)
from projections.readmodels.documents import ObservationDoc
from projections.readmodels.queries import Page, ReadModel

STALE_WAIT_SECONDS = 2.0


async def ensure_fresh(ctx: Context, min_position: int | None) -> None:
    """Read-your-writes: wait briefly until the projections reached `min_position`."""
    if min_position is None:
        return
    deadline = asyncio.get_running_loop().time() + STALE_WAIT_SECONDS
    while await asyncio.to_thread(ctx.store.read_position) < min_position:
        if min_position > await asyncio.to_thread(ctx.store.head):
            raise coded(f"minPosition {min_position} is past the head of the log", "BAD_USER_INPUT")
        if asyncio.get_running_loop().time() > deadline:
            raise coded(
                f"the projections have not reached position {min_position} yet; retry shortly",
                "STALE",
            )
        await asyncio.sleep(0.05)


def _connection(page: Page, as_of: int | None) -> TimelineConnection:
    edges = [
        TimelineEdge(cursor=c, node=TimelineEntry.of(e, as_of))
        for c, e in zip(page.cursors, page.entries, strict=False)
    ]
    return TimelineConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )


def _check_weapon(read: ReadModel, system: str | None, category: str | None) -> None:
    """Refuse a weapon system or category the record does not know."""
    if system is not None:
        check_record(read, "weapon", "system", system)
    if category is not None:
        check_category(read, "category", category)


def _unknown(kind: str, ident: str) -> InvalidInput:
    return InvalidInput([DomainFieldError(("id",), f"unknown {kind} {ident[:60]!r}")])


def _checked(check: Any, argument: str, value: str) -> None:
    try:
        check(argument, value)
    except PolicyRecordError as exc:
        raise user_error(exc) from None


def _actions(actions: list[Action] | None) -> list[str] | None:
    return None if actions is None else [a.value for a in actions]


@strawberry.type
class Query:
    @strawberry.field(
        description="Decisions where the country is actor or recipient, in date order."
    )
    async def country_timeline(
        self,
        info: Info[Context, None],
        country: str,
        first: int | None = 20,
        after: str | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        actions: list[DecisionAction] | None = None,
        include_retracted: bool | None = False,
        as_of: int | None = None,
        min_position: int | None = None,
    ) -> TimelineConnection:
        await ensure_fresh(info.context, min_position)
        read = info.context.store.read

        def page_of() -> Page:
            check_country("country", country)
            return read.timeline(
                "country",
                country,
                first=20 if first is None else first,
                after=after,
                from_=from_,
                to=to,
                actions=_actions(actions),
                include_retracted=bool(include_retracted),
                as_of=as_of,
            )

        try:
            page = await asyncio.to_thread(page_of)
        except PolicyRecordError as exc:
            raise user_error(exc) from None
        return _connection(page, as_of)

    @strawberry.field(description="Decisions about one weapon system or one weapon category.")
    async def weapon_timeline(
        self,
        info: Info[Context, None],
        system: str | None = None,
        category: str | None = None,
        first: int | None = 20,
        after: str | None = None,
        from_: Annotated[str | None, strawberry.argument(name="from")] = None,
        to: str | None = None,
        actions: list[DecisionAction] | None = None,
        include_retracted: bool | None = False,
        as_of: int | None = None,
        min_position: int | None = None,
    ) -> TimelineConnection:
        await ensure_fresh(info.context, min_position)
        if (system is None) == (category is None):
            raise user_error(
                InvalidInput([DomainFieldError(("system",), "give either system or category")])
            )
        kind, key = ("system", system) if system is not None else ("category", category)
        read = info.context.store.read

        def page_of() -> Page:
            _check_weapon(read, system, category)
            return read.timeline(
                kind,
                str(key),
                first=20 if first is None else first,
                after=after,
                from_=from_,
                to=to,
                actions=_actions(actions),
                include_retracted=bool(include_retracted),
                as_of=as_of,
            )

        try:
            page = await asyncio.to_thread(page_of)
        except PolicyRecordError as exc:
            raise user_error(exc) from None
        return _connection(page, as_of)

    @strawberry.field
    async def decision(
        self,
        info: Info[Context, None],
        id: strawberry.ID,
        as_of: int | None = None,
        min_position: int | None = None,
    ) -> Decision | None:
        await ensure_fresh(info.context, min_position)
        doc = await info.context.loaders.decision.load((str(id), as_of))
        return None if doc is None else Decision.of(doc, as_of)

    @strawberry.field(description="A treaty by id; an unknown id is a BAD_USER_INPUT error.")
    async def treaty(self, info: Info[Context, None], id: strawberry.ID) -> Treaty | None:
        read = info.context.store.read
        docs = await asyncio.to_thread(read.records, "treaty", ids=[str(id)])
        if not docs:
            raise user_error(_unknown("treaty", str(id)))
        return Treaty.of(docs[0])

    @strawberry.field(description="A weapon system by id; an unknown id is a BAD_USER_INPUT error.")
    async def weapon(self, info: Info[Context, None], id: strawberry.ID) -> Weapon | None:
        read = info.context.store.read
        docs = await asyncio.to_thread(read.records, "weapon", ids=[str(id)])
        if not docs:
            raise user_error(_unknown("weapon", str(id)))
        return Weapon.of(docs[0])

    @strawberry.field
    async def compliance_flags(
        self, info: Info[Context, None], country: str | None = None, as_of: int | None = None
    ) -> list[ComplianceFlag]:
        if country is not None:
            _checked(check_country, "country", country)
        read = info.context.store.read
        rows = await asyncio.to_thread(read.compliance_flags, country=country, as_of=as_of)
        return flags_of(rows, as_of)

    @strawberry.field
    async def observations(
        self,
        info: Info[Context, None],
        indicator: str,
        scope: str | None = None,
        as_of: int | None = None,
    ) -> list[Observation]:
        read = info.context.store.read

        def rows() -> list[ObservationDoc]:
            check_indicator(read, "indicator", indicator)
            if scope is not None:
                check_scope("scope", scope)
            return read.observations(indicator, scope=scope, as_of=as_of)

        try:
            return [Observation.of(r, as_of) for r in await asyncio.to_thread(rows)]
        except PolicyRecordError as exc:
            raise user_error(exc) from None

    @strawberry.field(description="Every indicator observations are recorded for.")
    async def indicators(self, info: Info[Context, None]) -> list[Indicator]:
        rows = await asyncio.to_thread(info.context.store.read.indicators)
        return [
            Indicator(id=strawberry.ID(r["id"]), label=r["label"], unit=r["unit"]) for r in rows
        ]

    @strawberry.field
    async def audit_log(
        self, info: Info[Context, None], after: int | None = None, first: int | None = 100
    ) -> list[AuditEntry]:
        first = 100 if first is None else first
        if not 0 <= first <= 1000:
            raise coded("first must be between 0 and 1000", "BAD_USER_INPUT")
        read = info.context.store.read
        rows = await asyncio.to_thread(read.audit_log, after=after or 0, first=first)
        return [
            AuditEntry(
                position=r["position"],
                event_id=strawberry.ID(r["eventId"]),
                event_type=r["eventType"],
                stream_id=strawberry.ID(r["streamId"]),
                version=r["version"],
                recorded_at=parse_datetime(r["recordedAt"]),
                leaf_hash=r["leafHash"],
                chain_hash=r["chainHash"],
            )
            for r in rows
        ]

    inclusion_proof = audit_inclusion_proof
    diff = audit_diff

    integrity = audit_integrity


Mutation = strawberry.type(
    type("Mutation", (), {"verify_integrity": audit_verify_integrity, **mutations()}),
    description=None,
)
"""Mutations call the application: verifyIntegrity, then one field per write operation."""


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def timeline_updated(
        self,
        info: Info[Context, None],
        country: str | None = None,
        system: str | None = None,
        category: str | None = None,
    ) -> AsyncGenerator[TimelineEntry, None]:
        ctx = info.context
        try:
            if country is not None:
                check_country("country", country)
            await asyncio.to_thread(_check_weapon, ctx.store.read, system, category)
        except PolicyRecordError as exc:
            raise user_error(exc) from None
        request = ctx.request  # the WebSocket: its share of the caps
        client = request.client if request is not None else None
        assert ctx.live is not None, "subscriptions are served with the process's Live fan-out"
        async for doc in ctx.live.entries(
            country=country,
            system=system,
            category=category,
            connection=id(request),
            address=client.host if client is not None else "",
        ):
            yield TimelineEntry.of(doc)


schema_types = (Query, Mutation, Subscription)
