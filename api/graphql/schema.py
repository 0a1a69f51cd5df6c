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
from api.graphql.errors import Conflict, NotFound, ValidationError, coded, typed_error, user_error
from api.graphql.flags import ComplianceFlag, flags_of
from api.graphql.inputs import (
    CorrectDecisionInput,
    RecordDecisionInput,
    RecordObservationInput,
    RecordStatementInput,
    RecordTreatyInput,
    RecordWeaponInput,
    RetractDecisionInput,
    TranslateRecordInput,
    to_data,
)
from api.graphql.translation import Translation
from api.graphql.treaty import Treaty
from api.graphql.types import (
    AuditEntry,
    DecisionAction,
    Indicator,
    Observation,
    PageInfo,
    Statement,
    TimelineConnection,
    TimelineEdge,
    TimelineEntry,
    Weapon,
    parse_datetime,
)
from domain.errors import FieldError as DomainFieldError
from domain.errors import InvalidInput, PolicyRecordError
from domain.values import Action
from projections.arguments import (
    check_category,
    check_country,
    check_indicator,
    check_record,
    check_scope,
)
from projections.queries import Page

STALE_WAIT_SECONDS = 2.0


async def ensure_fresh(ctx: Context, min_position: int | None) -> None:
    """Read-your-writes: wait briefly until the projections reached `min_position`."""
    if min_position is None:
        return
    deadline = asyncio.get_running_loop().time() + STALE_WAIT_SECONDS
    while ctx.store.read_position() < min_position:
        if min_position > ctx.store.head():
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


