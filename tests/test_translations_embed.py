"""Embeds in the reader's language: translated text in the read model and in TimelineJS JSON."""
# ruff: noqa: RUF001 -- French and Ukrainian text uses its own apostrophes

from __future__ import annotations

from typing import Any

from api.embed.params import View
from api.embed.timeline import load_page
from projections.service import Store
from tests.embed_support import seeded

EDITORS = [{"publisher": "Policy Timeline editors"}]
APL = "usa-2024-11-20-apl-ukraine"
ATACMS = "usa-2024-11-17-atacms-strikes-russia"


def translate(store: Store, ident: str, kind: str, record: str, lang: str, **texts: str) -> int:
    data = {"id": ident, "kind": kind, "record": record, "lang": lang, "sources": EDITORS}
    _, position = store.execute("translateRecord", {**data, **texts})
    assert position is not None
    return position


def events(client: Any, query: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/timelinejs.json?{query}")
    assert response.status_code == 200, response.text
    return {e["unique_id"]: e for e in response.json()["events"]}


def test_timelinejs_in_french_gives_translated_text_and_every_date_in_french(
    store: Store,
) -> None:
    client = seeded(store)
    translate(
        store,
        "fr-apl",
        "DECISION",
        APL,
        "fr",
        headline="Biden autorise des mines antipersonnel pour l’Ukraine",
    )
    translate(
        store, "fr-atacms", "DECISION", ATACMS, "fr", scope="frappes à l’intérieur de la Russie"
    )
    french = events(client, "country=UKR&lang=fr")
    assert french[APL]["text"]["headline"] == (
        "Biden autorise des mines antipersonnel pour l’Ukraine"
    )
    assert "frappes à l’intérieur de la Russie" in french[ATACMS]["text"]["text"]
    # Not translated: the English original, never an empty field.
    assert (
        french[ATACMS]["text"]["headline"] == "Biden lets Ukraine strike inside Russia with ATACMS"
    )
    assert french["ukr-1999-02-24-sign-ottawa"]["start_date"] == {
        "year": 1999,
        "month": 2,
        "day": 24,
        "display_date": "24 février 1999",
    }
    ukrainian = events(client, "country=UKR&lang=uk")
    assert ukrainian["ukr-1999-02-24-sign-ottawa"]["start_date"]["display_date"] == (
        "24 лютого 1999\u202fр."
    )
    assert ukrainian[APL]["text"]["headline"] == "Biden authorizes antipersonnel mines for Ukraine"


def test_the_embed_read_model_shows_translated_names_languages_and_stale_fields(
    store: Store,
) -> None:
    seeded(store)
    translate(
        store, "uk-ottawa", "TREATY", "ottawa-convention", "uk", shortName="Оттавська конвенція"
    )
    translate(store, "uk-apl", "DECISION", APL, "uk", headline="Байден дозволив протипіхотні міни")
    view = View(kind="country", key="UKR", lang="uk")
    entries = {e.id: e for e in load_page(store, view).entries}
    assert entries["ukr-1999-02-24-sign-ottawa"].treaty == "Оттавська конвенція"
    assert entries[APL].headline == "Байден дозволив протипіхотні міни"
    assert entries[APL].langs == {"headline": "uk", "summary": "en", "scope": "en"}
    assert entries[APL].stale == []
    store.execute(
        "correctDecision",
        {
            "id": APL,
            "changes": {"headline": "Biden authorizes the supply of antipersonnel mines"},
            "reason": "the article says supply",
            "sources": EDITORS,
        },
    )
    corrected = {e.id: e for e in load_page(store, view).entries}[APL]
    assert corrected.headline == "Байден дозволив протипіхотні міни"
    assert corrected.stale == ["headline"]
    english = {e.id: e for e in load_page(store, View(kind="country", key="UKR")).entries}[APL]
    assert english.headline == "Biden authorizes the supply of antipersonnel mines"
    assert english.langs == {"headline": "en", "summary": "en", "scope": "en"}


def test_an_unserved_language_in_timelinejs_is_a_400_naming_lang(store: Store) -> None:
    response = seeded(store).get("/timelinejs.json?country=UKR&lang=de")
    assert response.status_code == 400
    assert "lang" in response.json()["error"]


def test_timelinejs_marks_a_translation_older_than_the_corrected_original(store: Store) -> None:
    client = seeded(store)
    translate(store, "fr-atacms", "DECISION", ATACMS, "fr", scope="frappes en Russie")
    assert "Traduit avant" not in events(client, "country=UKR&lang=fr")[ATACMS]["text"]["text"]
    store.execute(
        "correctDecision",
        {
            "id": ATACMS,
            "changes": {"scope": "strikes in depth inside Russia"},
            "reason": "the article's words",
            "sources": EDITORS,
        },
    )
    text = events(client, "country=UKR&lang=fr")[ATACMS]["text"]["text"]
    assert "frappes en Russie" in text
    assert "<em>Traduit avant une correction de l’original\u202f: portée</em>" in text
