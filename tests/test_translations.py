"""Translations of recorded text: the translateRecord mutation, `(lang:)` reads, stale marks."""
# ruff: noqa: RUF001 -- French and Ukrainian text uses its own apostrophes

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import Client

from api.http.app import create_app
from api.http.keys import KeyRing
from projections.service import Store
from tests.graphql_support import CORRECT_DECISION, DECISION, SOURCES, TREATY, codes, gql, serving

EDITORS = [{"publisher": "Policy Timeline editors", "title": "Traduction de la rédaction"}]
TRANSLATE = """
mutation T($input: TranslateRecordInput!) {
  translateRecord(input: $input) {
    __typename
    ... on TranslateRecordSuccess {
      position translation { lang kind record headline name shortName stale staleFields
                             sources { publisher } }
    }
    ... on ValidationError { message errors { path message } }
    ... on NotFound { message id }
    ... on Conflict { message id }
  }
}"""
FRENCH = {
    "id": "fr-ukr-sign-ottawa",
    "kind": "DECISION",
    "record": DECISION["id"],
    "lang": "fr",
    "headline": "L’Ukraine signe la convention d’Ottawa",
    "sources": EDITORS,
}
READ = """
query R($lang: String, $asOf: Int) {
  decision(id: "ukr-1999-02-24-sign-ottawa", asOf: $asOf) {
    headline(lang: $lang)
    translations { lang headline stale staleFields }
  }
  countryTimeline(country: "UKR", asOf: $asOf) { edges { node { headline(lang: $lang) } } }
  treaty(id: "ottawa-convention") { name(lang: $lang) shortName(lang: $lang) }
}"""


