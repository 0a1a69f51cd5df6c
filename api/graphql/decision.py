"""The Decision type: every field, its relations, statements and history."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.flags import ComplianceFlag, flags_of
from api.graphql.sources import Source, parse_datetime, sources_of
from api.graphql.translation import Translation, in_lang, translations_field
from api.graphql.types import (
    CertaintyEnum,
    DecisionAction,
    DecisionStatusEnum,
    FuzzyDate,
    HistoryEntry,
    Official,
    Statement,
    WeaponRef,
)
from domain.decision import sort_date
from domain.values import Action, Certainty, DecisionStatus, RecordKind
from projections.readmodels.documents import DecisionDoc


@strawberry.type
class Decision:
    id: strawberry.ID
    text: strawberry.Private[dict[str, str | None]]
    """The original headline, summary and scope."""
    certainty: CertaintyEnum
    reported_on: FuzzyDate | None
    action: DecisionAction
    actor: str
    officials: list[Official]
    recipient: str | None
    treaty: strawberry.ID | None
    weapons: list[WeaponRef]
    decided_on: FuzzyDate | None
    announced_on: FuzzyDate | None
    effective_on: FuzzyDate | None
    date: FuzzyDate
    status: DecisionStatusEnum
    sources: list[Source]
    as_of: strawberry.Private[int | None]

    @classmethod
    def of(cls, doc: DecisionDoc, as_of: int | None) -> Decision:
        return cls(
            id=strawberry.ID(doc["id"]),
            text={
                "headline": doc["headline"],
                "summary": doc.get("summary"),
                "scope": doc.get("scope"),
            },
            certainty=Certainty(doc.get("certainty", "OFFICIAL")),
            reported_on=FuzzyDate.of(doc.get("reportedOn")),
            action=Action(doc["action"]),
            actor=doc["actor"],
            officials=[
                Official(
                    name=o["name"], office=o.get("office"), announced=o.get("announced", False)
                )
                for o in doc.get("officials", [])
            ],
            recipient=doc.get("recipient"),
            treaty=strawberry.ID(treaty) if (treaty := doc.get("treaty")) else None,
            weapons=[
                WeaponRef(system=w.get("system"), category=w["category"]) for w in doc["weapons"]
            ],
            decided_on=FuzzyDate.of(doc.get("decidedOn")),
            announced_on=FuzzyDate.of(doc.get("announcedOn")),
            effective_on=FuzzyDate.of(doc.get("effectiveOn")),
            date=FuzzyDate.on(sort_date(doc).edtf),
            status=DecisionStatus(doc["status"]),
            sources=sources_of(doc.get("sources")),
            as_of=as_of,
        )

    def _in_lang(self, info: Info[Context, None], field: str, lang: str | None) -> Any:
        original = self.text[field]
        return in_lang(info, RecordKind.DECISION, str(self.id), self.as_of, field, original, lang)

    @strawberry.field(description="The headline, in `lang` when translated (en, fr, uk).")
    def headline(self, info: Info[Context, None], lang: str | None = None) -> str:
        return self._in_lang(info, "headline", lang)  # type: ignore[no-any-return]

    @strawberry.field(description="The summary, in `lang` when translated (en, fr, uk).")
    def summary(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return self._in_lang(info, "summary", lang)  # type: ignore[no-any-return]

    @strawberry.field(description="The scope, in `lang` when translated (en, fr, uk).")
    def scope(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        return self._in_lang(info, "scope", lang)  # type: ignore[no-any-return]

    @strawberry.field(description="Translations of the text, one per language.")
    async def translations(self, info: Info[Context, None]) -> list[Translation]:
        return await translations_field(info, RecordKind.DECISION, str(self.id), self.as_of)

    async def _related(
        self, info: Info[Context, None], relation: str, inverse: bool = False
    ) -> list[Decision]:
        loaders = info.context.loaders
        ids = await loaders.related(relation, inverse).load((str(self.id), self.as_of))
        docs = await loaders.decision.load_many([(i, self.as_of) for i in ids])
        return [Decision.of(d, self.as_of) for d in docs if d is not None]

    @strawberry.field
    async def reverses(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "reverses")

    @strawberry.field
    async def reversed_by(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "reverses", inverse=True)

    @strawberry.field(description="policies this decision is an exception to, left standing")
    async def departs_from(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "departsFrom")

    @strawberry.field
    async def departed_from_by(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "departsFrom", inverse=True)

    @strawberry.field
    async def supersedes(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "supersedes")

    @strawberry.field
    async def superseded_by(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "supersedes", inverse=True)

    @strawberry.field
    async def implements(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "implements")

    @strawberry.field
    async def implemented_by(self, info: Info[Context, None]) -> list[Decision]:
        return await self._related(info, "implements", inverse=True)

    @strawberry.field
    async def statements(self, info: Info[Context, None]) -> list[Statement]:
        docs = await info.context.loaders.statements.load((str(self.id), self.as_of))
        return [Statement.of(d, self.as_of) for d in docs]

    @strawberry.field
    async def history(self, info: Info[Context, None]) -> list[HistoryEntry]:
        rows = await info.context.loaders.history.load((str(self.id), self.as_of))
        return [
            HistoryEntry(
                position=r["position"],
                event_type=r["eventType"],
                recorded_at=parse_datetime(r["recordedAt"]),
                reason=r["reason"],
                key_id=r["keyId"],
                # A decision's own sources are never corrected: they are those it was recorded with.
                sources=self.sources if r["sources"] is None else sources_of(r["sources"]),
                fields=r["fields"],
                lang=r["translation"]["lang"] if "translation" in r else None,
            )
            for r in rows
        ]

    @strawberry.field
    async def compliance_flags(self, info: Info[Context, None]) -> list[ComplianceFlag]:
        rows = await info.context.loaders.flags.load((str(self.id), self.as_of))
        return flags_of(rows, self.as_of)
