"""The ComplianceFlag type: who is bound, which act the treaty forbids, and why in words."""

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import coded
from api.graphql.reasons import LANGS, flag_reason
from api.graphql.translation import translations_of
from domain.values import ORIGINAL_LANG, RecordKind
from projections.readmodels.documents import FlagDoc, TreatyDoc


@strawberry.enum
class ProhibitedAct(Enum):
    USE = "USE"
    ACQUIRE = "ACQUIRE"
    TRANSFER = "TRANSFER"


@strawberry.type
class ComplianceFlag:
    decision_id: strawberry.ID
    country: str
    treaty: strawberry.ID
    weapon_category: str
    act: ProhibitedAct
    row: strawberry.Private[FlagDoc]
    as_of: strawberry.Private[int | None]

    @strawberry.field(description="Why the decision is flagged, in plain words (en, fr, uk).")
    async def reason(self, info: Info[Context, None], lang: str | None = None) -> str:
        lang = lang or ORIGINAL_LANG
        if lang not in LANGS:
            raise coded(f"lang: {lang[:16]!r} is not one of {', '.join(LANGS)}", "BAD_USER_INPUT")
        treaty = await info.context.loaders.treaty.load((str(self.treaty), None))
        if lang != ORIGINAL_LANG:
            # The treaty's names in the reader's language, when a translation gives them.
            docs = await translations_of(info, RecordKind.TREATY, str(self.treaty), self.as_of)
            for doc in docs:
                if doc["lang"] == lang and treaty is not None:
                    treaty = cast(TreatyDoc, {**treaty, **doc["fields"]})
        return flag_reason(self.row, treaty, lang)


def flags_of(rows: list[FlagDoc], as_of: int | None) -> list[ComplianceFlag]:
    """The flags of these rows (their treaties are read, batched, only for a `reason`)."""
    return [
        ComplianceFlag(
            decision_id=strawberry.ID(r["decisionId"]),
            country=r["country"],
            treaty=strawberry.ID(r["treaty"]),
            weapon_category=r["weaponCategory"],
            act=ProhibitedAct(r["act"]),
            row=r,
            as_of=as_of,
        )
        for r in rows
    ]
