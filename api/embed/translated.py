"""Recorded text in the reader's language: the translation when there is one, else the original."""

from __future__ import annotations

from domain.values import ORIGINAL_LANG
from projections.readmodels.documents import TranslationDoc, TreatyDoc, WeaponDoc
from projections.readmodels.queries import ReadModel

Texts = dict[str, TranslationDoc]
"""Record id -> its translation document in the view's language."""


def translations(read: ReadModel, kind: str, ids: set[str], lang: str, as_of: int | None) -> Texts:
    """The translations into `lang` of these records (one query; none for the original)."""
    if lang == ORIGINAL_LANG or not ids:
        return {}
    found = read.translations(kind, sorted(ids), as_of)
    return {i: doc for i, docs in found.items() for doc in docs if doc["lang"] == lang}


def text(
    texts: Texts, record: str, field: str, original: str | None, lang: str
) -> tuple[str | None, str]:
    """The field's text and the language it is in."""
    doc = texts.get(record)
    if original is None or doc is None or field not in doc["fields"]:
        return original, ORIGINAL_LANG
    return doc["fields"][field], lang


def stale(texts: Texts, record: str) -> list[str]:
    """The translated fields whose original was corrected after they were translated."""
    doc = texts.get(record)
    return list(doc["stale"]) if doc is not None else []


def _fields(texts: Texts, record: str) -> dict[str, str]:
    doc = texts.get(record)
    return doc["fields"] if doc is not None else {}


def name(texts: Texts, record: TreatyDoc | WeaponDoc) -> str:
    """A treaty's or weapon's short name as a reader sees it: short name, designation, name."""
    fields = _fields(texts, record["id"])
    short = fields.get("shortName") or record.get("shortName")
    return str(short or record.get("designation") or fields.get("name") or record["name"])


def name_lang(texts: Texts, record: TreatyDoc | WeaponDoc, lang: str) -> str:
    """The language of what `name` shows (a designation reads the same in every language)."""
    fields = _fields(texts, record["id"])
    if fields.get("shortName"):
        return lang
    if record.get("shortName"):
        return ORIGINAL_LANG
    if record.get("designation") or fields.get("name"):
        return lang
    return ORIGINAL_LANG
