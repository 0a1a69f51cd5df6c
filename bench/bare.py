"""The HTTP throughput baseline: one bare Starlette route running the countryTimeline SQL.

No GraphQL, no validation beyond the cursor, no middleware: the SQL our `countryTimeline`
resolver runs (`ReadModel.timeline("country", ...)`, current rows, retracted ones left out,
keyset pagination on (earliest, first_position)), through a SQLAlchemy connection pool,
answered with orjson in the shape of the GraphQL connection. Run it with
`python -m bench.bare --db URL --port N` (one uvicorn worker, like `serve`).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
from typing import Any

import orjson
from sqlalchemy import Date, Engine, bindparam, create_engine, event, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from projections.eventlog import durability
from projections.eventlog.recorder import ping_when_rested, pool_options

PATH = "/bench/timeline"
_SELECT = (
    "SELECT pt_timeline.doc, pt_timeline.earliest, pt_timeline.first_position FROM pt_timeline"
    ' WHERE pt_timeline.kind = :kind AND pt_timeline."key" = :key'
    " AND pt_timeline.valid_to IS NULL AND pt_timeline.status != :status"
)
_ORDER = " ORDER BY pt_timeline.earliest, pt_timeline.first_position LIMIT :limit"
FIRST_PAGE = text(_SELECT + _ORDER)
NEXT_PAGE = text(
    _SELECT
    + " AND (pt_timeline.earliest, pt_timeline.first_position) > (:after_earliest, :after_position)"
    + _ORDER
).bindparams(bindparam("after_earliest", type_=Date))


DECISION_PATH = "/bench/decision"
TREATY_PATH = "/bench/treaty"
DECISION = text("SELECT doc, status FROM pt_decisions WHERE decision_id = :id AND valid_to IS NULL")
_RELATED = (
    "SELECT d.decision_id, d.status, d.doc FROM pt_relations r JOIN pt_decisions d"
    " ON d.decision_id = r.{other} AND d.valid_to IS NULL"
    " WHERE r.{this} = :id AND r.relation = 'reverses' AND r.valid_to IS NULL"
    " ORDER BY d.decision_id"
)
REVERSES = text(_RELATED.format(this="source_id", other="target_id"))
REVERSED_BY = text(_RELATED.format(this="target_id", other="source_id"))
HISTORY = text(
    "SELECT position, event_type, recorded_at FROM pt_history WHERE decision_id = :id"
    " ORDER BY position"
)
TREATY = text("SELECT doc FROM pt_records WHERE kind = 'treaty' AND record_id = :id")
PARTIES = text(
    "SELECT country, status, since FROM pt_standing WHERE treaty_id = :id AND valid_to IS NULL"
    " AND starts_on <= :day AND (ends_on IS NULL OR ends_on > :day)"
    " AND status IN ('PARTY', 'WITHDRAWAL_NOTIFIED', 'OBLIGATIONS_SUSPENDED') ORDER BY country"
).bindparams(bindparam("day", type_=Date))


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _cursor(earliest: Any, position: int) -> str:
    """The same opaque cursor the GraphQL API hands out (`queries.encode_cursor`)."""
    day = earliest if isinstance(earliest, str) else earliest.isoformat()
    raw = orjson.dumps(["t1", day, int(position)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.date, int]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    tag, earliest, position = orjson.loads(raw)
    if tag != "t1" or not isinstance(position, int):
        raise ValueError(cursor)
    return dt.date.fromisoformat(earliest), position


def _engine(db_url: str) -> Engine:
    """A pooled engine with the settings `Store` gives its own (pool sizes, SQLite pragmas)."""
    engine = create_engine(db_url, **pool_options(db_url))
    ping_when_rested(engine)  # the liveness policy of ours, so each does the same round trips
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            durability.tune_sqlite_connection(dbapi_connection)

    return engine


def create_bare_app(db_url: str) -> Starlette:
    """GET /bench/timeline?country=XXX&first=50[&after=CURSOR], /bench/decision?id=ID,
    /bench/treaty?id=ID, and GET /healthz."""
    engine = _engine(db_url)

    async def timeline(request: Request) -> Response:
        params = request.query_params
        try:
            first = int(params.get("first", "50"))
            key = params["country"]
            after = params.get("after")
            position = _decode(after) if after else None
        except (KeyError, ValueError, TypeError, binascii.Error):
            return _json({"error": "bad request"}, 400)
        if not 0 <= first <= 100:
            return _json({"error": "first must be between 0 and 100"}, 400)
        bound = {"kind": "country", "key": key, "status": "RETRACTED", "limit": first + 1}
        query = FIRST_PAGE
        if position is not None:
            bound["after_earliest"], bound["after_position"] = position
            query = NEXT_PAGE
        # Blocking, like our resolvers: one worker, one database call at a time, no thread hop.
        with engine.connect() as conn:
            rows = conn.execute(query, bound).all()
        visible = rows[:first]
        cursors = [_cursor(r[1], r[2]) for r in visible]
        return _json(
            {
                "edges": [
                    {"cursor": c, "node": orjson.loads(r[0])}
                    for c, r in zip(cursors, visible, strict=True)
                ],
                "pageInfo": {
                    "hasNextPage": len(rows) > first,
                    "endCursor": cursors[-1] if cursors else None,
                },
            }
        )

    async def decision(request: Request) -> Response:
        """A decision's document, the decisions it reverses and that reverse it (id, status,
        headline) and its history steps: what the bench's decision query asks of ours."""
        ident = request.query_params.get("id")
        if not ident:
            return _json({"error": "bad request"}, 400)
        with engine.connect() as conn:
            found = conn.execute(DECISION, {"id": ident}).first()
            if found is None:
                return _json({"decision": None})
            related = {
                name: [
                    {
                        "id": r[0],
                        "status": r[1],
                        "headline": orjson.loads(r[2])["fields"]["headline"],
                    }
                    for r in conn.execute(query, {"id": ident})
                ]
                for name, query in (("reverses", REVERSES), ("reversedBy", REVERSED_BY))
            }
            history = [
                {"position": int(r[0]), "eventType": r[1], "recordedAt": r[2]}
                for r in conn.execute(HISTORY, {"id": ident})
            ]
        version = orjson.loads(found[0])  # the stored version: fields, weapons, meta
        doc = {"id": ident, **version["fields"], "weapons": version["weapons"]}
        doc.update(status=found[1], **version["meta"], **related, history=history)
        return _json({"decision": doc})

    async def treaty(request: Request) -> Response:
        """A treaty's document and the states bound by it today, by country."""
        ident = request.query_params.get("id")
        if not ident:
            return _json({"error": "bad request"}, 400)
        with engine.connect() as conn:
            found = conn.execute(TREATY, {"id": ident}).first()
            if found is None:
                return _json({"error": "unknown treaty"}, 404)
            parties = [
                {"country": r[0], "status": r[1], "since": r[2]}
                for r in conn.execute(PARTIES, {"id": ident, "day": dt.date.today()})
            ]
        return _json({"treaty": {**orjson.loads(found[0]), "parties": parties}})

    async def healthz(_: Request) -> Response:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return _json({"ok": True})

    return Starlette(
        routes=[
            Route(PATH, timeline),
            Route(DECISION_PATH, decision),
            Route(TREATY_PATH, treaty),
            Route("/healthz", healthz),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    app = create_bare_app(args.db)
    # The same uvicorn settings as `policy-timeline serve`.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
