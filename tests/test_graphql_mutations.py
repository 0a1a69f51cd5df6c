"""Every mutation over HTTP through a real server: its success and each typed error it can give."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import Client

from api.http.app import create_app
from api.http.keys import KeyRing
from projections.service import Store
from tests.graphql_support import DECISION, SOURCES, TREATY, gql, serving

RETURNS = {  # what each success type is asked for
    "recordTreaty": "treaty { id name prohibits }",
    "recordWeapon": "weapon { id name category aliases }",
    "recordDecision": "decision { id headline status treaty }",
    "correctDecision": "decision { id headline status treaty }",
    "retractDecision": "decision { id headline status treaty }",
    "recordStatement": "statement { id about stance quote by { name kind country } }",
    "recordObservation": "observation { id indicator scope period value unit conflict }",
}
WEAPON = {"id": "pfm-1", "name": "PFM-1", "category": "antipersonnel-landmine"}
STATEMENT = {
    "id": "icbl-condemns",
    "by": {"name": "ICBL", "kind": "ORGANIZATION"},
    "about": DECISION["id"],
    "stance": "CONDEMNS",
    "sources": SOURCES,
}
OBSERVATION = {
    "id": "lm-2023-ukr",
    "indicator": "landmine-casualties",
    "scope": "UKR",
    "period": "2023",
    "value": 580,
    "unit": "people",
    "sources": SOURCES,
}


@dataclass
class Api:
    """A client of a real server with an editor key, and the store behind it."""

    client: Client
    key: str
    store: Store

    def call(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Run mutation `name` with `data` as its input; the union member it answered."""
        kind = name[0].upper() + name[1:]
        document = f"""mutation M($input: {kind}Input!) {{
          {name}(input: $input) {{
            __typename
            ... on {kind}Success {{ position {RETURNS[name]} }}
            ... on ValidationError {{ message errors {{ path message }} }}
            ... on NotFound {{ message id }}
            ... on Conflict {{ message id }}
          }}
        }}"""
        body = gql(self.client, document, {"input": data}, self.key)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][name]
        return result

    def refused(self, name: str, data: dict[str, Any], typename: str) -> dict[str, Any]:
        """Run a mutation that must fail with `typename` and store nothing."""
        head = self.store.head()
        result = self.call(name, data)
        assert result["__typename"] == typename, result
        assert self.store.head() == head
        return result


def paths(result: dict[str, Any]) -> list[list[str]]:
    return [e["path"] for e in result["errors"]]


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    _, key = KeyRing(store.engine).create("editor")
    with serving(create_app(store)) as client:
        yield Api(client, key, store)


def test_record_treaty_answers_the_treaty_and_refuses_bad_fields_and_other_content(
    api: Api,
) -> None:
    done = api.call("recordTreaty", {**TREATY, "prohibits": ["antipersonnel-landmine"]})
    assert done == {
        "__typename": "RecordTreatySuccess",
        "position": 1,
        "treaty": {"id": "ottawa-convention", "name": "Mine Ban Treaty",
                   "prohibits": ["antipersonnel-landmine"]},
    }  # fmt: skip
    again = api.call("recordTreaty", {**TREATY, "prohibits": ["antipersonnel-landmine"]})
    assert again["position"] == 1 and api.store.head() == 1  # the same content changes nothing

    bad = {**TREATY, "id": "Not A Slug", "prohibits": ["death-ray"], "adoptedOn": "1997-02-30"}
    invalid = api.refused("recordTreaty", bad, "ValidationError")
    assert paths(invalid) == [["input", "id"], ["input", "adoptedOn"]]
    unknown = api.refused("recordTreaty", {**TREATY, "id": "ray", "prohibits": ["death-ray"]},
                          "ValidationError")  # fmt: skip
    assert unknown["errors"] == [
        {"path": ["input", "prohibits", "0"], "message": "unknown weapon category 'death-ray'"}
    ]
    conflict = api.refused("recordTreaty", {**TREATY, "name": "Ottawa Convention"}, "Conflict")
    assert conflict["id"] == "ottawa-convention"
    assert "already recorded with different content" in conflict["message"]