@dataclass
class Api:
    """A client of a real server with an editor key."""

    client: Client
    key: str

    def write(self, document: str, data: dict[str, Any]) -> dict[str, Any]:
        body = gql(self.client, document, {"input": data}, key=self.key)
        assert "errors" not in body, body
        return dict(next(iter(body["data"].values())))

    def translate(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.write(TRANSLATE, data)

    def read(self, lang: str | None = None, as_of: int | None = None) -> dict[str, Any]:
        body = gql(self.client, READ, {"lang": lang, "asOf": as_of})
        assert "errors" not in body, body
        return dict(body["data"])


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    _, key = KeyRing(store.engine).create("editor")
    store.execute("recordTreaty", {**TREATY, "shortName": "Mine Ban Treaty"})
    store.execute("recordDecision", DECISION)
    with serving(create_app(store)) as client:
        yield Api(client, key)


def test_a_translated_headline_is_read_in_its_language_and_the_original_stays_the_default(
    api: Api,
) -> None:
    answer = api.translate(FRENCH)
    assert answer["__typename"] == "TranslateRecordSuccess"
    assert answer["translation"] == {
        "lang": "fr",
        "kind": "DECISION",
        "record": DECISION["id"],
        "headline": FRENCH["headline"],
        "name": None,
        "shortName": None,
        "stale": False,
        "staleFields": [],
        "sources": [{"publisher": "Policy Timeline editors"}],
    }
    french = api.read("fr")
    assert french["decision"]["headline"] == FRENCH["headline"]
    assert french["countryTimeline"]["edges"][0]["node"]["headline"] == FRENCH["headline"]
    assert french["treaty"]["name"] == "Mine Ban Treaty"  # not translated: the original
    for lang in (None, "en", "uk"):
        assert api.read(lang)["decision"]["headline"] == DECISION["headline"]


def test_treaty_names_take_the_translation_of_each_field(api: Api) -> None:
    api.translate(
        {
            "id": "uk-ottawa-convention",
            "kind": "TREATY",
            "record": "ottawa-convention",
            "lang": "uk",
            "name": "Конвенція про заборону протипіхотних мін",
            "shortName": "Оттавська конвенція",
            "sources": EDITORS,
        }
    )
    treaty = api.read("uk")["treaty"]
    assert treaty == {
        "name": "Конвенція про заборону протипіхотних мін",
        "shortName": "Оттавська конвенція",
    }


def test_a_correction_leaves_the_translation_standing_and_marks_it_stale_from_then_on(
    api: Api,
) -> None:
    translated = api.translate(FRENCH)["position"]
    corrected = api.write(
        CORRECT_DECISION,
        {
            "id": DECISION["id"],
            "changes": {"headline": "Ukraine signs the Ottawa Convention"},
            "reason": "the treaty's common name",
            "sources": SOURCES,
        },
    )["position"]
    now = api.read("fr")
    assert now["decision"]["headline"] == FRENCH["headline"]  # still shown, marked older
    assert now["decision"]["translations"] == [
        {"lang": "fr", "headline": FRENCH["headline"], "stale": True, "staleFields": ["headline"]}
    ]
    before = api.read("fr", as_of=corrected - 1)
    assert before["decision"]["translations"][0]["stale"] is False
    assert api.read("fr", as_of=translated - 1)["decision"]["translations"] == []
    assert api.read("fr", as_of=translated - 1)["decision"]["headline"] == DECISION["headline"]
    fresh = api.translate(
        {**FRENCH, "id": "fr-ukr-sign-ottawa-2", "headline": "L’Ukraine signe la convention"}
    )
    assert fresh["translation"]["stale"] is False


def test_a_correction_of_untranslated_fields_leaves_the_translation_current(api: Api) -> None:
    api.translate(FRENCH)
    api.write(
        CORRECT_DECISION,
        {
            "id": DECISION["id"],
            "changes": {"summary": "Ukraine signed the Ottawa Convention."},
            "reason": "a summary",
            "sources": SOURCES,
        },
    )
    assert api.read("fr")["decision"]["translations"][0]["stale"] is False


def test_history_shows_each_translation_with_its_language(api: Api) -> None:
    position = api.translate(FRENCH)["position"]
    body = gql(
        api.client,
        '{ decision(id: "ukr-1999-02-24-sign-ottawa") { history { position eventType lang } } }',
    )
    assert body["data"]["decision"]["history"][-1] == {
        "position": position,
        "eventType": "Translated",
        "lang": "fr",
    }


@pytest.mark.parametrize(
    ("change", "typename", "expected"),
    [
        ({"record": "nope"}, "NotFound", "record: unknown decision 'nope'"),
        ({"kind": "TREATY"}, "ValidationError", "headline: a TREATY has no headline"),
        ({"lang": "en"}, "ValidationError", "lang: 'en' is the language of the original"),
        ({"lang": "de"}, "ValidationError", "lang: 'de' is not one of en, fr, uk"),
        ({"lang": "fr-CA"}, "ValidationError", "a BCP 47 primary language tag"),
        ({"sources": None}, "ValidationError", "sources: at least one source is required"),
        ({"headline": None}, "ValidationError", "give at least one of headline, summary"),
        ({"summary": "Résumé"}, "ValidationError", "summary: decision 'ukr-1999-02-24-sign"),
    ],
)
def test_a_bad_translation_is_refused_naming_the_field_and_stores_nothing(
    api: Api, store: Store, change: dict[str, Any], typename: str, expected: str
) -> None:
    head = store.head()
    answer = api.translate({**FRENCH, **change})
    assert answer["__typename"] == typename
    assert expected in answer["message"]
    assert store.head() == head


def test_the_same_translation_twice_changes_nothing_and_other_content_is_a_conflict(
    api: Api, store: Store
) -> None:
    api.translate(FRENCH)
    head = store.head()
    assert api.translate(FRENCH)["__typename"] == "TranslateRecordSuccess"
    assert store.head() == head
    other = api.translate({**FRENCH, "headline": "Autre titre"})
    assert other["__typename"] == "Conflict"


@pytest.mark.parametrize("lang", ["de", "", "x" * 10_000, "FR"])
def test_reading_in_a_language_the_record_does_not_serve_is_a_bad_user_input(
    api: Api, lang: str
) -> None:
    body = gql(api.client, READ, {"lang": lang})
    assert set(codes(body)) == {"BAD_USER_INPUT"}
    assert all(len(e["message"]) < 200 for e in body["errors"])
    assert body["errors"][0]["message"].startswith("lang: ")


def test_statements_observations_and_weapons_read_their_translated_fields(
    api: Api, store: Store
) -> None:
    store.execute(
        "recordStatement",
        {
            "id": "hi-terrible",
            "by": {"name": "Handicap International", "kind": "ORGANIZATION"},
            "about": DECISION["id"],
            "stance": "CONDEMNS",
            "quote": "a terrible measure",
            "sources": SOURCES,
        },
    )
    store.execute(
        "recordObservation",
        {
            "id": "lm-2023-ukr",
            "indicator": "landmine-casualties",
            "scope": "UKR",
            "period": "2023",
            "value": 580,
            "unit": "casualties",
            "note": "mines and explosive remnants of war",
            "sources": SOURCES,
        },
    )
    store.execute(
        "recordWeapon",
        {"id": "atacms", "name": "Army Tactical Missile System", "category": "cruise-missile"},
    )
    for kind, record, texts in (
        ("STATEMENT", "hi-terrible", {"quote": "une mesure « terrible »"}),
        (
            "OBSERVATION",
            "lm-2023-ukr",
            {"unit": "victimes", "note": "mines et restes explosifs de guerre"},
        ),
        ("WEAPON", "atacms", {"name": "Système de missiles tactiques de l’armée de terre"}),
    ):
        answer = api.translate(
            {
                "id": f"fr-{record}",
                "kind": kind,
                "record": record,
                "lang": "fr",
                **texts,
                "sources": EDITORS,
            }
        )
        assert answer["__typename"] == "TranslateRecordSuccess", answer
    body = gql(
        api.client,
        """{
          decision(id: "ukr-1999-02-24-sign-ottawa") {
            statements { quote original: quote(lang: "en") french: quote(lang: "fr") }
          }
          observations(indicator: "landmine-casualties") {
            unit(lang: "fr") note(lang: "fr") label(lang: "fr") translations { lang unit }
          }
          weapon(id: "atacms") { name(lang: "fr") english: name }
        }""",
    )
    assert "errors" not in body, body
    assert body["data"]["decision"]["statements"] == [
        {
            "quote": "a terrible measure",
            "original": "a terrible measure",
            "french": "une mesure « terrible »",
        }
    ]
    assert body["data"]["observations"] == [
        {
            "unit": "victimes",
            "note": "mines et restes explosifs de guerre",
            "label": None,
            "translations": [{"lang": "fr", "unit": "victimes"}],
        }
    ]
    assert body["data"]["weapon"] == {
        "name": "Système de missiles tactiques de l’armée de terre",
        "english": "Army Tactical Missile System",
    }


def test_a_replay_in_one_batch_rebuilds_the_same_translations_as_writes_one_by_one(
    store: Store,
) -> None:
    store.execute("recordTreaty", TREATY)
    store.execute("recordDecision", DECISION)
    store.execute("translateRecord", FRENCH)
    store.execute(
        "translateRecord", {**FRENCH, "id": "uk-sign", "lang": "uk", "headline": "Підписання"}
    )
    store.execute(
        "correctDecision",
        {"id": DECISION["id"], "changes": {"headline": "Ukraine signs"}, "reason": "r",
         "sources": SOURCES},
    )  # fmt: skip
    store.execute("translateRecord", {**FRENCH, "id": "fr-sign-2", "headline": "L’Ukraine signe"})
    live = store.projector.digests()
    store.projector.rebuild()  # every event in one batch: the correction sees the translations
    assert store.projector.digests() == live
    ident = str(DECISION["id"])
    docs = {d["lang"]: d for d in store.read.translations("decision", [ident])[ident]}
    assert (docs["fr"]["stale"], docs["uk"]["stale"]) == ([], ["headline"])
    assert docs["fr"]["fields"]["headline"] == "L’Ukraine signe"
    assert [s["publisher"] for s in docs["fr"]["sources"]] == ["Policy Timeline editors"]
