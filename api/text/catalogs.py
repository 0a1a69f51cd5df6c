"""Interface messages: the Babel gettext catalogs in api/locale, compiled when first used."""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"
LANGS = ("en", "fr", "uk")


def po_path(lang: str) -> Path:
    """The catalog file of a language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def N_(message: str) -> str:  # noqa: N802 -- the name pybabel extracts by default
    """Marks a message for extraction where it is defined; it is translated where shown."""
    return message


# Compiled in memory from the .po files the package ships: no build step, no stale .mo file.
@lru_cache(maxsize=len(LANGS))
def translations(lang: str) -> Translations:
    """The compiled catalog of a language (English when unknown)."""
    lang = lang if lang in LANGS else "en"
    with po_path(lang).open("rb") as file:
        catalog = read_po(file, locale=lang, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def tr(lang: str, message: str) -> str:
    """One message in a language (extracted by the keyword `tr:2`)."""
    return translations(lang).gettext(message)


def trp(lang: str, context: str, message: str) -> str:
    """A message told apart from the same English words by its context (`trp:2c,3`)."""
    return str(translations(lang).pgettext(context, message))