def test_record_weapon_answers_the_weapon_and_refuses_bad_fields_and_other_content(
    api: Api,
) -> None:
    done = api.call("recordWeapon", {**WEAPON, "aliases": ["butterfly mine"]})
    assert done == {
        "__typename": "RecordWeaponSuccess",
        "position": 1,
        "weapon": {"id": "pfm-1", "name": "PFM-1", "category": "antipersonnel-landmine",
                   "aliases": ["butterfly mine"]},
    }  # fmt: skip
    # A category not in the vocabulary yet is added by the same write: two events.
    novel = api.call("recordWeapon", {"id": "x-1", "name": "X-1", "category": "loitering-munition"})
    assert novel["position"] == 3
    assert novel["weapon"]["category"] == "loitering-munition"

    bad = {"id": "pfm-2", "name": "   ", "category": "Anti Personnel", "sources": []}
    invalid = api.refused("recordWeapon", bad, "ValidationError")
    assert paths(invalid) == [["input", "name"], ["input", "category"]]
    assert invalid["errors"][0]["message"] == "must not be empty"
    conflict = api.refused("recordWeapon", {**WEAPON, "name": "PFM-1S"}, "Conflict")
    assert conflict["id"] == "pfm-1"
    # recordWeapon names no other record, so it has no NotFound to give.


def test_record_decision_answers_the_decision_and_refuses_bad_fields_unknown_ids_and_conflicts(
    api: Api,
) -> None:
    api.call("recordTreaty", TREATY)
    done = api.call("recordDecision", DECISION)
    assert done == {
        "__typename": "RecordDecisionSuccess",
        "position": 2,
        "decision": {"id": DECISION["id"], "headline": DECISION["headline"], "status": "ACTIVE",
                     "treaty": "ottawa-convention"},
    }  # fmt: skip

    bad = {**DECISION, "id": "ukr-2", "actor": "XXX", "decidedOn": "1999-02-30"}
    invalid = api.refused("recordDecision", bad, "ValidationError")
    assert paths(invalid) == [["input", "actor"], ["input", "decidedOn"]]
    assert invalid["errors"][0]["message"] == "'XXX' is not an ISO 3166-1 alpha-3 country code"
    undated = {k: v for k, v in DECISION.items() if k != "decidedOn"} | {"id": "ukr-3"}
    no_date = api.refused("recordDecision", undated, "ValidationError")
    assert no_date["errors"][0]["message"] == (
        "give at least one of decidedOn, announcedOn, effectiveOn, reportedOn"
    )
    untreatied = api.refused("recordDecision", {**DECISION, "id": "ukr-4", "treaty": None},
                             "ValidationError")  # fmt: skip
    assert paths(untreatied) == [["input", "treaty"]]

    missing = api.refused("recordDecision", {**DECISION, "id": "ukr-5", "treaty": "ccm"},
                          "NotFound")  # fmt: skip
    assert missing == {"__typename": "NotFound", "id": "ccm",
                       "message": "treaty: unknown treaty 'ccm'"}  # fmt: skip
    weapon = {**DECISION, "id": "ukr-6", "weapons": [{"system": "pfm-9"}]}
    assert api.refused("recordDecision", weapon, "NotFound")["id"] == "pfm-9"
    reversing = {**DECISION, "id": "ukr-7", "reverses": "never-recorded"}
    assert api.refused("recordDecision", reversing, "NotFound")["id"] == "never-recorded"

    conflict = api.refused("recordDecision", {**DECISION, "headline": "other"}, "Conflict")
    assert conflict["id"] == DECISION["id"]


def test_correct_decision_answers_the_corrected_decision_and_refuses_bad_changes_and_unknown_ids(
    api: Api,
) -> None:
    api.call("recordTreaty", TREATY)
    api.call("recordDecision", DECISION)
    change = {"id": DECISION["id"], "changes": {"headline": "Ukraine signs the Ottawa Convention"},
              "reason": "names the treaty", "sources": SOURCES}  # fmt: skip
    done = api.call("correctDecision", change)
    assert done["__typename"] == "CorrectDecisionSuccess" and done["position"] == 3
    assert done["decision"]["headline"] == "Ukraine signs the Ottawa Convention"
    assert done["decision"]["status"] == "CORRECTED"

    empty = api.refused("correctDecision", {**change, "changes": {}}, "ValidationError")
    assert empty["errors"] == [
        {"path": ["input", "changes"], "message": "name at least one field to change"}
    ]
    bad = {**change, "changes": {"actor": "XXX"}, "reason": " "}
    assert paths(api.refused("correctDecision", bad, "ValidationError")) == [
        ["input", "changes", "actor"],
        ["input", "reason"],
    ]
    # A change that is valid alone but breaks the whole decision: a treaty action needs a treaty.
    broken = api.refused("correctDecision", {**change, "changes": {"treaty": None}},
                         "ValidationError")  # fmt: skip
    assert paths(broken) == [["input", "changes"]]

    unknown = api.refused("correctDecision", {**change, "id": "no-such"}, "NotFound")
    assert unknown == {"__typename": "NotFound", "id": "no-such",
                       "message": "id: unknown decision 'no-such'"}  # fmt: skip
    dangling = {**change, "changes": {"treaty": "ccm"}}
    assert api.refused("correctDecision", dangling, "NotFound")["id"] == "ccm"


