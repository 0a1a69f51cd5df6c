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
from projections.eventlog.recorder import pool_options

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
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            durability.tune_sqlite_connection(dbapi_connection)

    return engine


def create_bare_app(db_url: str) -> Starlette:
    """GET /bench/timeline?country=XXX&first=50[&after=CURSOR], and GET /healthz."""
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

    async def healthz(_: Request) -> Response:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return _json({"ok": True})

    return Starlette(routes=[Route(PATH, timeline), Route("/healthz", healthz)])


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
