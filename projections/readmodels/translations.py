"""Translations in the read model: each record's text per language, and what went stale.

A record's row for one language merges every translation recorded for it (a later one
replaces the fields it gives). A correction of a translated field of the original leaves
the translation standing and lists the field under `stale` until a new translation gives it.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, insert, select, update

from domain.decision import Decision
from domain.records import record_uuid
from domain.values import TRANSLATABLE, RecordKind
from projections.readmodels import tables
from projections.readmodels.documents import TranslationDoc
from projections.readmodels.projector import Applied

t = tables.translations

# Built once: a reused statement memoizes its cache key.
_CURRENT = select(t.c.doc).where(
    t.c.kind == bindparam("k"),
    t.c.record_id == bindparam("r"),
    t.c.lang == bindparam("l"),
    t.c.valid_to.is_(None),
)
_OF_STREAM = select(t.c.kind, t.c.record_id, t.c.lang, t.c.doc).where(
    t.c.stream_id == bindparam("stream"), t.c.valid_to.is_(None)
)
_TRANSLATED = select(t.c.stream_id).where(
    t.c.stream_id.in_(bindparam("streams", expanding=True)), t.c.valid_to.is_(None)
)
_CLOSE = (
    update(t)
    .where(
        t.c.kind == bindparam("k"),
        t.c.record_id == bindparam("r"),
        t.c.lang == bindparam("l"),
        t.c.valid_to.is_(None),
    )
    .values(valid_to=bindparam("p"))
)


def _dumps(doc: Any) -> str:
    return orjson.dumps(doc).decode()


class Translations:
    """Writes translation rows; rows are few, so they are written at once, not deferred."""

    def __init__(self) -> None:
        self._translated: set[str] = set()
        """Streams of this batch's corrected decisions that have translations."""

    def begin(self, conn: Connection, items: list[Applied]) -> None:
        """Learn in one query which decisions corrected in this batch have translations."""
        corrected = {
            str(i.event.originator_id) for i in items if isinstance(i.event, Decision.Corrected)
        }
        self._translated = set()
        if corrected:
            rows = conn.execute(_TRANSLATED, {"streams": sorted(corrected)})
            self._translated = {str(r.stream_id) for r in rows}

    def recorded(self, conn: Connection, item: Applied) -> dict[str, Any]:
        """Merge a translation into its record's row for that language; returns the input."""
        content: dict[str, Any] = item.event.content
        kind = RecordKind(content["kind"])
        key = {"k": kind.kind, "r": content["record"], "l": content["lang"]}
        previous = conn.execute(_CURRENT, key).scalar()
        doc: TranslationDoc = (
            orjson.loads(previous)
            if previous is not None
            else {
                "kind": kind.value,
                "record": content["record"],
                "lang": content["lang"],
                "fields": {},
                "translatedAt": {},
                "stale": [],
                "sources": [],
                "ids": [],
                "position": item.position,
                "recordedAt": item.recorded_at,
            }
        )
        if previous is not None:
            conn.execute(_CLOSE, {**key, "p": item.position})
        given = {name: content[name] for name in TRANSLATABLE[kind] if name in content}
        doc["fields"] = {**doc["fields"], **given}
        doc["translatedAt"] = {**doc["translatedAt"], **dict.fromkeys(given, item.position)}
        doc["stale"] = [name for name in doc["stale"] if name not in given]
        sources = list(content.get("sources", []))
        doc["sources"] = sources + [s for s in doc["sources"] if s not in sources]
        doc["ids"] = [*doc["ids"], content["id"]]
        doc["position"], doc["recordedAt"] = item.position, item.recorded_at
        stream = str(record_uuid(kind.kind, content["record"]))
        self._write(conn, key, stream, item.position, doc)
        self._translated.add(stream)
        return content

    def corrected(self, conn: Connection, item: Applied, changed: set[str]) -> None:
        """Mark the translated fields a correction changed as stale, in every language."""
        stream = str(item.event.originator_id)
        if not changed or stream not in self._translated:
            return
        originals = TRANSLATABLE[RecordKind.DECISION]
        for row in conn.execute(_OF_STREAM, {"stream": stream}).all():
            doc: TranslationDoc = orjson.loads(row.doc)
            newly = {n for n in doc["fields"] if originals[n] in changed} - set(doc["stale"])
            if not newly:
                continue
            key = {"k": row.kind, "r": row.record_id, "l": row.lang}
            conn.execute(_CLOSE, {**key, "p": item.position})
            doc["stale"] = sorted({*doc["stale"], *newly})
            self._write(conn, key, stream, item.position, doc)

    @staticmethod
    def _write(
        conn: Connection, key: dict[str, str], stream: str, position: int, doc: TranslationDoc
    ) -> None:
        conn.execute(
            insert(t).values(
                kind=key["k"],
                record_id=key["r"],
                lang=key["l"],
                stream_id=stream,
                valid_from=position,
                valid_to=None,
                doc=_dumps(doc),
            )
        )
