"""The application: turns validated commands into events and saves them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from domain.commands import (
    RELATION_FIELDS,
    CorrectDecisionInput,
    DecisionFields,
    Input,
    RecordDecisionInput,
    RecordObservationInput,
    RecordStatementInput,
    RecordTreatyInput,
    RecordWeaponInput,
    RetractDecisionInput,
    TranslateRecordInput,
    check_decision_shape,
    parse_input,
)
from domain.dates import FuzzyDate
from domain.decision import DATE_ROLES, Decision, apply_changes
from domain.errors import ConcurrentWrite, FieldError, InvalidInput, NotFound
from domain.records import Observation, Record, Statement, Treaty, Weapon, record_uuid
from domain.transcodings import register_transcodings
from domain.translation import Translation
from domain.values import TRANSLATABLE, WEAPON_CATEGORIES
from domain.vocabulary import Category

Outcome = Literal["imported", "unchanged"]
WRITE_ATTEMPTS = 8
"""Saves tried before a write racing other writers on one record is refused as a Conflict."""


def write_attempts() -> Retrying:
    """Attempts at a save racing other writers (optimistic concurrency): on IntegrityError
    another writer saved the same record's next version first and nothing of ours was stored,
    so wait a random 0 to 10 ms x 2^n and try again; after WRITE_ATTEMPTS the loop ends."""
    return Retrying(
        stop=stop_after_attempt(WRITE_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.01),
        retry=retry_if_exception_type(IntegrityError),
        retry_error_callback=lambda _: None,  # the caller says what could not be written
    )


@dataclass
class Applied:
    """What one operation did: its outcome, the record it touched, and new events."""

    outcome: Outcome
    record: Record
    events: list[Any] = field(default_factory=list)


class PolicyRecord(Application[UUID]):
    """The event-sourced record of decisions, treaties, weapons, statements, observations."""

    name = "PolicyRecord"
    existing: Callable[[Collection[UUID]], set[UUID]] | None = None
    """Which of these record ids have events: a fast check the store may provide, so that
    new ids are known to be new without loading them (the repository decides otherwise)."""

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    def execute(self, op: str, data: Any, key_id: str | None = None) -> tuple[Applied, int | None]:
        """Validate and apply one operation, saving its events in one transaction."""
        inp = parse_input(op, data)
        for attempt in write_attempts():
            with attempt:  # applied again on top of what another writer saved first
                applied = self.unit_of_work().apply(op, inp, key_id)
                return applied, self.save_events(applied.events)
        raise ConcurrentWrite(applied.record.KIND, applied.record.slug)

    def save_events(self, events: Sequence[Any]) -> int | None:
        """Save events in one transaction; return the log position of the last one."""
        if not events:
            return None
        recordings = self.save(*events)
        return int(recordings[-1].notification.id) if recordings else None


class UnitOfWork:
    """Applies operations against the store plus what earlier operations in it recorded."""

    def __init__(self, app: PolicyRecord) -> None:
        self.app = app
        self.loaded: dict[UUID, Record | None] = {}

    def get(self, kind: str, slug: str) -> Record | None:
        """The record of `kind` with id `slug`, pending or stored, or None."""
        uuid = record_uuid(kind, slug)
        if uuid not in self.loaded:
            self.prefetch([(kind, slug)])
        if uuid not in self.loaded:
            try:
                self.loaded[uuid] = self.app.repository.get(uuid)
            except AggregateNotFoundError:
                self.loaded[uuid] = None
        return self.loaded[uuid]

    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Learn in one look-up which of these (kind, id) records do not exist yet."""
        if self.app.existing is None:
            return
        wanted = {record_uuid(kind, slug) for kind, slug in keys} - self.loaded.keys()
        if wanted:
            found = self.app.existing(wanted)
            self.loaded.update((uuid, None) for uuid in wanted - found)

    def require(self, kind: str, slug: str, path: tuple[str, ...]) -> Record:
        record = self.get(kind, slug)
        if record is None:
            raise NotFound(kind, slug, path)
        return record

    def apply(self, op: str, inp: Input, key_id: str | None = None) -> Applied:
        """Apply one validated operation; raises InvalidInput, NotFound or Conflict."""
        handler = getattr(self, "_" + op)
        applied: Applied = handler(inp, key_id)
        if applied.outcome == "imported":
            self.loaded[applied.record.id] = applied.record
        if applied.events:
            return applied
        applied.events = list(applied.record.collect_events())
        return applied

    def _new_or_same(self, cls: type[Record], slug: str, content: dict[str, Any]) -> Record | None:
        existing = self.get(cls.KIND, slug)
        if existing is not None:
            existing.check_same_content(content)
        return existing

    def _known_category(self, category: str) -> bool:
        return category in WEAPON_CATEGORIES or self.get(Category.KIND, category) is not None

    def _check_categories(self, categories: Iterable[tuple[tuple[str, ...], str]]) -> None:
        errors = [
            FieldError(path, f"unknown weapon category {category!r}")
            for path, category in categories
            if not self._known_category(category)
        ]
        if errors:
            raise InvalidInput(errors)

    def _recordTreaty(self, inp: RecordTreatyInput, key_id: str | None) -> Applied:  # noqa: N802
        content = inp.content()
        existing = self._new_or_same(Treaty, inp.id, content)
        if existing is not None:
            return Applied("unchanged", existing)
        self._check_categories(
            (("prohibits", str(i)), c) for i, c in enumerate(inp.prohibits or [])
        )
        return Applied("imported", Treaty(inp.id, content, key_id))

    def _recordWeapon(self, inp: RecordWeaponInput, key_id: str | None) -> Applied:  # noqa: N802
        content = inp.content()
        existing = self._new_or_same(Weapon, inp.id, content)
        if existing is not None:
            return Applied("unchanged", existing)
        weapon = Weapon(inp.id, content, key_id)
        events = list(weapon.collect_events())
        if not self._known_category(inp.category):
            category = Category(inp.category, inp.id)
            self.loaded[category.id] = category
            events += category.collect_events()
        return Applied("imported", weapon, events)

    def _recordDecision(self, inp: RecordDecisionInput, key_id: str | None) -> Applied:  # noqa: N802
        content = inp.content()
        existing = self._new_or_same(Decision, inp.id, content)
        if existing is not None:
            return Applied("unchanged", existing)
        self._check_references(inp)
        details = {k: v for k, v in content.items() if k not in ("id", "action", *DATE_ROLES)}
        decided, announced, effective = (
            FuzzyDate(content[r]) if r in content else None for r in DATE_ROLES
        )
        decision = Decision(inp.id, inp.action, decided, announced, effective, details, key_id)
        return Applied("imported", decision)

    def _check_references(self, fields: DecisionFields) -> None:
        """Every id a decision names must be recorded (here or earlier in the batch)."""
        if fields.treaty is not None:
            self.require(Treaty.KIND, fields.treaty, ("treaty",))
        categories = []
        for i, weapon in enumerate(fields.weapons or []):
            if weapon.system is not None:
                self.require(Weapon.KIND, weapon.system, ("weapons", str(i), "system"))
            if weapon.category is not None:
                categories.append((("weapons", str(i), "category"), weapon.category))
        self._check_categories(categories)
        for relation, name in RELATION_FIELDS.items():
            target = getattr(fields, relation)
            if target is not None:
                self.require(Decision.KIND, target, (name,))

    def _correctDecision(self, inp: CorrectDecisionInput, key_id: str | None) -> Applied:  # noqa: N802
        decision = self.require(Decision.KIND, inp.id, ("id",))
        assert isinstance(decision, Decision)
        changes = inp.changes.content()
        merged = apply_changes(decision.fields, changes)
        try:
            check_decision_shape({**_snake(merged), "id": inp.id})
        except ValueError as exc:
            raise InvalidInput([FieldError(("changes",), str(exc))]) from None
        self._check_references(inp.changes)
        content = inp.content()
        changed = decision.correct(changes, inp.reason, content["sources"], key_id)
        return Applied("imported" if changed else "unchanged", decision)

    def _retractDecision(self, inp: RetractDecisionInput, key_id: str | None) -> Applied:  # noqa: N802
        decision = self.require(Decision.KIND, inp.id, ("id",))
        assert isinstance(decision, Decision)
        changed = decision.retract(inp.reason, inp.content()["sources"], key_id)
        return Applied("imported" if changed else "unchanged", decision)

    def _recordStatement(self, inp: RecordStatementInput, key_id: str | None) -> Applied:  # noqa: N802
        content = inp.content()
        existing = self._new_or_same(Statement, inp.id, content)
        if existing is not None:
            return Applied("unchanged", existing)
        self.require(Decision.KIND, inp.about, ("about",))
        return Applied("imported", Statement(inp.id, content, key_id))

    def _recordObservation(self, inp: RecordObservationInput, key_id: str | None) -> Applied:  # noqa: N802
        content = inp.content()
        content["value"] = exact_number(inp.value)
        existing = self._new_or_same(Observation, inp.id, content)
        if existing is not None:
            return Applied("unchanged", existing)
        return Applied("imported", Observation(inp.id, content, key_id))

    def _translateRecord(self, inp: TranslateRecordInput, key_id: str | None) -> Applied:  # noqa: N802
        content = inp.content()
        existing = self._new_or_same(Translation, inp.id, content)
        if existing is not None:
            return Applied("unchanged", existing)
        kind = inp.kind.kind
        record = self.require(kind, inp.record, ("record",))
        original = record.fields if isinstance(record, Decision) else record.content
        originals = TRANSLATABLE[inp.kind]
        missing = [
            FieldError((name,), f"{kind} {inp.record!r} has no {originals[name]} to translate")
            for name in inp.texts()
            if not original.get(originals[name])
        ]
        if missing:
            raise InvalidInput(missing)
        return Applied("imported", Translation(inp.id, content, key_id))


def exact_number(value: float) -> str:
    """A number as a decimal string, so stored events never hold binary floats."""
    return str(int(value)) if value.is_integer() else repr(value)


_CAMEL_TO_SNAKE = {name: field.alias or name for name, field in DecisionFields.model_fields.items()}


_SNAKE = {alias: name for name, alias in _CAMEL_TO_SNAKE.items()}


def _snake(fields: dict[str, Any]) -> dict[str, Any]:
    return {_SNAKE.get(k, k): v for k, v in fields.items()}
