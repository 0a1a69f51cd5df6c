"""A government decision about weapons or a treaty, with corrections and retraction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.dates import FuzzyDate
from domain.errors import Conflict
from domain.records import Record, content_hash, record_uuid
from domain.values import Action, DecisionStatus

DATE_ROLES = ("decidedOn", "announcedOn", "effectiveOn")
"""The date roles the Recorded event carries as attributes (reportedOn is in its details)."""
SORT_ROLES = (*DATE_ROLES, "reportedOn")
"""Date roles in the order a timeline looks for them: a report date only sorts a decision
when no date of the decision itself is known (the decision was taken on or before it)."""


def sort_date(fields: Mapping[str, Any]) -> FuzzyDate:
    """The date a timeline sorts by: the first known of decided, announced, effective, reported."""
    for role in SORT_ROLES:
        if fields.get(role):
            return FuzzyDate(fields[role])
    raise ValueError("a decision has at least one date")


class Decision(Record):
    """One decision: an actor, one action, weapons or a treaty, dates and sources."""

    KIND = "decision"

    @staticmethod
    def create_id(
        slug: str,
        action: Action,
        decided_on: FuzzyDate | None,
        announced_on: FuzzyDate | None,
        effective_on: FuzzyDate | None,
        details: dict[str, Any],
        key_id: str | None,
    ) -> UUID:
        return record_uuid("decision", slug)

    class Recorded(Aggregate.Created):
        """The decision was recorded."""

        slug: str
        action: Action
        decided_on: FuzzyDate | None
        announced_on: FuzzyDate | None
        effective_on: FuzzyDate | None
        details: dict[str, Any]
        key_id: str | None

    def __init__(
        self,
        slug: str,
        action: Action,
        decided_on: FuzzyDate | None,
        announced_on: FuzzyDate | None,
        effective_on: FuzzyDate | None,
        details: dict[str, Any],
        key_id: str | None,
    ) -> None:
        self.slug = slug
        self.key_id = key_id
        self.fields = recorded_fields(action, decided_on, announced_on, effective_on, details)
        self.content = {"id": slug, **self.fields}
        self.corrections: set[str] = set()
        self.retraction: str | None = None

    @property
    def status(self) -> DecisionStatus:
        if self.retraction is not None:
            return DecisionStatus.RETRACTED
        return DecisionStatus.CORRECTED if self.corrections else DecisionStatus.ACTIVE

    def correct(
        self,
        changes: dict[str, Any],
        reason: str,
        sources: list[dict[str, Any]],
        key_id: str | None,
    ) -> bool:
        """Correct fields; False when this very correction was already recorded."""
        digest = content_hash({"changes": changes, "reason": reason, "sources": sources})
        if digest in self.corrections:
            return False
        if self.retraction is not None:
            raise Conflict("decision", self.slug, "it is retracted and cannot be corrected")
        self._corrected(changes=changes, reason=reason, sources=sources, key_id=key_id)
        return True

    class Corrected(Aggregate.Event):
        """Fields of the decision were corrected, with a reason and sources."""

        changes: dict[str, Any]
        reason: str
        sources: list[dict[str, Any]]
        key_id: str | None

    @event(Corrected)
    def _corrected(
        self,
        changes: dict[str, Any],
        reason: str,
        sources: list[dict[str, Any]],
        key_id: str | None,
    ) -> None:
        self.fields = apply_changes(self.fields, changes)
        self.corrections.add(
            content_hash({"changes": changes, "reason": reason, "sources": sources})
        )

    def retract(self, reason: str, sources: list[dict[str, Any]], key_id: str | None) -> bool:
        """Retract the decision; False when the same retraction was already recorded."""
        digest = content_hash({"reason": reason, "sources": sources})
        if self.retraction == digest:
            return False
        if self.retraction is not None:
            raise Conflict("decision", self.slug, "it is already retracted")
        self._retracted(reason=reason, sources=sources, key_id=key_id)
        return True

    class Retracted(Aggregate.Event):
        """The decision was retracted, with a reason and sources."""

        reason: str
        sources: list[dict[str, Any]]
        key_id: str | None

    @event(Retracted)
    def _retracted(self, reason: str, sources: list[dict[str, Any]], key_id: str | None) -> None:
        self.retraction = content_hash({"reason": reason, "sources": sources})


def recorded_fields(
    action: Action,
    decided_on: FuzzyDate | None,
    announced_on: FuzzyDate | None,
    effective_on: FuzzyDate | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    """The decision's fields as plain JSON (camelCase), from its Recorded event."""
    fields = dict(details)
    fields["action"] = action.value
    for role, value in zip(DATE_ROLES, (decided_on, announced_on, effective_on), strict=False):
        if value is not None:
            fields[role] = value.edtf
    return fields


def apply_changes(fields: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Fields after a correction: each named field takes its new value."""
    return {**fields, **changes}
