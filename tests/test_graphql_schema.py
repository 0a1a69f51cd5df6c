"""The schema as an artifact: docs/schema.graphql matches the code and keeps the contract."""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema, find_breaking_changes

from api.graphql.build import schema_sdl

ROOT = Path(__file__).resolve().parent.parent
EXPORTED = ROOT / "docs" / "schema.graphql"
MINIMUM = Path(__file__).resolve().parent / "minimum_schema.graphql"


def test_the_committed_schema_matches_the_code() -> None:
    assert EXPORTED.read_text(encoding="utf-8") == schema_sdl(), (
        "docs/schema.graphql is out of date: run "
        "`python -m api.graphql.build > docs/schema.graphql` and commit it"
    )


def test_the_schema_has_no_breaking_change_against_the_minimum_contract() -> None:
    changes = find_breaking_changes(build_schema(MINIMUM.read_text()), build_schema(schema_sdl()))
    assert [f"{c.type.name}: {c.description}" for c in changes] == []