def _check_weapon(ctx: Context, system: str | None, category: str | None) -> None:
    """Refuse a weapon system or category the record does not know."""
    if system is not None:
        check_record(ctx.store.read, "weapon", "system", system)
    if category is not None:
        check_category(ctx.store.read, "category", category)


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
        try:
            check_country("country", country)
            page = info.context.store.read.timeline(
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
        try:
            _check_weapon(info.context, system, category)
            page = info.context.store.read.timeline(
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
        doc = await info.context.loader("decision").load((str(id), as_of))
        return None if doc is None else Decision.of(doc, as_of)

    @strawberry.field(description="A treaty by id; an unknown id is a BAD_USER_INPUT error.")
    def treaty(self, info: Info[Context, None], id: strawberry.ID) -> Treaty | None:
        docs = info.context.store.read.records("treaty", ids=[str(id)])
        if not docs:
            raise user_error(_unknown("treaty", str(id)))
        return Treaty.of(docs[0])

    @strawberry.field(description="A weapon system by id; an unknown id is a BAD_USER_INPUT error.")
    def weapon(self, info: Info[Context, None], id: strawberry.ID) -> Weapon | None:
        docs = info.context.store.read.records("weapon", ids=[str(id)])
        if not docs:
            raise user_error(_unknown("weapon", str(id)))
        return Weapon.of(docs[0])

    @strawberry.field
    def compliance_flags(
        self, info: Info[Context, None], country: str | None = None, as_of: int | None = None
    ) -> list[ComplianceFlag]:
        if country is not None:
            _checked(check_country, "country", country)
        flags = info.context.store.read.compliance_flags(country=country, as_of=as_of)
        return flags_of(info, flags, as_of)

    @strawberry.field
    def observations(
        self,
        info: Info[Context, None],
        indicator: str,
        scope: str | None = None,
        as_of: int | None = None,
    ) -> list[Observation]:
        read = info.context.store.read
        try:
            check_indicator(read, "indicator", indicator)
            if scope is not None:
                check_scope("scope", scope)
        except PolicyRecordError as exc:
            raise user_error(exc) from None
        rows = read.observations(indicator, scope=scope, as_of=as_of)
        return [Observation.of(r, as_of) for r in rows]

    @strawberry.field(description="Every indicator observations are recorded for.")
    async def indicators(self, info: Info[Context, None]) -> list[Indicator]:
        rows = await asyncio.to_thread(info.context.store.read.indicators)
        return [
            Indicator(id=strawberry.ID(r["id"]), label=r["label"], unit=r["unit"]) for r in rows
        ]

    @strawberry.field
    def audit_log(
        self, info: Info[Context, None], after: int | None = None, first: int | None = 100
    ) -> list[AuditEntry]:
        first = 100 if first is None else first
        if not 0 <= first <= 1000:
            raise coded("first must be between 0 and 1000", "BAD_USER_INPUT")
        rows = info.context.store.read.audit_log(after=after or 0, first=first)
        return [
            AuditEntry(
                position=r["position"],
                event_id=strawberry.ID(r["event_id"]),
                event_type=r["event_type"],
                stream_id=strawberry.ID(r["stream_id"]),
                version=r["version"],
                recorded_at=parse_datetime(r["recorded_at"]),
                leaf_hash=r["leaf_hash"],
                chain_hash=r["chain_hash"],
            )
            for r in rows
        ]

    inclusion_proof = audit_inclusion_proof
    diff = audit_diff

    integrity = audit_integrity


@strawberry.type
class RecordTreatySuccess:
    position: int
    treaty: Treaty


@strawberry.type
class RecordWeaponSuccess:
    position: int
    weapon: Weapon


@strawberry.type
class RecordDecisionSuccess:
    position: int
    decision: Decision


@strawberry.type
class CorrectDecisionSuccess:
    position: int
    decision: Decision


@strawberry.type
class RetractDecisionSuccess:
    position: int
    decision: Decision


@strawberry.type
class RecordStatementSuccess:
    position: int
    statement: Statement


@strawberry.type
class RecordObservationSuccess:
    position: int
    observation: Observation


@strawberry.type
class TranslateRecordSuccess:
    position: int
    translation: Translation


Errors = ValidationError | NotFound | Conflict
RecordTreatyResult = Annotated[RecordTreatySuccess | Errors, strawberry.union("RecordTreatyResult")]
RecordWeaponResult = Annotated[RecordWeaponSuccess | Errors, strawberry.union("RecordWeaponResult")]
RecordDecisionResult = Annotated[
    RecordDecisionSuccess | Errors, strawberry.union("RecordDecisionResult")
]
CorrectDecisionResult = Annotated[
    CorrectDecisionSuccess | Errors, strawberry.union("CorrectDecisionResult")
]
RetractDecisionResult = Annotated[
    RetractDecisionSuccess | Errors, strawberry.union("RetractDecisionResult")
]
RecordStatementResult = Annotated[
    RecordStatementSuccess | Errors, strawberry.union("RecordStatementResult")
]
RecordObservationResult = Annotated[
    RecordObservationSuccess | Errors, strawberry.union("RecordObservationResult")
]

TranslateRecordResult = Annotated[
    TranslateRecordSuccess | Errors, strawberry.union("TranslateRecordResult")
]


async def _write(info: Info[Context, None], op: str, data: object) -> tuple[str, int] | Errors:
    """Authorize, then run one operation through the same path as `import`."""
    ctx = info.context
    key = ctx.key
    if ctx.key_error is not None:
        raise coded(ctx.key_error, "UNAUTHORIZED")
    if key is None:
        raise coded("an editor API key is required (Authorization: Bearer <key>)", "UNAUTHORIZED")
    if key.role != "editor":
        raise coded("this API key may read but not write", "FORBIDDEN")
    write_rate = getattr(ctx, "write_rate", None)
    if write_rate is not None:  # over the key's rate: RATE_LIMITED, HTTP 429 with Retry-After
        write_rate.check(key.key_id, getattr(ctx, "response", None))
    try:
        # In a thread: saving and waiting for the projections must not block the event loop.
        applied, position = await asyncio.to_thread(ctx.store.execute, op, data, key_id=key.key_id)
    except PolicyRecordError as exc:
        return typed_error(exc)
    if position is None:  # unchanged: answer with the record's current position
        position = ctx.store.head()
    return applied.record.slug, position


async def _decision(info: Info[Context, None], slug: str, position: int) -> Decision:
    doc = info.context.store.primary.decision(slug)
    assert doc is not None
    return Decision.of(doc, None)


@strawberry.type
class Mutation:
    verify_integrity = audit_verify_integrity

    @strawberry.mutation
    async def record_treaty(
        self, info: Info[Context, None], input: RecordTreatyInput
    ) -> RecordTreatyResult:
        result = await _write(info, "recordTreaty", to_data(input))
        if not isinstance(result, tuple):
            return result
        doc = info.context.store.primary.records("treaty", ids=[result[0]])[0]
        return RecordTreatySuccess(position=result[1], treaty=Treaty.of(doc))

    @strawberry.mutation
    async def record_weapon(
        self, info: Info[Context, None], input: RecordWeaponInput
    ) -> RecordWeaponResult:
        result = await _write(info, "recordWeapon", to_data(input))
        if not isinstance(result, tuple):
            return result
        doc = info.context.store.primary.records("weapon", ids=[result[0]])[0]
        return RecordWeaponSuccess(position=result[1], weapon=Weapon.of(doc))

    @strawberry.mutation
    async def record_decision(
        self, info: Info[Context, None], input: RecordDecisionInput
    ) -> RecordDecisionResult:
        result = await _write(info, "recordDecision", to_data(input))
        if not isinstance(result, tuple):
            return result
        return RecordDecisionSuccess(position=result[1], decision=await _decision(info, *result))

    @strawberry.mutation
    async def correct_decision(
        self, info: Info[Context, None], input: CorrectDecisionInput
    ) -> CorrectDecisionResult:
        result = await _write(info, "correctDecision", to_data(input))
        if not isinstance(result, tuple):
            return result
        return CorrectDecisionSuccess(position=result[1], decision=await _decision(info, *result))

    @strawberry.mutation
    async def retract_decision(
        self, info: Info[Context, None], input: RetractDecisionInput
    ) -> RetractDecisionResult:
        result = await _write(info, "retractDecision", to_data(input))
        if not isinstance(result, tuple):
            return result
        return RetractDecisionSuccess(position=result[1], decision=await _decision(info, *result))

    @strawberry.mutation
    async def record_statement(
        self, info: Info[Context, None], input: RecordStatementInput
    ) -> RecordStatementResult:
        result = await _write(info, "recordStatement", to_data(input))
        if not isinstance(result, tuple):
            return result
        doc = info.context.store.primary.records("statement", ids=[result[0]])[0]
        return RecordStatementSuccess(position=result[1], statement=Statement.of(doc))

    @strawberry.mutation
    async def record_observation(
        self, info: Info[Context, None], input: RecordObservationInput
    ) -> RecordObservationResult:
        result = await _write(info, "recordObservation", to_data(input))
        if not isinstance(result, tuple):
            return result
        rows = info.context.store.primary.observations_by_id([result[0]])
        return RecordObservationSuccess(position=result[1], observation=Observation.of(rows[0]))

    @strawberry.mutation(
        description="Record a translation of a record's text; readers see it with `(lang:)`."
    )
    async def translate_record(
        self, info: Info[Context, None], input: TranslateRecordInput
    ) -> TranslateRecordResult:
        result = await _write(info, "translateRecord", to_data(input))
        if not isinstance(result, tuple):
            return result
        kind, record, lang = input.kind.kind, str(input.record), input.lang
        docs = info.context.store.primary.translations(kind, [record])[record]
        doc = next(d for d in docs if d["lang"] == lang)
        return TranslateRecordSuccess(position=result[1], translation=Translation.of(doc))


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
        try:
            if country is not None:
                check_country("country", country)
            _check_weapon(info.context, system, category)
        except PolicyRecordError as exc:
            raise user_error(exc) from None
        request = info.context.request  # the WebSocket: its share of the caps
        client = getattr(request, "client", None)
        async for doc in info.context.live.entries(
            country=country,
            system=system,
            category=category,
            connection=id(request),
            address=client.host if client is not None else "",
        ):
            yield TimelineEntry.of(doc)


schema_types = (Query, Mutation, Subscription)
