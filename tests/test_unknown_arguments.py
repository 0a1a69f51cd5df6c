"""An unknown country, weapon, treaty or indicator is an error naming the argument, never []."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from api.http.app import create_app
from api.importing.commands import import_lines
from tests.conftest import SOURCE, line, migrated
from tests.graphql_support import gql, running

RECORDS = [
    line("recordTreaty", id="test-treaty", name="Test Treaty", sources=SOURCE),
    line(
        "recordWeapon",
        id="test-drone",
        name="Test drone",
        category="loitering-munition",  # not in the controlled list: the weapon introduces it
        sources=SOURCE,
    ),
    line(
        "recordObservation",
        id="obs-2023",
        indicator="test-casualties",
        label="casualties of test weapons",
        scope="WORLD",
        period="2023",
        value=12,
        unit="casualties",
        sources=SOURCE,
    ),
    line(
        "recordObservation",
        id="obs-2024",
        indicator="test-casualties",
        scope="UKR",
        period="2024",
        value=3,
        unit="casualties",
        sources=SOURCE,
    ),
    line(
        "recordObservation",
        id="share-2023",
        indicator="test-share",
        scope="WORLD",
        period="2023",
        value=84,
        unit="percent",
        sources=SOURCE,
    ),
]


@pytest.fixture(scope="module")
def base(module_db_url: str) -> Iterator[str]:
    """The records above behind a real server, on each backend; every test here only reads."""
    store = migrated(module_db_url)
    report = import_lines(store, RECORDS)
    assert not report.errors, report.errors
    with running(create_app(store)) as url:
        yield url
    store.close()
    store.engine.dispose()


def refusal(base: str, query: str) -> dict[str, Any]:
    with httpx.Client(base_url=base) as client:
        body = gql(client, query)
    assert len(body.get("errors", [])) == 1, body
    error: dict[str, Any] = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    return error


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            '{ countryTimeline(country: "Ukraine") { edges { cursor } } }',
            "country: 'Ukraine' is not an ISO 3166-1 alpha-3 country code (such as UKR)",
        ),
        (
            '{ countryTimeline(country: "ukr") { edges { cursor } } }',
            "country: 'ukr' is not an ISO 3166-1 alpha-3 country code (such as UKR)",
        ),
        (
            '{ weaponTimeline(system: "no-such-missile") { edges { cursor } } }',
            "system: unknown weapon 'no-such-missile'",
        ),
        (
            '{ weaponTimeline(category: "death-ray") { edges { cursor } } }',
            "category: unknown weapon category 'death-ray'",
        ),
        ('{ treaty(id: "no-such-treaty") { id } }', "id: unknown treaty 'no-such-treaty'"),
        ('{ weapon(id: "no-such-missile") { id } }', "id: unknown weapon 'no-such-missile'"),
        (
            '{ complianceFlags(country: "Russia") { decisionId } }',
            "country: 'Russia' is not an ISO 3166-1 alpha-3 country code (such as UKR)",
        ),
        (
            '{ observations(indicator: "landmine-casualtys") { id } }',
            "indicator: unknown indicator 'landmine-casualtys'; see the indicators query",
        ),
        (
            '{ observations(indicator: "test-casualties", scope: "Earth") { id } }',
            "scope: 'Earth' is not an ISO 3166-1 alpha-3 country code (such as UKR)",
        ),
    ],
)
def test_an_unknown_argument_is_a_bad_user_input_naming_it(
    base: str, query: str, message: str
) -> None:
    assert refusal(base, query)["message"] == message


def test_a_refused_value_is_repeated_only_in_part(base: str) -> None:
    error = refusal(base, '{ weaponTimeline(system: "%s") { edges { cursor } } }' % ("x" * 5000))
    assert len(error["message"]) < 120


def test_known_things_with_nothing_recorded_are_honest_empty_answers(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        body = gql(
            client,
            """{ countryTimeline(country: "NZL") { edges { cursor } }
            byCategory: weaponTimeline(category: "loitering-munition") { edges { cursor } }
            listed: weaponTimeline(category: "cluster-munition") { edges { cursor } }
            bySystem: weaponTimeline(system: "test-drone") { edges { cursor } }
            complianceFlags(country: "NZL") { decisionId }
            observations(indicator: "test-casualties", scope: "FRA") { id }
            treaty(id: "test-treaty") { id } }""",
        )
    assert "errors" not in body, body
    data = body["data"]
    assert data["treaty"] == {"id": "test-treaty"}
    assert [v for k, v in data.items() if k != "treaty"] == [
        {"edges": []},
        {"edges": []},
        {"edges": []},
        {"edges": []},
        [],
        [],
    ]


def test_indicators_lists_what_observations_exist_with_label_and_unit(base: str) -> None:
    with httpx.Client(base_url=base) as client:
        body = gql(client, "{ indicators { id label unit } }")
    assert body["data"]["indicators"] == [
        # The latest observation gives no label: the one before it does.
        {"id": "test-casualties", "label": "casualties of test weapons", "unit": "casualties"},
        # No observation gives a label: the id stands for it.
        {"id": "test-share", "label": "test-share", "unit": "percent"},
    ]


SUBSCRIBE = """
subscription ($country: String, $system: String, $category: String) {
  timelineUpdated(country: $country, system: $system, category: $category) { decisionId }
}"""


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"country": "Ukraine"},
            "country: 'Ukraine' is not an ISO 3166-1 alpha-3 country code (such as UKR)",
        ),
        ({"system": "no-such-missile"}, "system: unknown weapon 'no-such-missile'"),
        ({"category": "death-ray"}, "category: unknown weapon category 'death-ray'"),
    ],
)
def test_a_subscription_to_an_unknown_thing_is_refused_naming_the_argument(
    base: str, variables: dict[str, str], message: str
) -> None:
    url = base.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10)) == {"type": "connection_ack"}
        payload = {"query": SUBSCRIBE, "variables": variables}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        answer = json.loads(ws.recv(timeout=10))
    assert answer["type"] in ("error", "next"), answer
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert [e["message"] for e in errors] == [message]
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("path", ["/embed/timeline", "/timelinejs.json"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"system": "<h1>Breaking: fake</h1>"}, "system: unknown weapon '<h1>Breaking: fake</h1>'"),
        ({"category": "Fake news"}, "category: unknown weapon category 'Fake news'"),
        ({"country": "Ukraine"}, "country: 'Ukraine' is not an ISO 3166-1 alpha-3 code"),
    ],
)
def test_embeds_answer_400_naming_an_unknown_weapon_or_country(
    base: str, path: str, query: dict[str, str], message: str
) -> None:
    response = httpx.get(base + path, params=query)
    assert response.status_code == 400
    text = response.json()["error"] if path.endswith(".json") else response.text
    assert text == message
    assert "<h1>" not in response.text or response.headers["content-type"].startswith("text/plain")


def test_oembed_answers_400_for_an_embed_url_of_an_unknown_weapon(base: str) -> None:
    url = f"{base}/embed/timeline?system=fake-missile"
    response = httpx.get(base + "/oembed", params={"url": url})
    assert response.status_code == 400
    assert response.json() == {"error": "system: unknown weapon 'fake-missile'"}


def test_embeds_of_a_known_weapon_and_introduced_category_are_served(base: str) -> None:
    for query in ({"system": "test-drone"}, {"category": "loitering-munition"}):
        assert httpx.get(base + "/embed/timeline", params=query).status_code == 200
        assert httpx.get(base + "/timelinejs.json", params=query).status_code == 200
