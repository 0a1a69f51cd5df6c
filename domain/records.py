"""The base of every recorded thing: a slug id, sources, and idempotent recording."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import Conflict

NAMESPACE = uuid5(NAMESPACE_URL, "https://policy-timeline.org/records")


def record_uuid(kind: str, slug: str) -> UUID:
    """The aggregate id of the record of `kind` with client id `slug` (stable forever)."""
    return uuid5(NAMESPACE, f"{kind}:{slug}")


def content_hash(content: dict[str, Any]) -> str:
    """A stable digest of JSON content, for idempotency checks."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Record(Aggregate):
    """A recorded thing with a client-chosen slug; recording it again is a no-op."""

    KIND = "record"
    slug: str
    content: dict[str, Any]

    @classmethod
    def uuid_for(cls, slug: str) -> UUID:
        return record_uuid(cls.KIND, slug)

    def check_same_content(self, content: dict[str, Any]) -> None:
        """Raise Conflict unless `content` is exactly what was first recorded."""
        if content_hash(content) != content_hash(self.content):
            raise Conflict(
                self.KIND,
                self.slug,
                "to change it, record a correction instead"
                if self.KIND == "decision"
                else "records are immutable; choose a new id",
            )


class Treaty(Record):
    """An arms-control treaty and the weapon categories it prohibits."""

    KIND = "treaty"

    @staticmethod
    def create_id(slug: str, content: dict[str, Any], key_id: str | None) -> UUID:
        return record_uuid("treaty", slug)

    class Recorded(Aggregate.Created):
        slug: str
        content: dict[str, Any]
        key_id: str | None

    def __init__(self, slug: str, content: dict[str, Any], key_id: str | None) -> None:
        self.slug, self.content, self.key_id = slug, content, key_id

    @property
    def prohibits(self) -> list[str]:
        return list(self.content.get("prohibits", []))


class Weapon(Record):
    """A weapon system (`atacms`) and its category."""

    KIND = "weapon"

    @staticmethod
    def create_id(slug: str, content: dict[str, Any], key_id: str | None) -> UUID:
        return record_uuid("weapon", slug)

    class Recorded(Aggregate.Created):
        slug: str
        content: dict[str, Any]
        key_id: str | None

    def __init__(self, slug: str, content: dict[str, Any], key_id: str | None) -> None:
        self.slug, self.content, self.key_id = slug, content, key_id

    @property
    def category(self) -> str:
        return str(self.content["category"])


class Statement(Record):
    """A reaction to a decision: who said what, with which stance."""

    KIND = "statement"

    @staticmethod
    def create_id(slug: str, content: dict[str, Any], key_id: str | None) -> UUID:
        return record_uuid("statement", slug)

    class Recorded(Aggregate.Created):
        slug: str
        content: dict[str, Any]
        key_id: str | None

    def __init__(self, slug: str, content: dict[str, Any], key_id: str | None) -> None:
        self.slug, self.content, self.key_id = slug, content, key_id


class Observation(Record):
    """A value of an indicator for a scope and period, as one source gives it."""

    KIND = "observation"

    @staticmethod
    def create_id(slug: str, content: dict[str, Any], key_id: str | None) -> UUID:
        return record_uuid("observation", slug)

    class Recorded(Aggregate.Created):
        slug: str
        content: dict[str, Any]
        key_id: str | None

    def __init__(self, slug: str, content: dict[str, Any], key_id: str | None) -> None:
        self.slug, self.content, self.key_id = slug, content, key_id
