"""A translation of a record's text into another language, by whom and from where."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.records import Record, record_uuid


class Translation(Record):
    """Text of one record in one language; the original stays the reference."""

    KIND = "translation"

    @staticmethod
    def create_id(slug: str, content: dict[str, Any], key_id: str | None) -> UUID:
        return record_uuid("translation", slug)

    class Recorded(Aggregate.Created):
        """The text of a record was translated (`content` is the translateRecord input)."""

        slug: str
        content: dict[str, Any]
        key_id: str | None

    def __init__(self, slug: str, content: dict[str, Any], key_id: str | None) -> None:
        self.slug, self.content, self.key_id = slug, content, key_id
