"""Fuzzy dates shown honestly, in the reader's language."""

from __future__ import annotations

from functools import lru_cache

from babel.dates import format_date

from domain.dates import FuzzyDate, Precision

LOCALES = {"en": "en_GB", "fr": "fr_FR", "uk": "uk_UA"}
APPROXIMATELY = {"en": "c. {}", "fr": "vers {}", "uk": "бл. {}"}


def display_date(date: FuzzyDate, lang: str = "en") -> str:
    """'17 November 2024', 'November 2024', 'c. 23 June 2022', '17 November 2024?'."""
    lang = lang if lang in LOCALES else "en"
    locale = LOCALES[lang]
    if date.precision is Precision.DAY:
        text = format_date(date.earliest, "long", locale=locale)
    elif date.precision is Precision.MONTH:
        text = format_date(date.earliest, "LLLL y", locale=locale)
    else:
        text = str(date.earliest.year)
    if date.approximate:
        text = APPROXIMATELY[lang].format(text)
    if date.uncertain:
        text += "?"
    return text


@lru_cache(maxsize=65_536)
def display_edtf(edtf: str, lang: str = "en") -> str:
    """`display_date` of an EDTF string, computed once per date and language (Babel's
    formatting is the slow part of a page of dates)."""
    return display_date(FuzzyDate(edtf), lang)
