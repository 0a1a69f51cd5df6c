"""Names the embeds show (actions, weapon categories, roles, countries) in the reader's language."""

from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale

from api.text.catalogs import LANGS, N_, tr
from api.text.display import LOCALES

__all__ = ["LANGS", "action_label", "category_label", "country_name", "role_label"]

ACTIONS = {
    "PLEDGE": N_("Pledge"),
    "AUTHORIZE_TRANSFER": N_("Transfer authorized"),
    "DELIVER": N_("Delivery"),
    "AUTHORIZE_USE": N_("Use authorized"),
    "RESTRICT_USE": N_("Use restricted"),
    "ADOPT_POLICY": N_("Policy adopted"),
    "SUSPEND": N_("Suspension"),
    "RESUME": N_("Resumption"),
    "FIRST_USE_REPORTED": N_("First use reported"),
    "SIGN": N_("Signature"),
    "RATIFY": N_("Ratification"),
    "ACCEDE": N_("Accession"),
    "ENTRY_INTO_FORCE": N_("Entry into force"),
    "ANNOUNCE_WITHDRAWAL": N_("Withdrawal announced"),
    "NOTIFY_WITHDRAWAL": N_("Withdrawal notified"),
    "WITHDRAWAL_EFFECTIVE": N_("Withdrawal effective"),
    "SUSPEND_OBLIGATIONS": N_("Obligations suspended"),
}

CATEGORIES = {
    "antipersonnel-landmine": N_("antipersonnel landmines"),
    "anti-vehicle-landmine": N_("anti-vehicle landmines"),
    "cluster-munition": N_("cluster munitions"),
    "short-range-ballistic-missile": N_("short-range ballistic missiles"),
    "cruise-missile": N_("cruise missiles"),
    "multiple-rocket-launcher": N_("multiple rocket launchers"),
    "combat-aircraft": N_("combat aircraft"),
    "air-defence-system": N_("air defence systems"),
    "artillery-shell": N_("artillery shells"),
}

# Nouns, not past participles: "(decided)" next to a date read like a qualifier of the date.
ROLES = {
    "ACTOR": N_("decision-maker"),
    "RECIPIENT": N_("recipient"),
    "PARTY": N_("treaty party"),
}


def action_label(action: str, lang: str) -> str:
    """'Transfer authorized' for AUTHORIZE_TRANSFER, in the reader's language."""
    message = ACTIONS.get(action)
    return tr(lang, message) if message else action.replace("_", " ").capitalize()


def category_label(slug: str, lang: str) -> str:
    """A weapon category in words; categories outside the list keep their slug's words."""
    message = CATEGORIES.get(slug)
    return tr(lang, message) if message else slug.replace("-", " ")


def role_label(role: str | None, lang: str) -> str | None:
    """What part a country plays in a decision on its timeline."""
    message = ROLES.get(role or "")
    return tr(lang, message) if message else None


@lru_cache(maxsize=4096)  # a page names the same few countries on every entry
def country_name(alpha3: str, lang: str) -> str:
    """A country's name in the reader's language (CLDR territory names), from ISO alpha-3."""
    country = pycountry.countries.get(alpha_3=alpha3)
    if country is None:
        return alpha3
    territories = Locale.parse(LOCALES.get(lang, "en_GB")).territories
    return str(territories.get(country.alpha_2, getattr(country, "name", alpha3)))
