"""Fuzzy dates shown honestly, in the reader's language, through CLDR patterns."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from babel import Locale
from babel.dates import format_date

from api.text.catalogs import LANGS, trp
from domain.dates import FuzzyDate, Precision

LOCALES = {"en": "en_GB", "fr": "fr_FR", "uk": "uk_UA"}


@lru_cache(maxsize=len(LANGS) * 3 * 2)
def _pattern(lang: str, precision: Precision, after_preposition: bool) -> str:
    """The CLDR pattern of a day, a month or a year, as the language writes it."""
    locale = Locale.parse(LOCALES[lang])
    if precision is Precision.DAY:
        return str(locale.date_formats["long"].pattern)
    if precision is Precision.YEAR:
        return str(locale.datetime_skeletons["y"].pattern)
    pattern = str(locale.datetime_skeletons["yMMMM"].pattern)
    # A Ukrainian month stands alone in the nominative, but "бл." takes the genitive.
    return pattern.replace("LLLL", "MMMM") if after_preposition else pattern


def _day(day: dt.date, lang: str, pattern: str) -> str:
    if lang == "fr" and day.day == 1:  # French writes the first of the month "1er mars"
        pattern = pattern.replace("d ", "d'er' ", 1)
    return format_date(day, pattern, locale=LOCALES[lang])


SERVED_LANGS = tuple(LOCALES)


class UnservedLanguage(ValueError):
    """A language the product has no translations for; the message names `lang`."""


def served_lang(lang: str) -> str:
    """`lang` if the product serves it, else UnservedLanguage (never a new cache key)."""
    if lang not in LOCALES:
        shown = lang if len(lang) <= 20 else lang[:20] + "…"
        raise UnservedLanguage(f"lang: {shown!r} is not one of {', '.join(SERVED_LANGS)}")
    return lang


def display_date(date: FuzzyDate, lang: str = "en") -> str:
    """'17 November 2024', 'November 2024', 'c. 23 June 2022', '17 November 2024?'."""
    lang = lang if lang in LOCALES else "en"
    text = _day(date.earliest, lang, _pattern(lang, date.precision, date.approximate))
    if date.approximate and date.precision is Precision.DAY:
        text = trp(lang, "approximate day", "c. {date}").format(date=text)
    elif date.approximate:
        text = trp(lang, "approximate month or year", "c. {date}").format(date=text)
    if date.uncertain:
        text = trp(lang, "uncertain date", "{date}?").format(date=text)
    return text


@lru_cache(maxsize=65_536)
def display_edtf(edtf: str, lang: str = "en") -> str:
    """`display_date` of an EDTF string, computed once per date and language (Babel's
    formatting is the slow part of a page of dates); only served languages are keys."""
    return display_date(FuzzyDate(edtf), served_lang(lang))


@lru_cache(maxsize=4096)
def display_day(day: str, lang: str = "en") -> str:
    """A calendar day or timestamp ('2024-11-21', '2024-11-21T10:00:00+00:00') in words."""
    return display_edtf(day[:10], lang)
