"""docs/reliability.md: its outage example is what a server answers while PostgreSQL is cut off."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from api.http.app import create_app
from tests.conftest import migrated
from tests.graphql_support import running
from tests.reliability.support import Proxy, reset_postgres

pytestmark = pytest.mark.reliability

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def test_the_documented_outage_answer_is_what_the_server_says(pg_url: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    query = re.search(r"A query such as `([^`]+)`", text)
    example = re.search(r"```json\n(.*?)```", text, re.S)
    assert query and example
    reset_postgres(pg_url)
    target = make_url(pg_url)
    proxy = Proxy((target.host or "127.0.0.1", target.port or 5432))
    store = migrated(proxy.url_for(pg_url))
    try:
        with running(create_app(store)) as url, httpx.Client(base_url=url) as client:
            proxy.cut()
            response = client.post("/graphql", json={"query": query.group(1)})
    finally:
        proxy.close()
        store.close()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == json.loads(example.group(1))
