"""Weapon categories beyond the controlled list, added by recording a weapon."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.records import Record, record_uuid


class Category(Record):
    """A weapon category that a recorded weapon introduced."""

    KIND = "category"

    @staticmethod
    def create_id(slug: str, introduced_by: str) -> UUID:
        return record_uuid("category", slug)

    class Added(Aggregate.Created):
        slug: str
        introduced_by: str

    def __init__(self, slug: str, introduced_by: str) -> None:
        self.slug = slug
        self.introduced_by = introduced_by
        self.content: dict[str, Any] = {"id": slug, "introducedBy": introduced_by}
