"""The Treaty type: what it prohibits and who is party to it on any date."""

from __future__ import annotations

import asyncio
import datetime as dt

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import user_error
from api.graphql.sources import Source, sources_of
from api.graphql.translation import Translation, in_lang, translations_field
from api.graphql.types import FuzzyDate, Membership, MembershipStatus
from domain.errors import PolicyRecordError
from domain.values import RecordKind
from projections.readmodels.arguments import check_country
from projections.readmodels.documents import StandingDoc, TreatyDoc


@strawberry.type
class Standing:
    country: str
    status: MembershipStatus
    signed_on: dt.date | None
    party_since: dt.date | None
    withdrawal_effective_on: dt.date | None

    @classmethod
    def of(cls, row: StandingDoc) -> Standing:
        return cls(
            country=row["country"],
            status=MembershipStatus(row["status"]),
            signed_on=row["signedOn"],
            party_since=row["since"],
            withdrawal_effective_on=row["withdrawalOn"],
        )


@strawberry.type
class Treaty:
    id: strawberry.ID
    original_name: strawberry.Private[str]
    original_short_name: strawberry.Private[str | None]
    adopted_on: FuzzyDate | None
    opened_for_signature_on: FuzzyDate | None
    entry_into_force_on: FuzzyDate | None
    prohibits: list[str]
    sources: list[Source]

    @classmethod
    def of(cls, doc: TreatyDoc) -> Treaty:
        return cls(
            id=strawberry.ID(doc["id"]),
            original_name=doc["name"],
            original_short_name=doc.get("shortName"),
            adopted_on=FuzzyDate.of(doc.get("adoptedOn")),
            opened_for_signature_on=FuzzyDate.of(doc.get("openedForSignatureOn")),
            entry_into_force_on=FuzzyDate.of(doc.get("entryIntoForceOn")),
            prohibits=list(doc.get("prohibits", [])),
            sources=sources_of(doc.get("sources")),
        )

    @strawberry.field(description="Where one state stands on validAt (default today): any state.")
    async def standing(
        self,
        info: Info[Context, None],
        country: str,
        valid_at: dt.date | None = None,
        as_of: int | None = None,
    ) -> Standing:
        try:
            code = check_country("country", country)
        except PolicyRecordError as exc:
            raise user_error(exc) from None
        read = info.context.store.read
        row = await asyncio.to_thread(
            read.standing, str(self.id), code, as_of=as_of, valid_at=valid_at
        )
        return Standing.of(row)

    @strawberry.field(description="States that signed and are not yet bound on validAt.")
    async def signatories(
        self, info: Info[Context, None], valid_at: dt.date | None = None, as_of: int | None = None
    ) -> list[Standing]:
        read = info.context.store.read
        rows = await asyncio.to_thread(
            read.signatories, str(self.id), as_of=as_of, valid_at=valid_at
        )
        return [Standing.of(r) for r in rows]

    @strawberry.field(description="The name, in `lang` when translated (en, fr, uk).")
    def name(self, info: Info[Context, None], lang: str | None = None) -> str:
        original = self.original_name
        return in_lang(info, RecordKind.TREATY, str(self.id), None, "name", original, lang)  # type: ignore[no-any-return]

    @strawberry.field(description="The short name, in `lang` when translated (en, fr, uk).")
    def short_name(self, info: Info[Context, None], lang: str | None = None) -> str | None:
        original = self.original_short_name
        kind = RecordKind.TREATY
        return in_lang(info, kind, str(self.id), None, "shortName", original, lang)  # type: ignore[no-any-return]

    @strawberry.field(description="Translations of the names, one per language.")
    async def translations(self, info: Info[Context, None]) -> list[Translation]:
        return await translations_field(info, RecordKind.TREATY, str(self.id), None)

    @strawberry.field
    async def parties(
        self, info: Info[Context, None], as_of: int | None = None, valid_at: dt.date | None = None
    ) -> list[Membership]:
        read = info.context.store.read
        rows = await asyncio.to_thread(read.parties, str(self.id), as_of=as_of, valid_at=valid_at)
        # A party is bound: its `since` is always known.
        return [
            Membership(country=r["country"], status=MembershipStatus(r["status"]), since=since)
            for r in rows
            if (since := r["since"]) is not None
        ]

    @strawberry.field
    async def party_count(
        self, info: Info[Context, None], as_of: int | None = None, valid_at: dt.date | None = None
    ) -> int:
        read = info.context.store.read
        rows = await asyncio.to_thread(read.parties, str(self.id), as_of=as_of, valid_at=valid_at)
        return len(rows)
