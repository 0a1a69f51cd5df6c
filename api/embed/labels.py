"""Words the embeds show, in English, French and Ukrainian."""
# ruff: noqa: RUF001 -- French and Ukrainian words use their own letters and apostrophes

from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale

from api.display import LOCALES

LANGS = ("en", "fr", "uk")

UI: dict[str, dict[str, str]] = {
    "en": {
        "timeline": "Timeline",
        "country": "Decisions involving {}",
        "system": "Decisions about {}",
        "category": "Decisions about {}",
        "weapons": "Weapons",
        "scope": "Scope",
        "sources": "Sources",
        "status_CORRECTED": "Corrected",
        "status_RETRACTED": "Retracted",
        "reverses": "Reverses",
        "reversed_by": "Reversed by",
        "earlier": "Earlier decisions",
        "later": "Later decisions",
        "cite": "Cite this view",
        "cite_note": "as recorded at log position {}",
        "permalink": "Link to this decision",
        "empty": "No decisions recorded.",
        "pages": "Pages",
        "keys": "Use j and k, or the arrow keys, to move between decisions.",
        "role_ACTOR": "decided",
        "role_RECIPIENT": "recipient",
        "role_PARTY": "treaty party",
        "treaty": "Treaty",
        "provider": "Policy Timeline",
    },
    "fr": {
        "timeline": "Chronologie",
        "country": "Décisions concernant : {}",
        "system": "Décisions sur : {}",
        "category": "Décisions sur : {}",
        "weapons": "Armes",
        "scope": "Portée",
        "sources": "Sources",
        "status_CORRECTED": "Corrigé",
        "status_RETRACTED": "Retiré",
        "reverses": "Annule",
        "reversed_by": "Annulé par",
        "earlier": "Décisions antérieures",
        "later": "Décisions ultérieures",
        "cite": "Citer cette vue",
        "cite_note": "telle qu’enregistrée à la position {} du journal",
        "permalink": "Lien vers cette décision",
        "empty": "Aucune décision enregistrée.",
        "pages": "Pages",
        "keys": "Utilisez j et k, ou les flèches, pour passer d’une décision à l’autre.",
        "role_ACTOR": "décideur",
        "role_RECIPIENT": "destinataire",
        "role_PARTY": "partie au traité",
        "treaty": "Traité",
        "provider": "Policy Timeline",
    },
    "uk": {
        "timeline": "Хронологія",
        "country": "Рішення щодо: {}",
        "system": "Рішення про: {}",
        "category": "Рішення про: {}",
        "weapons": "Озброєння",
        "scope": "Обсяг",
        "sources": "Джерела",
        "status_CORRECTED": "Виправлено",
        "status_RETRACTED": "Відкликано",
        "reverses": "Скасовує",
        "reversed_by": "Скасовано рішенням",
        "earlier": "Раніші рішення",
        "later": "Пізніші рішення",
        "cite": "Цитувати це подання",
        "cite_note": "як записано на позиції журналу {}",
        "permalink": "Посилання на це рішення",
        "empty": "Рішень не записано.",
        "pages": "Сторінки",
        "keys": "Клавіші j і k або стрілки переміщують між рішеннями.",
        "role_ACTOR": "ухвалив",
        "role_RECIPIENT": "отримувач",
        "role_PARTY": "сторона договору",
        "treaty": "Договір",
        "provider": "Policy Timeline",
    },
}

ACTIONS: dict[str, tuple[str, str, str]] = {
    "PLEDGE": ("Pledge", "Promesse", "Зобов’язання"),
    "AUTHORIZE_TRANSFER": ("Transfer authorized", "Transfert autorisé", "Дозвіл на передачу"),
    "DELIVER": ("Delivery", "Livraison", "Постачання"),
    "AUTHORIZE_USE": ("Use authorized", "Usage autorisé", "Дозвіл на застосування"),
    "RESTRICT_USE": ("Use restricted", "Usage restreint", "Обмеження застосування"),
    "ADOPT_POLICY": ("Policy adopted", "Politique adoptée", "Ухвалення політики"),
    "SUSPEND": ("Suspension", "Suspension", "Призупинення"),
    "RESUME": ("Resumption", "Reprise", "Відновлення"),
    "FIRST_USE_REPORTED": ("First use reported", "Premier usage signalé", "Перше застосування"),
    "SIGN": ("Signature", "Signature", "Підписання"),
    "RATIFY": ("Ratification", "Ratification", "Ратифікація"),
    "ACCEDE": ("Accession", "Adhésion", "Приєднання"),
    "ENTRY_INTO_FORCE": ("Entry into force", "Entrée en vigueur", "Набрання чинності"),
    "ANNOUNCE_WITHDRAWAL": ("Withdrawal announced", "Retrait annoncé", "Оголошення виходу"),
    "NOTIFY_WITHDRAWAL": ("Withdrawal notified", "Retrait notifié", "Повідомлення про вихід"),
    "WITHDRAWAL_EFFECTIVE": ("Withdrawal effective", "Retrait effectif", "Вихід набув чинності"),
    "SUSPEND_OBLIGATIONS": (
        "Obligations suspended",
        "Obligations suspendues",
        "Призупинення зобов’язань",
    ),
}

CATEGORIES: dict[str, tuple[str, str, str]] = {
    "antipersonnel-landmine": (
        "antipersonnel landmines",
        "mines antipersonnel",
        "протипіхотні міни",
    ),
    "anti-vehicle-landmine": (
        "anti-vehicle landmines",
        "mines antivéhicule",
        "протитранспортні міни",
    ),
    "cluster-munition": ("cluster munitions", "armes à sous-munitions", "касетні боєприпаси"),
    "short-range-ballistic-missile": (
        "short-range ballistic missiles",
        "missiles balistiques de courte portée",
        "балістичні ракети малої дальності",
    ),
    "cruise-missile": ("cruise missiles", "missiles de croisière", "крилаті ракети"),
    "multiple-rocket-launcher": (
        "multiple rocket launchers",
        "lance-roquettes multiples",
        "реактивні системи залпового вогню",
    ),
    "combat-aircraft": ("combat aircraft", "avions de combat", "бойові літаки"),
    "air-defence-system": ("air defence systems", "systèmes de défense aérienne", "системи ППО"),
    "artillery-shell": ("artillery shells", "obus d’artillerie", "артилерійські снаряди"),
}


def ui(lang: str) -> dict[str, str]:
    """The interface words for a language (English when unknown)."""
    return UI.get(lang, UI["en"])


def action_label(action: str, lang: str) -> str:
    """'Transfer authorized' for AUTHORIZE_TRANSFER, in the reader's language."""
    names = ACTIONS.get(action)
    if names is None:
        return action.replace("_", " ").capitalize()
    return names[LANGS.index(lang) if lang in LANGS else 0]


def category_label(slug: str, lang: str) -> str:
    """A weapon category in words; categories outside the list keep their slug's words."""
    names = CATEGORIES.get(slug)
    if names is None:
        return slug.replace("-", " ")
    return names[LANGS.index(lang) if lang in LANGS else 0]


@lru_cache(maxsize=4096)  # a page names the same few countries on every entry
def country_name(alpha3: str, lang: str) -> str:
    """A country's name in the reader's language, from its ISO alpha-3 code."""
    country = pycountry.countries.get(alpha_3=alpha3)
    if country is None:
        return alpha3
    territories = Locale.parse(LOCALES.get(lang, "en_GB")).territories
    return str(territories.get(country.alpha_2, getattr(country, "name", alpha3)))
