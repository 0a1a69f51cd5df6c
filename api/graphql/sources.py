"""Where a record's facts come from (`Source`), shared by every type that cites one; and the
one timestamp parser the types use."""

from __future__ import annotations

import datetime as dt

import strawberry

from projections.readmodels import documents


def parse_datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@strawberry.type
class Source:
    publisher: str
    title: str | None = None
    url: str | None = None
    published_on: str | None = None
    quote: str | None = strawberry.field(
        default=None, description="the source's own words, verbatim; a paraphrase is never a quote"
    )
    retrieved_on: str | None = None
    archive_url: str | None = strawberry.field(
        default=None, description="an archived copy of the page (e.g. the Wayback Machine)"
    )

    @classmethod
    def of(cls, doc: documents.SourceDoc) -> Source:
        return cls(
            publisher=doc["publisher"],
            title=doc.get("title"),
            url=doc.get("url"),
            published_on=doc.get("publishedOn"),
            quote=doc.get("quote"),
            retrieved_on=doc.get("retrievedOn"),
            archive_url=doc.get("archiveUrl"),
        )


def sources_of(docs: list[documents.SourceDoc] | None) -> list[Source]:
    return [Source.of(d) for d in docs or []]
