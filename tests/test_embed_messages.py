"""The interface messages: complete gettext catalogs, each language's typography and dates."""
# ruff: noqa: RUF001 -- French and Ukrainian words use their own letters and spaces

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from api.embed.labels import country_name
from api.text.catalogs import LANGS, LOCALE_DIR, po_path
from api.text.display import display_edtf
from projections.service import Store
from tests.embed_support import seeded

ROOT = Path(__file__).resolve().parent.parent
NNBSP = "\u202f"
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with po_path(lang).open("rb") as file:
        return read_po(file, locale=lang)


def _extracted() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """Every message the code uses, extracted as `make messages` does."""
    method_map = [("**.py", "python")]
    keywords = {**DEFAULT_KEYWORDS, "tr": (2,), "trp": ((2, "c"), 3)}
    found = extract_from_dir(str(ROOT / "api"), method_map, {}, keywords)
    return {(context, message) for _, _, message, _, context in found}


def test_the_catalogs_hold_exactly_the_messages_the_code_uses() -> None:
    used = _extracted()
    with (LOCALE_DIR / "messages.pot").open("rb") as file:
        template = {(m.context, m.id) for m in read_po(file) if m.id}
    assert template == used, "run `make messages` and translate what it adds"
    for lang in LANGS:
        assert {(m.context, m.id) for m in _catalog(lang) if m.id} == used, lang


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_is_translated_and_none_is_fuzzy(lang: str) -> None:
    for message in _catalog(lang):
        if not message.id:
            continue
        assert not message.fuzzy, f"{lang}: {message.id!r} is fuzzy"
        if isinstance(message.id, str):
            assert message.string, f"{lang}: {message.id!r} has no translation"
            placeholders = sorted(PLACEHOLDER.findall(message.id))
            assert sorted(PLACEHOLDER.findall(message.string)) == placeholders, message.id
            continue
        # A plural: every form the language has, each naming nothing the English does not.
        forms = [f for f in message.string if f]
        assert len(forms) == _catalog(lang).num_plurals, f"{lang}: {message.id!r}"
        allowed = set(PLACEHOLDER.findall(message.id[1]))
        assert all(set(PLACEHOLDER.findall(f)) <= allowed for f in forms), message.id


def test_french_has_a_narrow_no_break_space_before_double_punctuation() -> None:
    for message in _catalog("fr"):
        if not message.id:
            continue  # the header
        strings = [message.string] if isinstance(message.string, str) else message.string
        for string in strings:
            text = PLACEHOLDER.sub("x", string or "")
            for found in re.finditer(r"[:;?!]", text):
                before = text[found.start() - 1] if found.start() else ""
                assert before == NNBSP, f"fr: {string!r}"


def test_the_package_ships_the_catalogs() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["api"]
    for lang in LANGS:
        path = po_path(lang).relative_to(ROOT / "api").as_posix()
        assert any(fnmatch.fnmatch(path, g) for g in globs), path


@pytest.mark.parametrize(
    ("edtf", "lang", "shown"),
    [
        ("2024-03-01", "fr", "1er mars 2024"),
        ("2024-03-02", "fr", "2 mars 2024"),
        ("2022-06-23~", "fr", "vers le 23 juin 2022"),
        ("2023-08~", "fr", "vers août 2023"),
        ("2024-11-17?", "fr", f"17 novembre 2024{NNBSP}?"),
        ("2023-08", "uk", f"серпень 2023{NNBSP}р."),
        ("2023-08~", "uk", f"бл. серпня 2023{NNBSP}р."),
        ("2024-11-17", "uk", f"17 листопада 2024{NNBSP}р."),
        ("2022-06-23~", "en", "c. 23 June 2022"),
        ("2024-03-01", "en", "1 March 2024"),
    ],
)
def test_dates_read_as_each_language_writes_them(edtf: str, lang: str, shown: str) -> None:
    assert display_edtf(edtf, lang) == shown


def test_country_names_come_from_cldr_in_the_readers_language() -> None:
    assert [country_name("USA", lang) for lang in LANGS] == [
        "United States",
        "États-Unis",
        "Сполучені Штати",
    ]


def test_the_french_and_ukrainian_pages_read_naturally(store: Store) -> None:
    client = seeded(store)
    fr = client.get("/embed/timeline?country=UKR&lang=fr").text
    assert f"<h1><bdi>Ukraine{NNBSP}: chronologie des décisions</bdi></h1>" in fr
    assert f"Rôle{NNBSP}: destinataire" in fr and f"Fait exception à{NNBSP}: <a" in fr
    uk = client.get("/embed/timeline?country=UKR&lang=uk").text
    assert "<h1><bdi>Україна: хронологія рішень</bdi></h1>" in uk
    assert "Роль: отримувач" in uk and "Сфера дії" in uk and "(ухвалив)" not in uk
    for html in (fr, uk):  # source dates in words, never raw ISO
        assert "(2024-11-21)" not in html
    assert "(21 novembre 2024)" in fr and f"(21 листопада 2024{NNBSP}р.)" in uk
