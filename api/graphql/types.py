"""GraphQL output types, as the minimum public schema names them."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TypeAlias

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import coded
from api.graphql.sources import Source, parse_datetime, sources_of
from api.graphql.translation import Translation, in_lang, translations_field
from api.text.display import UnservedLanguage, display_edtf
from domain.dates import FuzzyDate as FuzzyDateValue
from domain.dates import Precision
from domain.values import (
    Action,
    ActorKind,
    Certainty,
    DecisionStatus,
    ObservationBasis,
    RecordKind,
    Stance,
)
from projections.readmodels import documents

# The domain's enums are the GraphQL enums: registered under their public names.
strawberry.enum(Action, name="DecisionAction")
strawberry.enum(Precision, name="DatePrecision")
strawberry.enum(DecisionStatus, name="DecisionStatus")
strawberry.enum(Stance, name="Stance")
strawberry.enum(ActorKind, name="ActorKind")
strawberry.enum(Certainty, name="Certainty")
strawberry.enum(ObservationBasis, name="ObservationBasis")
strawberry.enum(RecordKind, name="RecordKind")
DecisionAction: TypeAlias = Action
DatePrecision: TypeAlias = Precision
DecisionStatusEnum: TypeAlias = DecisionStatus
StanceEnum: TypeAlias = Stance
ActorKindEnum: TypeAlias = ActorKind
CertaintyEnum: TypeAlias = Certainty
ObservationBasisEnum: TypeAlias = ObservationBasis


@strawberry.enum
class TimelineRole(Enum):
    ACTOR = "ACTOR"
    RECIPIENT = "RECIPIENT"


@strawberry.enum
class MembershipStatus(Enum):
    PARTY = "PARTY"
    WITHDRAWAL_NOTIFIED = "WITHDRAWAL_NOTIFIED"
    OBLIGATIONS_SUSPENDED = "OBLIGATIONS_SUSPENDED"
    SIGNATORY = "SIGNATORY"
    NON_PARTY = "NON_PARTY"
    WITHDRAWN = "WITHDRAWN"


@strawberry.type
class FuzzyDate:
    edtf: str
    precision: DatePrecision
    earliest: dt.date
    latest: dt.date
    uncertain: bool
    approximate: bool

    @strawberry.field
    def display(self, lang: str | None = "en") -> str:
        try:
            return display_edtf(self.edtf, lang or "en")
        except UnservedLanguage as exc:
            raise coded(str(exc), "BAD_USER_INPUT") from None

    @classmethod
    def of(cls, edtf: str | None) -> FuzzyDate | None:
        return None if edtf is None else cls.on(edtf)

    @classmethod
    def on(cls, edtf: str) -> FuzzyDate:
        d = FuzzyDateValue(edtf)
        return cls(
            edtf=d.edtf,
            precision=d.precision,
            earliest=d.earliest,
            latest=d.latest,
            uncertain=d.uncertain,
            approximate=d.approximate,
        )


@strawberry.type
class Official:
    name: str
    office: str | None
    announced: bool


@strawberry.type
class WeaponRef:
    system: str | None
    category: str


@strawberry.type
class Weapon:
    id: strawberry.ID
    original_name: strawberry.Private[str]
    designation: str | None
    category: str
    aliases: list[str]
    sources: list[Source]

    @classmethod
    def of(cls, doc: documents.WeaponDoc) -> Weapon:
        return cls(
            id=strawberry.ID(doc["id"]),
            original_name=doc["name"],
            designation=doc.get("designation"),
            category=doc["category"],
            aliases=list(doc.get("aliases", [])),
            sources=sources_of(doc.get("sources")),
        )

    @strawberry.field(description="The name, in `lang` when translated (en, fr, uk).")
    def name(self, info: Info[Context, None], lang: str | None = None) -> str:
        kind = RecordKind.WEAPON
        return in_lang(info, kind, str(self.id), None, "name", self.original_name, lang)  # type: ignore[no-any-return]

    @strawberry.field
    async def translations(self, info: Info[Context, None]) -> list[Translation]:
        return await translations_field(info, RecordKind.WEAPON, str(self.id), None)


@strawberry.type
class TimelineEntry:
    decision_id: strawberry.ID
    original_headline: strawberry.Private[str]
    certainty: CertaintyEnum
    action: DecisionAction
    actor: str
    recipient: str | None
    treaty: strawberry.ID | None
    original_scope: strawberry.Private[str | None]
    weapons: list[WeaponRef]
    date: FuzzyDate
    role: TimelineRole
    status: DecisionStatusEnum
    position: int
    recorded_at: dt.datetime
    as_of: strawberry.Private[int | None]

    @strawberry.field(description="The headline, in `lang` when translated (en, fr, uk).")
    def headline(self, info: Info[Context, None], lang: str | None = None) -> str:
        return in_lang(  # type: ignore[no-any-return]
            info, RecordKind.DECISION, str(self.decision_id), self.as_of, "headline",
            self.original_headline, lang,
        )  # fmt: skip

    @strawberry.field(description="The scope, in `lang` when translated (en, fr, uk).")
    def scope(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return in_lang(  # type: ignore[no-any-return]
            info, RecordKind.DECISION, str(self.decision_id), self.as_of, "scope",
            self.original_scope, lang,
        )  # fmt: skip

    @classmethod
    def of(cls, doc: documents.TimelineEntry, as_of: int | None = None) -> TimelineEntry:
        return cls(
            decision_id=strawberry.ID(doc["decisionId"]),
            original_headline=doc["headline"],
            certainty=Certainty(doc.get("certainty", "OFFICIAL")),
            action=Action(doc["action"]),
            actor=doc["actor"],
            recipient=doc.get("recipient"),
            treaty=strawberry.ID(doc["treaty"]) if doc["treaty"] else None,
            original_scope=doc.get("scope"),
            weapons=[
                WeaponRef(system=w.get("system"), category=w["category"]) for w in doc["weapons"]
            ],
            date=FuzzyDate.on(doc["date"]["edtf"]),
            role=TimelineRole(doc.get("role") or "ACTOR"),
            status=DecisionStatus(doc["status"]),
            position=doc["position"],
            recorded_at=parse_datetime(doc["recordedAt"]),
            as_of=as_of,
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class TimelineEdge:
    cursor: str
    node: TimelineEntry


@strawberry.type
class TimelineConnection:
    edges: list[TimelineEdge]
    page_info: PageInfo


@strawberry.type
class HistoryEntry:
    position: int
    event_type: str
    recorded_at: dt.datetime
    reason: str | None
    key_id: str | None
    sources: list[Source] = strawberry.field(
        description="the sources of this step: of the record, the correction or the retraction"
    )
    fields: list[str] | None = strawberry.field(
        description="the fields a correction changed (public names)"
    )
    lang: str | None = strawberry.field(
        default=None, description="For a translation (eventType Translated): its language."
    )


@strawberry.type
class Speaker:
    name: str
    kind: ActorKindEnum
    country: str | None


@strawberry.type
class Statement:
    id: strawberry.ID
    by: Speaker
    about: strawberry.ID
    stance: StanceEnum
    original_quote: strawberry.Private[str | None]
    made_on: FuzzyDate | None
    sources: list[Source]
    as_of: strawberry.Private[int | None]

    @classmethod
    def of(cls, doc: documents.StatementDoc, as_of: int | None = None) -> Statement:
        by = doc["by"]
        return cls(
            id=strawberry.ID(doc["id"]),
            by=Speaker(name=by["name"], kind=ActorKind(by["kind"]), country=by.get("country")),
            about=strawberry.ID(doc["about"]),
            stance=Stance(doc["stance"]),
            original_quote=doc.get("quote"),
            made_on=FuzzyDate.of(doc.get("madeOn")),
            sources=sources_of(doc.get("sources")),
            as_of=as_of,
        )

    @strawberry.field(
        description="The verbatim quote; with `lang`, its translation when there is one."
    )
    def quote(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return in_lang(  # type: ignore[no-any-return]
            info, RecordKind.STATEMENT, str(self.id), self.as_of, "quote", self.original_quote,
            lang,
        )  # fmt: skip

    @strawberry.field
    async def translations(self, info: Info[Context, None]) -> list[Translation]:
        return await translations_field(info, RecordKind.STATEMENT, str(self.id), self.as_of)


@strawberry.type
class Membership:
    country: str
    status: MembershipStatus
    since: dt.date


@strawberry.type
class Observation:
    id: strawberry.ID
    indicator: str
    scope: str
    period: str
    value: float
    original_unit: strawberry.Private[str | None]
    sources: list[Source]
    conflict: bool
    basis: ObservationBasisEnum
    original_note: strawberry.Private[str | None]
    original_label: strawberry.Private[str | None]
    as_of: strawberry.Private[int | None]

    @classmethod
    def of(cls, doc: documents.ObservationDoc, as_of: int | None = None) -> Observation:
        return cls(
            id=strawberry.ID(doc["id"]),
            indicator=doc["indicator"],
            scope=doc["scope"],
            period=doc["period"],
            value=float(doc["value"]),
            original_unit=doc.get("unit"),
            sources=sources_of(doc.get("sources")),
            conflict=doc.get("conflict", False),
            basis=ObservationBasis(doc.get("basis", "RECORDED")),
            original_note=doc.get("note"),
            original_label=doc.get("label"),
            as_of=as_of,
        )

    @strawberry.field(description="The caveat a reader needs, in `lang` when translated.")
    def note(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return in_lang(  # type: ignore[no-any-return]
            info, RecordKind.OBSERVATION, str(self.id), self.as_of, "note", self.original_note,
            lang,
        )  # fmt: skip

    @strawberry.field(description="The unit, in `lang` when translated (en, fr, uk).")
    def unit(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return in_lang(  # type: ignore[no-any-return]
            info, RecordKind.OBSERVATION, str(self.id), self.as_of, "unit", self.original_unit,
            lang,
        )  # fmt: skip

    @strawberry.field(description="What the figure counts, in `lang` when translated.")
    def label(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return in_lang(  # type: ignore[no-any-return]
            info, RecordKind.OBSERVATION, str(self.id), self.as_of, "label",
            self.original_label, lang,
        )  # fmt: skip

    @strawberry.field
    async def translations(self, info: Info[Context, None]) -> list[Translation]:
        return await translations_field(info, RecordKind.OBSERVATION, str(self.id), self.as_of)


@strawberry.type(description="An indicator that observations are recorded for.")
class Indicator:
    id: strawberry.ID
    label: str = strawberry.field(
        description="the label given by its latest labelled observation, else its id"
    )
    unit: str | None = strawberry.field(description="the unit of its latest observation")


@strawberry.type
class AuditEntry:
    position: int
    event_id: strawberry.ID
    event_type: str
    stream_id: strawberry.ID
    version: int
    recorded_at: dt.datetime
    leaf_hash: str
    chain_hash: str


@strawberry.type(
    description=(
        "The log's head as stored and the last full verification's result: answered from "
        "stored state, never by re-hashing the log (see `verifyIntegrity` and `verify`)."
    )
)
class Integrity:
    ok: bool = strawberry.field(
        description="false when the last full verification found a problem (true when none ran)"
    )
    head_position: int
    head_hash: str | None
    checked_up_to: int = strawberry.field(
        description="the head position the last full verification covered (0: none ran yet)"
    )
    first_bad_position: int | None
    verified_at: dt.datetime | None = strawberry.field(
        default=None, description="when the last full verification finished (null: never)"
    )
    detail: str | None = strawberry.field(
        default=None, description="the first failed check of the last full verification"
    )
    verifying: bool = strawberry.field(
        default=False, description="a full verification is running in this process"
    )