def test_retract_decision_answers_the_retracted_decision_once_and_refuses_unknown_ids(
    api: Api,
) -> None:
    api.call("recordTreaty", TREATY)
    api.call("recordDecision", DECISION)
    retraction = {"id": DECISION["id"], "reason": "duplicate", "sources": SOURCES}
    done = api.call("retractDecision", retraction)
    assert done["__typename"] == "RetractDecisionSuccess" and done["position"] == 3
    assert done["decision"]["status"] == "RETRACTED"
    again = api.call("retractDecision", retraction)
    assert again["position"] == 3 and api.store.head() == 3  # retracted once, not twice

    bad = {"id": DECISION["id"], "reason": "", "sources": []}
    invalid = api.refused("retractDecision", bad, "ValidationError")
    assert invalid["errors"] == [
        {"path": ["input", "reason"], "message": "must not be empty"},
        {"path": ["input", "sources"], "message": "at least one source is required"},
    ]
    unknown = api.refused("retractDecision", {**retraction, "id": "no-such"}, "NotFound")
    assert unknown["id"] == "no-such"


def test_record_statement_answers_the_statement_and_refuses_bad_fields_unknown_ids_and_conflicts(
    api: Api,
) -> None:
    api.call("recordTreaty", TREATY)
    api.call("recordDecision", DECISION)
    done = api.call("recordStatement", {**STATEMENT, "quote": "a step forward"})
    assert done == {
        "__typename": "RecordStatementSuccess",
        "position": 3,
        "statement": {"id": "icbl-condemns", "about": DECISION["id"], "stance": "CONDEMNS",
                      "quote": "a step forward",
                      "by": {"name": "ICBL", "kind": "ORGANIZATION", "country": None}},
    }  # fmt: skip
    query = "query D($id: ID!) { decision(id: $id) { statements { id } } }"
    read = gql(api.client, query, {"id": DECISION["id"]})
    assert read["data"]["decision"]["statements"] == [{"id": "icbl-condemns"}]

    bad = {**STATEMENT, "id": "s-2", "by": {"name": "Kyiv", "kind": "STATE", "country": "XXX"},
           "madeOn": "2024-02-30"}  # fmt: skip
    invalid = api.refused("recordStatement", bad, "ValidationError")
    assert paths(invalid) == [["input", "by", "country"], ["input", "madeOn"]]
    unknown = api.refused("recordStatement", {**STATEMENT, "id": "s-3", "about": "no-such"},
                          "NotFound")  # fmt: skip
    assert unknown == {"__typename": "NotFound", "id": "no-such",
                       "message": "about: unknown decision 'no-such'"}  # fmt: skip
    conflict = api.refused("recordStatement", {**STATEMENT, "stance": "SUPPORTS"}, "Conflict")
    assert conflict["id"] == "icbl-condemns"


def test_record_observation_answers_the_figure_and_refuses_bad_fields_and_other_content(
    api: Api,
) -> None:
    done = api.call("recordObservation", OBSERVATION)
    assert done == {
        "__typename": "RecordObservationSuccess",
        "position": 1,
        "observation": {"id": "lm-2023-ukr", "indicator": "landmine-casualties", "scope": "UKR",
                        "period": "2023", "value": 580.0, "unit": "people", "conflict": False},
    }  # fmt: skip
    other = api.call("recordObservation", {**OBSERVATION, "id": "hrw-2023-ukr", "value": 620.5})
    assert other["observation"]["value"] == 620.5 and other["observation"]["conflict"] is True

    bad = {**OBSERVATION, "id": "o-3", "indicator": "Casualties", "scope": "XXX",
           "period": "2023-13"}  # fmt: skip
    invalid = api.refused("recordObservation", bad, "ValidationError")
    assert paths(invalid) == [["input", "indicator"], ["input", "scope"], ["input", "period"]]
    conflict = api.refused("recordObservation", {**OBSERVATION, "value": 581}, "Conflict")
    assert conflict["id"] == "lm-2023-ukr"
    # recordObservation names no other record, so it has no NotFound to give.
