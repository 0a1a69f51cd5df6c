"""The schema as an artifact: docs/schema.graphql matches the code and keeps the contract."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLInputObjectType,
    build_schema,
    find_breaking_changes,
    get_nullable_type,
    is_non_null_type,
)
from pydantic.alias_generators import to_camel

from api.graphql.build import schema_sdl
from domain.commands import INPUTS

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


def test_each_mutation_input_has_exactly_its_commands_fields_and_requirements() -> None:
    # GraphQL and import lines accept the same fields: the inputs are made from the commands.
    schema = build_schema(schema_sdl())
    mutation = schema.mutation_type
    assert mutation is not None
    for op, command in INPUTS.items():
        given = get_nullable_type(mutation.fields[op].args["input"].type)
        assert isinstance(given, GraphQLInputObjectType)
        fields = {to_camel(name): info for name, info in command.model_fields.items()}
        assert set(given.fields) == set(fields), op
        for name, field in given.fields.items():
            assert is_non_null_type(field.type) == fields[name].is_required(), f"{op}.{name}"
