"""The embed routes read the database in worker threads, never on the event loop: one slow
query (a 1,000-entry TimelineJS document, a view on a busy store) must not stall every other
reader the process serves."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from api.http.app import create_app
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import seed_lines
from tests.embed_support import BASE

URLS = [
    "/embed/timeline?country=UKR",
    "/embed/timeline?country=UKR&lang=fr&asOf=3",
    "/embed/timeline?system=atacms",
    "/timelinejs.json?country=UKR&lang=uk",
    f"/oembed?url={BASE}/embed/timeline%3Fcountry%3DUKR",
    f"/oembed?url={BASE}/embed/timeline%3Fsystem%3Datacms",
]


@pytest.mark.parametrize("url", URLS)
def test_an_embed_route_answers_without_reading_the_database_on_the_event_loop(
    store: Store, url: str
) -> None:
    import_lines(store, seed_lines())
    app = create_app(store)
    threads: list[int] = []

    def seen(*_: Any) -> None:
        threads.append(threading.get_ident())

    for engine in {store.engine, store.read_engine}:
        event.listen(engine, "before_cursor_execute", seen)

    async def get() -> tuple[int, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return threading.get_ident(), await client.get(url)

    loop, response = asyncio.run(get())
    assert response.status_code == 200, response.text
    assert threads, "the route read the database"
    assert loop not in threads
