"""Certainty, the report date, departsFrom, observation basis and every record's sources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from httpx import Client

from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line
from tests.graphql_support import gql, serving

ARCHIVED = {
    "publisher": "Test Gazette",
    "url": "https://gazette.example/policy",
    "archiveUrl": "https://web.archive.org/web/2024/https://gazette.example/policy",
    "quote": "it happened",
}
STORY = [
    line("recordTreaty", id="test-treaty", name="Test Treaty", sources=[ARCHIVED]),
    line(
        "recordWeapon",
        id="test-rocket",
        name="Test rocket",
        category="cruise-missile",
        sources=[ARCHIVED],
    ),
    line(
        "recordDecision",
        id="usa-2022-policy",
        actor="USA",
        action="ADOPT_POLICY",
        announcedOn="2022-06-21",
        headline="A policy",
        sources=SOURCE,
    ),
    line(
        "recordDecision",
        id="usa-2024-reported",
        actor="USA",
        action="AUTHORIZE_USE",
        recipient="UKR",
        weapons=[{"system": "test-rocket"}],
        certainty="REPORTED",
        reportedOn="2024-11-17",
        headline="Use reported by the press",
        sources=SOURCE,
    ),
    line(
        "recordDecision",
        id="usa-2024-exception",
        actor="USA",
        action="AUTHORIZE_TRANSFER",
        recipient="UKR",
        announcedOn="2024-11-20",
        departsFrom="usa-2022-policy",
        headline="An exception to the policy",
        sources=[ARCHIVED],
    ),
    line(
        "recordObservation",
        id="obs-1999",
        indicator="test-casualties",
        label="casualties of test weapons",
        scope="WORLD",
        period="1999",
        value=25000,
        basis="ESTIMATE",
        note="an estimate of recorded and unrecorded cases",
        sources=SOURCE,
    ),
    line(
        "recordObservation",
        id="obs-2023",
        indicator="test-casualties",
        scope="WORLD",
        period="2023",
        value=5757,
        sources=SOURCE,
    ),
]


@pytest.fixture
def client(store: Store) -> Iterator[Client]:
    report = import_lines(store, STORY)
    assert not report.errors, report.errors
    with serving(create_app(store)) as c:
        yield c


def data(client: Client, query: str) -> dict[str, Any]:
    body = gql(client, query)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def test_a_reported_decision_shows_its_certainty_and_report_date_and_sorts_by_it(
    client: Client,
) -> None:
    found = data(
        client,
        """{ countryTimeline(country: "UKR") {
        edges { node { decisionId certainty date { edtf } } } }
        decision(id: "usa-2024-reported") { certainty reportedOn { edtf precision }
        decidedOn { edtf } date { edtf } } }""",
    )
    nodes = [e["node"] for e in found["countryTimeline"]["edges"]]
    assert nodes == [
        {
            "decisionId": "usa-2024-reported",
            "certainty": "REPORTED",
            "date": {"edtf": "2024-11-17"},
        },
        {
            "decisionId": "usa-2024-exception",
            "certainty": "OFFICIAL",
            "date": {"edtf": "2024-11-20"},
        },
    ]
    assert found["decision"] == {
        "certainty": "REPORTED",
        "reportedOn": {"edtf": "2024-11-17", "precision": "DAY"},
        "decidedOn": None,
        "date": {"edtf": "2024-11-17"},
    }


def test_an_exception_departs_from_a_policy_that_stays_unreversed(client: Client) -> None:
    found = data(
        client,
        """{ exception: decision(id: "usa-2024-exception") { departsFrom { id } reverses { id } }
        policy: decision(id: "usa-2022-policy") { departedFromBy { id } reversedBy { id } } }""",
    )
    assert found["exception"] == {"departsFrom": [{"id": "usa-2022-policy"}], "reverses": []}
    assert found["policy"] == {"departedFromBy": [{"id": "usa-2024-exception"}], "reversedBy": []}


def test_treaty_weapon_and_decision_sources_are_readable_with_their_archive(
    client: Client,
) -> None:
    wanted = "sources { publisher url archiveUrl quote }"
    found = data(
        client,
        f"""{{ treaty(id: "test-treaty") {{ {wanted} }} weapon(id: "test-rocket") {{ {wanted} }}
        decision(id: "usa-2024-exception") {{ {wanted} }} }}""",
    )
    for record in found.values():
        assert record["sources"] == [ARCHIVED]


def test_an_estimate_is_marked_with_its_note_and_a_count_is_recorded_by_default(
    client: Client,
) -> None:
    found = data(
        client,
        '{ observations(indicator: "test-casualties") { id basis note label value } }',
    )
    assert found["observations"] == [
        {
            "id": "obs-1999",
            "basis": "ESTIMATE",
            "note": "an estimate of recorded and unrecorded cases",
            "label": "casualties of test weapons",
            "value": 25000.0,
        },
        {"id": "obs-2023", "basis": "RECORDED", "note": None, "label": None, "value": 5757.0},
    ]


def test_a_correction_sets_certainty_and_its_sources_show_in_history(store: Store) -> None:
    correction_source = {"publisher": "Correction Weekly", "quote": "officials confirmed it"}
    report = import_lines(
        store,
        [
            *STORY,
            line(
                "correctDecision",
                id="usa-2024-reported",
                changes={"certainty": "OFFICIAL", "announcedOn": "2024-11-19"},
                reason="confirmed by officials",
                sources=[correction_source],
            ),
            line(
                "retractDecision",
                id="usa-2024-exception",
                reason="recorded in error",
                sources=[{"publisher": "Retraction Daily"}],
            ),
        ],
    )
    assert not report.errors, report.errors
    with serving(create_app(store)) as client:
        found = data(
            client,
            """{ reported: decision(id: "usa-2024-reported") { certainty date { edtf }
            history { eventType reason fields sources { publisher quote } } }
            retracted: decision(id: "usa-2024-exception") {
            history { eventType fields sources { publisher } } } }""",
        )
    assert found["reported"]["certainty"] == "OFFICIAL"
    assert found["reported"]["date"] == {"edtf": "2024-11-19"}
    assert found["reported"]["history"] == [
        {
            "eventType": "Recorded",
            "reason": None,
            "fields": None,
            "sources": [{"publisher": "Test Gazette", "quote": "it happened"}],
        },
        {
            "eventType": "Corrected",
            "reason": "confirmed by officials",
            "fields": ["announcedOn", "certainty"],
            "sources": [correction_source],
        },
    ]
    assert found["retracted"]["history"][-1] == {
        "eventType": "Retracted",
        "fields": None,
        "sources": [{"publisher": "Retraction Daily"}],
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"certainty": "ALLEGED"}, "changes.certainty"),
        ({"departsFrom": "no-such-policy"}, "departsFrom: unknown decision 'no-such-policy'"),
        ({"reportedOn": "2024-02-30"}, "changes.reportedOn"),
    ],
)
def test_a_bad_certainty_report_date_or_departure_is_refused_naming_the_field(
    store: Store, changes: dict[str, str], message: str
) -> None:
    bad = line(
        "correctDecision", id="usa-2024-reported", changes=changes, reason="r", sources=SOURCE
    )
    report = import_lines(store, [*STORY, bad])
    assert report.imported == 0
    assert any(message in error for error in report.errors), report.errors


def test_an_archive_url_follows_the_rules_of_a_url(store: Store) -> None:
    bad = {**ARCHIVED, "archiveUrl": "javascript:alert(1)"}
    report = import_lines(store, [line("recordTreaty", id="bad-treaty", name="Bad", sources=[bad])])
    assert report.imported == 0
    assert any("sources.0.archiveUrl" in error for error in report.errors), report.errors
