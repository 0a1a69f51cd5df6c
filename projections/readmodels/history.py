"""The history projection: one `pt_history` row per step of a decision's life.

Recorded, corrected, retracted and translated: each step is a row at its log position. The
rows were written by the timelines projection up to its version 4; a projection of their own
lets a rebuild on two processes write them in the second one (`parallel`), beside the treaty
membership, so that the two processes carry about equal work.

A correction or a retraction names its decision's stream, not its id: the id is read from
the decision rows the timelines projection wrote (it runs first), once per batch."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from domain.commands import TRANSLATED_FIELDS
from domain.decision import Decision
from domain.translation import Translation
from projections.eventlog.bulk import insert_rows
from projections.readmodels import tables
from projections.readmodels.documents import HistoryDetails
from projections.readmodels.projector import Applied, Handler, Projection
from projections.readmodels.timelines import dumps

IN_CHUNK = 500
"""Streams per IN list, well under every backend's limit of bound parameters."""

_D = tables.decisions
# Every version of a decision carries its id: any one of them names it.
_IDS = (
    select(_D.c.stream_id, _D.c.decision_id)
    .where(_D.c.stream_id.in_(bindparam("streams", expanding=True)))
    .distinct()
)
_HELD = "policy_timeline.history.batch"


class HistoryProjection(Projection):
    """Each decision's steps: recorded, corrected, retracted, translated."""

    name = "history"
    version = 1
    writes = (tables.history,)

    def handlers(self) -> dict[type, Handler]:
        return {
            Decision.Recorded: self.decision_recorded,
            Decision.Corrected: self.decision_corrected,
            Decision.Retracted: self.decision_retracted,
            Translation.Recorded: self.translation_recorded,
        }

    def begin(self, conn: Connection, items: list[Applied]) -> None:
        """Learn the ids of the batch's corrected and retracted decisions in one read."""
        ids: dict[str, str] = {}
        wanted: set[str] = set()
        for item in items:
            event = item.event
            if isinstance(event, Decision.Recorded):
                ids[str(event.originator_id)] = event.slug
            elif isinstance(event, Decision.Corrected | Decision.Retracted):
                wanted.add(str(event.originator_id))
        streams = sorted(wanted - ids.keys())
        for start in range(0, len(streams), IN_CHUNK):
            chunk = streams[start : start + IN_CHUNK]
            ids.update(
                (str(r.stream_id), str(r.decision_id))
                for r in conn.execute(_IDS, {"streams": chunk})
            )
        conn.info[_HELD] = (ids, [])

    def flush(self, conn: Connection) -> None:
        held = conn.info.pop(_HELD, None)
        if held is not None and held[1]:
            insert_rows(conn, tables.history, held[1])

    def decision_recorded(self, conn: Connection, item: Applied) -> None:
        self._write(conn, item.event.slug, item, "Recorded", None, None)

    def decision_corrected(self, conn: Connection, item: Applied) -> None:
        event = item.event
        doc = dumps({"changes": event.changes, "sources": event.sources})
        self._write(conn, self._id(conn, item), item, "Corrected", event.reason, doc)

    def decision_retracted(self, conn: Connection, item: Applied) -> None:
        event = item.event
        doc = dumps({"changes": None, "sources": event.sources})
        self._write(conn, self._id(conn, item), item, "Retracted", event.reason, doc)

    def translation_recorded(self, conn: Connection, item: Applied) -> None:
        content: dict[str, Any] = item.event.content
        if content["kind"] != "DECISION":
            return
        details: HistoryDetails = {
            "changes": None,  # the original's text is untouched
            "sources": content["sources"],
            "translation": content["id"],
            "lang": content["lang"],
            "texts": {k: v for k, v in content.items() if k in TRANSLATED_FIELDS},
        }
        self._write(conn, content["record"], item, "Translated", None, dumps(details))

    @staticmethod
    def _id(conn: Connection, item: Applied) -> str:
        ids: dict[str, str] = conn.info[_HELD][0]
        return ids[str(item.event.originator_id)]

    @staticmethod
    def _write(
        conn: Connection,
        slug: str,
        item: Applied,
        kind: str,
        reason: str | None,
        doc: str | None,
    ) -> None:
        rows: list[dict[str, Any]] = conn.info[_HELD][1]
        rows.append(
            {
                "decision_id": slug,
                "position": item.position,
                "event_type": kind,
                "recorded_at": item.recorded_at,
                "reason": reason,
                "key_id": item.event.key_id,
                "doc": doc,
            }
        )
