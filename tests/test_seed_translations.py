"""The bundled story in French and Ukrainian: every seed record translated, in a desk's terms."""
# ruff: noqa: RUF001 -- French and Ukrainian text uses its own apostrophes

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest

from api.cli.main import BUNDLED, SEED_TRANSLATIONS
from domain.values import TRANSLATABLE, TRANSLATION_LANGS, RecordKind
from projections.service import Store
from tests.conftest import seed_lines

RECORDED = {
    "recordTreaty": RecordKind.TREATY,
    "recordWeapon": RecordKind.WEAPON,
    "recordDecision": RecordKind.DECISION,
    "recordStatement": RecordKind.STATEMENT,
    "recordObservation": RecordKind.OBSERVATION,
}


TRANSLATED_FROM = "ca2ffeecb8c72eddc181c55bcffbd4029bad80d657ba6db1a75c78ec1dbd2652"
"""SHA-256 of the English text the bundled translations translate: when a record's text changes,
its translations must be made again (then this digest is updated)."""


@pytest.fixture
def translated(bundled_load: tuple[Store, int]) -> Store:
    """Everything `serve --seed` loads: the story, the membership, then the translations."""
    return bundled_load[0]


def seed_records() -> list[tuple[RecordKind, str]]:
    operations = [json.loads(line) for line in seed_lines() if line.strip()]
    return [(RECORDED[o["op"]], o["input"]["id"]) for o in operations if o["op"] in RECORDED]


def original(store: Store, kind: RecordKind, ident: str) -> dict[str, Any]:
    """The record's text as it stands after the seed's corrections."""
    if kind is RecordKind.DECISION:
        found = store.read.decision(ident)
        assert found is not None
        return found
    return store.read.records(kind.kind, ids=[ident])[0]


def texts(store: Store, lang: str) -> list[str]:
    return [
        text
        for kind, ident in seed_records()
        for doc in store.read.translations(kind.kind, [ident])[ident]
        if doc["lang"] == lang
        for text in doc["fields"].values()
    ]


def test_serve_seed_loads_the_translations_after_the_records_they_translate() -> None:
    assert BUNDLED[0].name == "seed.jsonl"
    assert BUNDLED[-1] == SEED_TRANSLATIONS


def test_every_seed_record_has_french_and_ukrainian_text_for_every_field_it_has(
    translated: Store,
) -> None:
    records = seed_records()
    assert len(records) >= 20
    for kind, ident in records:
        text = original(translated, kind, ident)
        fields = {name for name, source in TRANSLATABLE[kind].items() if text.get(source)}
        assert fields, f"{ident}: nothing to translate"
        docs = translated.read.translations(kind.kind, [ident])[ident]
        assert sorted(d["lang"] for d in docs) == sorted(TRANSLATION_LANGS), ident
        for doc in docs:
            assert set(doc["fields"]) == fields, (ident, doc["lang"])
            # Translated, not copied: only a short word may read the same ("terrible", "%").
            copied = [f for f in fields if doc["fields"][f] == text[TRANSLATABLE[kind][f]]]
            assert all(len(doc["fields"][f]) < 12 for f in copied), (ident, doc["lang"])
            assert doc["stale"] == [], (ident, doc["lang"])
            # Translators named honestly: the editors, no invented person.
            assert {s["publisher"] for s in doc["sources"]} == {"Policy Timeline editors"}


def test_the_translations_translate_the_english_text_as_it_now_stands(translated: Store) -> None:
    lines = SEED_TRANSLATIONS.read_text(encoding="utf-8").splitlines()
    english = {}
    for line in lines:
        data = json.loads(line)["input"]
        kind = RecordKind(data["kind"])
        text = original(translated, kind, data["record"])
        for name, source in TRANSLATABLE[kind].items():
            if name in data:
                english[f"{data['record']}.{name}"] = text[source]
    digest = hashlib.sha256(json.dumps(english, sort_keys=True).encode()).hexdigest()
    assert digest == TRANSLATED_FROM, (
        "the English text of translated records changed: translate it again in "
        "data/seed.translations.jsonl, then set TRANSLATED_FROM to " + digest
    )


def test_the_translations_use_the_terms_a_desk_would_use(translated: Store) -> None:
    def field(kind: str, ident: str, lang: str, name: str) -> str:
        docs = translated.read.translations(kind, [ident])[ident]
        return str(next(d for d in docs if d["lang"] == lang)["fields"][name])

    assert field("treaty", "ottawa-convention", "fr", "shortName") == "Convention d’Ottawa"
    assert field("treaty", "ottawa-convention", "uk", "shortName") == "Оттавська конвенція"
    assert "armes à sous-munitions" in field("treaty", "cluster-munition-convention", "fr", "name")
    assert "касетні боєприпаси" in field("treaty", "cluster-munition-convention", "uk", "name")
    apl = "usa-2024-11-20-apl-ukraine"
    assert "mines antipersonnel" in field("decision", apl, "fr", "headline")
    assert "протипіхотні міни" in field("decision", apl, "uk", "headline")
    assert "convention d’Ottawa" in field(
        "decision", "ukr-1999-02-24-sign-ottawa", "fr", "headline"
    )
    assert "Оттавську конвенцію" in field(
        "decision", "ukr-1999-02-24-sign-ottawa", "uk", "headline"
    )


def test_french_and_ukrainian_typography_is_respected(translated: Store) -> None:
    french, ukrainian = texts(translated, "fr"), texts(translated, "uk")
    for text in french + ukrainian:
        assert "'" not in text, text  # the typographic apostrophe, never the typewriter one
        assert '"' not in text, text
    for text in french:
        # A narrow no-break space before : ; ? ! and nothing else.
        assert not re.search(r"[^\u202f][:;?!]", text), text
    for text in ukrainian:
        assert not re.search(r"\s[:;?!]", text), text
        assert not re.search(r"[A-Za-z]{2,}", re.sub(r"Le Monde|ATACMS|Landmine Monitor", "", text))


def test_graphql_reads_the_seed_story_in_each_language(translated: Store) -> None:
    import asyncio

    import httpx

    from api.http.app import create_app

    async def ask(query: str) -> dict[str, Any]:
        transport = httpx.ASGITransport(app=create_app(translated))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer: dict[str, Any] = (await client.post("/graphql", json={"query": query})).json()
            return answer

    body = asyncio.run(
        ask("""{
          countryTimeline(country: "UKR") {
            edges { node { decisionId fr: headline(lang: "fr") uk: headline(lang: "uk") } }
          }
          treaty(id: "ottawa-convention") { fr: shortName(lang: "fr") uk: shortName(lang: "uk") }
        }""")
    )
    assert "errors" not in body, body
    nodes = {e["node"]["decisionId"]: e["node"] for e in body["data"]["countryTimeline"]["edges"]}
    assert nodes["usa-2024-11-20-apl-ukraine"]["fr"] == (
        "Biden autorise la fourniture de mines antipersonnel à l’Ukraine"
    )
    assert nodes["usa-2024-11-20-apl-ukraine"]["uk"] == (
        "Байден дозволив постачати Україні протипіхотні міни"
    )
    assert body["data"]["treaty"] == {"fr": "Convention d’Ottawa", "uk": "Оттавська конвенція"}
