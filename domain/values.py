"""Value objects and controlled vocabularies shared by every record."""

from __future__ import annotations

from enum import Enum
from functools import lru_cache

import pycountry


class Action(Enum):
    """The one verb of a decision."""

    PLEDGE = "PLEDGE"
    AUTHORIZE_TRANSFER = "AUTHORIZE_TRANSFER"
    DELIVER = "DELIVER"
    AUTHORIZE_USE = "AUTHORIZE_USE"
    RESTRICT_USE = "RESTRICT_USE"
    ADOPT_POLICY = "ADOPT_POLICY"
    SUSPEND = "SUSPEND"
    RESUME = "RESUME"
    FIRST_USE_REPORTED = "FIRST_USE_REPORTED"
    SIGN = "SIGN"
    RATIFY = "RATIFY"
    ACCEDE = "ACCEDE"
    ENTRY_INTO_FORCE = "ENTRY_INTO_FORCE"
    ANNOUNCE_WITHDRAWAL = "ANNOUNCE_WITHDRAWAL"
    NOTIFY_WITHDRAWAL = "NOTIFY_WITHDRAWAL"
    WITHDRAWAL_EFFECTIVE = "WITHDRAWAL_EFFECTIVE"
    SUSPEND_OBLIGATIONS = "SUSPEND_OBLIGATIONS"

    @property
    def is_treaty_action(self) -> bool:
        return self in TREATY_ACTIONS

    @property
    def is_transfer(self) -> bool:
        return self in (Action.PLEDGE, Action.AUTHORIZE_TRANSFER, Action.DELIVER)

    @property
    def is_use(self) -> bool:
        return self in (Action.AUTHORIZE_USE, Action.FIRST_USE_REPORTED)


TREATY_ACTIONS = frozenset(
    {
        Action.SIGN,
        Action.RATIFY,
        Action.ACCEDE,
        Action.ENTRY_INTO_FORCE,
        Action.ANNOUNCE_WITHDRAWAL,
        Action.NOTIFY_WITHDRAWAL,
        Action.WITHDRAWAL_EFFECTIVE,
        Action.SUSPEND_OBLIGATIONS,
    }
)


class Stance(Enum):
    """How a statement regards the decision it is about."""

    SUPPORTS = "SUPPORTS"
    CONDEMNS = "CONDEMNS"
    CONCERNED = "CONCERNED"
    NEUTRAL = "NEUTRAL"


class ActorKind(Enum):
    """Who speaks: a state, an official or an organization."""

    STATE = "STATE"
    OFFICIAL = "OFFICIAL"
    ORGANIZATION = "ORGANIZATION"


class Certainty(Enum):
    """How sure the record is that a decision was taken as stated."""

    OFFICIAL = "OFFICIAL"  # announced or published by the deciding side
    REPORTED = "REPORTED"  # reported by others, e.g. the press citing officials
    DISPUTED = "DISPUTED"  # sources disagree


class ObservationBasis(Enum):
    """What a figure is: counted cases or an estimate."""

    RECORDED = "RECORDED"
    ESTIMATE = "ESTIMATE"


class RecordKind(Enum):
    """What kind of record a translation translates."""

    DECISION = "DECISION"
    TREATY = "TREATY"
    WEAPON = "WEAPON"
    STATEMENT = "STATEMENT"
    OBSERVATION = "OBSERVATION"

    @property
    def kind(self) -> str:
        """The record's kind as stored (`decision`, `treaty`, ...)."""
        return self.value.lower()


ORIGINAL_LANG = "en"
"""The language recorded text is written in; translations give the other ones."""
TRANSLATION_LANGS = ("fr", "uk")
"""Languages a translation may be recorded in: those the product serves besides English."""
LANGS = (ORIGINAL_LANG, *TRANSLATION_LANGS)

TRANSLATABLE: dict[RecordKind, dict[str, str]] = {
    RecordKind.DECISION: {"headline": "headline", "summary": "summary", "scope": "scope"},
    RecordKind.TREATY: {"name": "name", "shortName": "shortName"},
    RecordKind.WEAPON: {"name": "name"},
    RecordKind.STATEMENT: {"quote": "quote"},
    RecordKind.OBSERVATION: {"label": "label", "note": "note", "unit": "unit"},
}
"""For each kind, its translatable fields and the original field each one translates."""


class DecisionStatus(Enum):
    """Where a decision stands after corrections and retractions."""

    ACTIVE = "ACTIVE"
    CORRECTED = "CORRECTED"
    RETRACTED = "RETRACTED"


WEAPON_CATEGORIES: frozenset[str] = frozenset(
    {
        "antipersonnel-landmine",
        "anti-vehicle-landmine",
        "cluster-munition",
        "short-range-ballistic-missile",
        "cruise-missile",
        "multiple-rocket-launcher",
        "combat-aircraft",
        "air-defence-system",
        "artillery-shell",
    }
)
"""The controlled list; a recorded weapon may extend it with its own category."""

WORLD = "WORLD"


@lru_cache(maxsize=512)
def country_name(code: str) -> str | None:
    """The ISO 3166-1 name of an alpha-3 code, or None when the code is not a country."""
    if len(code) != 3 or not code.isascii() or not code.isupper():
        return None
    country = pycountry.countries.get(alpha_3=code)
    return None if country is None else str(getattr(country, "common_name", country.name))
