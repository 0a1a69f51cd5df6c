"""Builds the schema with the extensions a public deployment needs."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from api.graphql.schema import Mutation, Query, Subscription


def build_schema(*, production: bool = False) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True),
    )


def schema_sdl() -> str:
    """The schema as SDL, as exported to docs/schema.graphql."""
    return build_schema().as_str() + "\n"
