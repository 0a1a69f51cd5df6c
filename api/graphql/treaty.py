"""The Treaty type: what it prohibits and who is party to it on any date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.types import FuzzyDate, Membership, MembershipStatus, Source, sources_of


@strawberry.type
class Treaty:
    id: strawberry.ID
    name: str
    short_name: str | None
    adopted_on: FuzzyDate | None
    opened_for_signature_on: FuzzyDate | None
    entry_into_force_on: FuzzyDate | None
    prohibits: list[str]
    sources: list[Source]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> Treaty:
        return cls(
            id=strawberry.ID(doc["id"]),
            name=doc["name"],
            short_name=doc.get("shortName"),
            adopted_on=FuzzyDate.of(doc.get("adoptedOn")),
            opened_for_signature_on=FuzzyDate.of(doc.get("openedForSignatureOn")),
            entry_into_force_on=FuzzyDate.of(doc.get("entryIntoForceOn")),
            prohibits=list(doc.get("prohibits", [])),
            sources=sources_of(doc.get("sources")),
        )

    @strawberry.field
    def parties(
        self, info: Info[Context, None], as_of: int | None = None, valid_at: dt.date | None = None
    ) -> list[Membership]:
        rows = info.context.store.read.parties(str(self.id), as_of=as_of, valid_at=valid_at)
        return [
            Membership(country=r["country"], status=MembershipStatus(r["status"]), since=r["since"])
            for r in rows
        ]

    @strawberry.field
    def party_count(
        self, info: Info[Context, None], as_of: int | None = None, valid_at: dt.date | None = None
    ) -> int:
        rows = info.context.store.read.parties(str(self.id), as_of=as_of, valid_at=valid_at)
        return len(rows)
