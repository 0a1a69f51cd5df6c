"""Translations of recorded text, and text fields that take `(lang:)`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.errors import coded
from api.graphql.sources import Source, parse_datetime, sources_of
from domain.commands import check_lang
from domain.values import ORIGINAL_LANG, TRANSLATABLE, RecordKind
from projections.readmodels.documents import TranslationDoc


@strawberry.type(description="A record's text in one language, merged from its translations.")
class Translation:
    lang: str
    headline: str | None
    summary: str | None
    scope: str | None
    name: str | None
    short_name: str | None
    label: str | None = strawberry.field(
        description="An observation's label (what the figure counts), in this language."
    )
    quote: str | None = strawberry.field(
        description="A statement's quote in this language: a translation, not the words said."
    )
    note: str | None = strawberry.field(description="An observation's note, in this language.")
    unit: str | None = strawberry.field(description="An observation's unit, in this language.")
    sources: list[Source] = strawberry.field(description="Who translated it, and from where.")
    stale: bool = strawberry.field(
        description="True when the original was corrected after some field here was translated."
    )
    stale_fields: list[str] = strawberry.field(
        description="The fields whose original text was corrected after they were translated."
    )
    kind: RecordKind
    record: strawberry.ID
    position: int = strawberry.field(description="Log position of the latest translation.")
    recorded_at: dt.datetime

    @classmethod
    def of(cls, doc: TranslationDoc) -> Translation:
        fields = doc["fields"]
        return cls(
            lang=doc["lang"],
            headline=fields.get("headline"),
            summary=fields.get("summary"),
            scope=fields.get("scope"),
            name=fields.get("name"),
            short_name=fields.get("shortName"),
            label=fields.get("label"),
            quote=fields.get("quote"),
            note=fields.get("note"),
            unit=fields.get("unit"),
            sources=sources_of(doc["sources"]),
            stale=bool(doc["stale"]),
            stale_fields=list(doc["stale"]),
            kind=RecordKind(doc["kind"]),
            record=strawberry.ID(doc["record"]),
            position=doc["position"],
            recorded_at=parse_datetime(doc["recordedAt"]),
        )


def wanted_lang(lang: str | None) -> str:
    """The language a `(lang:)` argument asks for; BAD_USER_INPUT naming the argument."""
    if lang is None:
        return ORIGINAL_LANG
    try:
        return check_lang(lang)
    except ValueError as exc:
        raise coded(f"lang: {exc}", "BAD_USER_INPUT") from None


async def translations_of(
    info: Info[Context, None], kind: RecordKind, record: str, as_of: int | None
) -> list[TranslationDoc]:
    """The record's translation documents (one per language), batched per request."""
    return await info.context.loaders.translations(kind).load((record, as_of))


def in_lang(
    info: Info[Context, None],
    kind: RecordKind,
    record: str,
    as_of: int | None,
    field: str,
    original: str | None,
    lang: str | None,
) -> Any:
    """The field in `lang` when a translation gives it, else the original text.

    The original is returned as is, not awaited: most reads ask for it, and a plain value
    costs the executor less than a coroutine."""
    want = wanted_lang(lang)
    if want == ORIGINAL_LANG or original is None:
        return original
    assert field in TRANSLATABLE[kind]
    return _translated(info, kind, record, as_of, field, original, want)


async def _translated(
    info: Info[Context, None],
    kind: RecordKind,
    record: str,
    as_of: int | None,
    field: str,
    original: str,
    lang: str,
) -> str:
    for doc in await translations_of(info, kind, record, as_of):
        if doc["lang"] == lang:
            return str(doc["fields"].get(field, original))
    return original


async def translations_field(
    info: Info[Context, None], kind: RecordKind, record: str, as_of: int | None
) -> list[Translation]:
    """Every language a record is translated into, as the `translations` field shows them."""
    return [Translation.of(doc) for doc in await translations_of(info, kind, record, as_of)]


def _timeline_text(attr: str, field: str) -> Callable[..., Any]:
    """A plain graphql-core resolver of a timeline entry's text field with `(lang:)`."""

    def resolve(source: Any, info: Any, lang: str | None = None) -> Any:
        original = getattr(source, attr)
        if lang is None:
            return original
        record = str(source.decision_id)
        return in_lang(info, RecordKind.DECISION, record, source.as_of, field, original, lang)

    return resolve


def plain_timeline_resolvers(schema: GraphQLSchema) -> None:
    """Resolve TimelineEntry's headline and scope without Strawberry's resolver wrapper.

    A page has up to 100 entries: the wrapper (arguments, Info) cost about a third of a page
    of headlines, while most requests ask for the original text, a plain attribute."""
    entry = schema.type_map["TimelineEntry"]
    assert isinstance(entry, GraphQLObjectType)
    entry.fields["headline"].resolve = _timeline_text("original_headline", "headline")
    entry.fields["scope"].resolve = _timeline_text("original_scope", "scope")
