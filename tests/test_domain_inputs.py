"""Inputs are validated with messages that name the field."""

from __future__ import annotations

import pytest

from domain.commands import parse_input
from domain.dates import FuzzyDate, InvalidDate, Precision
from domain.errors import InvalidInput


def decision(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "usa-2024-11-20-apl-ukraine",
        "actor": "USA",
        "action": "AUTHORIZE_TRANSFER",
        "recipient": "UKR",
        "announcedOn": "2024-11-20",
        "headline": "APL to Ukraine",
        "sources": [{"publisher": "Le Monde"}],
    }
    data.update(overrides)
    return data


def messages(data: dict[str, object], op: str = "recordDecision") -> list[str]:
    with pytest.raises(InvalidInput) as caught:
        parse_input(op, data)
    return [str(e) for e in caught.value.errors]


def test_a_month_precision_date_spans_the_whole_month() -> None:
    date = FuzzyDate("2024-11")
    assert (date.precision, date.earliest.isoformat(), date.latest.isoformat()) == (
        Precision.MONTH,
        "2024-11-01",
        "2024-11-30",
    )


def test_uncertain_and_approximate_dates_keep_their_qualifiers() -> None:
    assert FuzzyDate("2024-11-17?").uncertain and not FuzzyDate("2024-11-17?").approximate
    assert FuzzyDate("2023-08~").approximate and FuzzyDate("2023-08~").earliest.day == 1
    assert FuzzyDate("2024-11-17%").uncertain and FuzzyDate("2024-11-17%").approximate


@pytest.mark.parametrize(
    "text", ["2024-02-30", "2023-02-29", "2024-13", "../2023-10-17", "yesterday", ""]
)
def test_impossible_or_unsupported_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidDate):
        FuzzyDate(text)


def test_an_unknown_country_is_named_by_its_field() -> None:
    assert messages(decision(recipient="XXX")) == [
        "recipient: 'XXX' is not an ISO 3166-1 alpha-3 country code"
    ]


def test_a_claim_without_a_source_is_refused() -> None:
    assert messages(decision(sources=[])) == ["sources: at least one source is required"]


def test_a_decision_needs_at_least_one_date() -> None:
    assert messages(decision(announcedOn=None)) == [
        "give at least one of decidedOn, announcedOn, effectiveOn, reportedOn"
    ]


def test_a_treaty_action_needs_a_treaty() -> None:
    assert messages(decision(action="RATIFY")) == ["treaty: required for the treaty action RATIFY"]


def test_unknown_fields_and_bad_dates_are_all_reported_at_once() -> None:
    assert messages(decision(colour="red", decidedOn="2024-02-30")) == [
        "decidedOn: '2024-02-30' is not a valid calendar date",
        "colour: unknown field",
    ]


def test_nul_bytes_and_lone_surrogates_are_refused() -> None:
    assert messages(decision(headline="a\x00b")) == ["headline: must not contain NUL characters"]
    [surrogate] = messages(decision(headline="a\ud800b"))
    assert surrogate.startswith("headline: ") and "unicode" in surrogate


def test_an_unknown_operation_is_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_input("deleteDecision", {})
    assert "unknown operation 'deleteDecision'" in str(caught.value)


def test_observation_values_must_stay_exact() -> None:
    data = {
        "id": "o",
        "indicator": "x",
        "scope": "WORLD",
        "period": "2023",
        "value": 2**60,
        "sources": [{"publisher": "p"}],
    }
    assert messages(data, "recordObservation") == [
        "value: must be at most 2^53 in magnitude to stay exact"
    ]
