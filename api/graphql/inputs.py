"""GraphQL input types; they are turned into plain data and validated by the domain."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from pydantic.alias_generators import to_camel

from api.graphql.types import (
    ActorKindEnum,
    CertaintyEnum,
    DecisionAction,
    ObservationBasisEnum,
    StanceEnum,
)
from domain.values import RecordKind


def to_data(value: Any) -> Any:
    """An input object as the JSON data an import line would carry."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [to_data(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {
            to_camel(f.name): to_data(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None and getattr(value, f.name) is not strawberry.UNSET
        }
    return value


@strawberry.input
class SourceInput:
    publisher: str
    title: str | None = None
    url: str | None = None
    published_on: str | None = None
    quote: str | None = None
    retrieved_on: str | None = None
    archive_url: str | None = None


@strawberry.input
class OfficialInput:
    name: str
    office: str | None = None
    announced: bool | None = False


@strawberry.input
class WeaponRefInput:
    system: str | None = None
    category: str | None = None


@strawberry.input
class RecordDecisionInput:
    id: strawberry.ID
    actor: str
    action: DecisionAction
    headline: str
    sources: list[SourceInput]
    officials: list[OfficialInput] | None = None
    recipient: str | None = None
    treaty: strawberry.ID | None = None
    weapons: list[WeaponRefInput] | None = None
    scope: str | None = None
    decided_on: str | None = None
    announced_on: str | None = None
    effective_on: str | None = None
    reported_on: str | None = None
    certainty: CertaintyEnum | None = None
    summary: str | None = None
    reverses: strawberry.ID | None = None
    departs_from: strawberry.ID | None = None
    supersedes: strawberry.ID | None = None
    implements: strawberry.ID | None = None


@strawberry.input
class DecisionChangesInput:
    actor: str | None = None
    officials: list[OfficialInput] | None = None
    action: DecisionAction | None = None
    recipient: str | None = None
    treaty: strawberry.ID | None = None
    weapons: list[WeaponRefInput] | None = None
    scope: str | None = None
    decided_on: str | None = None
    announced_on: str | None = None
    effective_on: str | None = None
    reported_on: str | None = None
    certainty: CertaintyEnum | None = None
    headline: str | None = None
    summary: str | None = None
    reverses: strawberry.ID | None = None
    departs_from: strawberry.ID | None = None
    supersedes: strawberry.ID | None = None
    implements: strawberry.ID | None = None


@strawberry.input
class CorrectDecisionInput:
    id: strawberry.ID
    changes: DecisionChangesInput
    reason: str
    sources: list[SourceInput]


@strawberry.input
class RetractDecisionInput:
    id: strawberry.ID
    reason: str
    sources: list[SourceInput]


@strawberry.input
class RecordTreatyInput:
    id: strawberry.ID
    name: str
    sources: list[SourceInput]
    short_name: str | None = None
    adopted_on: str | None = None
    opened_for_signature_on: str | None = None
    entry_into_force_on: str | None = None
    prohibits: list[str] | None = None


@strawberry.input
class RecordWeaponInput:
    id: strawberry.ID
    name: str
    category: str
    designation: str | None = None
    aliases: list[str] | None = None
    sources: list[SourceInput] | None = None


@strawberry.input
class SpeakerInput:
    name: str
    kind: ActorKindEnum
    country: str | None = None


@strawberry.input
class RecordStatementInput:
    id: strawberry.ID
    by: SpeakerInput
    about: strawberry.ID
    stance: StanceEnum
    sources: list[SourceInput]
    quote: str | None = None
    made_on: str | None = None


@strawberry.input
class RecordObservationInput:
    id: strawberry.ID
    indicator: str
    scope: str
    period: str
    value: float
    sources: list[SourceInput]
    unit: str | None = None
    basis: ObservationBasisEnum | None = None
    note: str | None = None
    label: str | None = None


@strawberry.input
class TranslateRecordInput:
    id: strawberry.ID
    kind: RecordKind
    record: strawberry.ID
    lang: str
    headline: str | None = None
    summary: str | None = None
    scope: str | None = None
    name: str | None = None
    short_name: str | None = None
    label: str | None = strawberry.field(default=None, description="An observation's label.")
    quote: str | None = strawberry.field(default=None, description="A statement's quote.")
    note: str | None = strawberry.field(default=None, description="An observation's note.")
    unit: str | None = strawberry.field(default=None, description="An observation's unit.")
    sources: list[SourceInput] | None = None
